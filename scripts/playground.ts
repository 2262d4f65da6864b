// `npm run playground`: bundle playground/ with esbuild into build/playground/ and serve it on
// 127.0.0.1 (node:http, static files only). The core imports a few node built-ins (node:fs in the
// wasm loader and viz, node:module for gpu.js, …): the bundle swaps them for browser shims
// (playground/shims/), and the TSGRAD_* environment variables read at load become undefined.
//   tsx scripts/playground.ts [--port 8000] [--build-only]
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AddressInfo } from 'node:net';
import * as esbuild from 'esbuild';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const PLAYGROUND_OUT = path.join(ROOT, 'build', 'playground');

const nodeShims: esbuild.Plugin = {
  name: 'node-shims',
  setup(build) {
    build.onResolve({ filter: /^node:/ }, (args) => ({
      path: path.join(ROOT, 'playground', 'shims', args.path === 'node:module' ? 'module.ts' : 'node.ts'),
    }));
  },
};

/** Bundle the page into build/playground/ (index.html, main.js, main.js.map); returns the folder. */
export async function buildPlayground({ minify = true } = {}): Promise<string> {
  fs.mkdirSync(PLAYGROUND_OUT, { recursive: true });
  await esbuild.build({
    entryPoints: [path.join(ROOT, 'playground', 'main.ts')],
    outfile: path.join(PLAYGROUND_OUT, 'main.js'),
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    minify,
    sourcemap: true,
    plugins: [nodeShims],
    define: {
      'process.env.TSGRAD_BACKEND': 'undefined',
      'process.env.TSGRAD_WASM_SIMD': 'undefined',
      'process.env.TSGRAD_WASM_THREADS': 'undefined',
      'process.env.TSGRAD_THREADS': 'undefined',
      'process.env.TSGRAD_POOL': 'undefined', // src/tensor/pool.ts
      'process.env.TSGRAD_RESIDENT_MB': 'undefined', // src/tensor/kernels/wasm/resident.ts
    },
    logLevel: 'warning',
  });
  fs.copyFileSync(path.join(ROOT, 'playground', 'index.html'), path.join(PLAYGROUND_OUT, 'index.html'));
  return PLAYGROUND_OUT;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.map': 'application/json', '.css': 'text/css', '.svg': 'image/svg+xml',
};

/** Serve `dir` read-only on host:port (port 0: a free one). */
export function serveStatic(dir: string, port: number, host = '127.0.0.1'): Promise<{ server: http.Server; url: string }> {
  const server = http.createServer((req, res) => {
    const pathname = decodeURIComponent(new URL(req.url ?? '/', 'http://localhost').pathname);
    const file = path.join(dir, pathname.endsWith('/') ? `${pathname}index.html` : pathname);
    const ok = (req.method === 'GET' || req.method === 'HEAD') && file.startsWith(dir + path.sep) && fs.existsSync(file) && fs.statSync(file).isFile();
    if (!ok) {
      res.writeHead(req.method === 'GET' || req.method === 'HEAD' ? 404 : 405, { 'Content-Type': 'text/plain' });
      res.end('not found\n');
      return;
    }
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] ?? 'application/octet-stream', 'Cache-Control': 'no-cache' });
    if (req.method === 'HEAD') res.end();
    else fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve({ server, url: `http://${host}:${(server.address() as AddressInfo).port}/` }));
  });
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--port');
  const port = at >= 0 ? Number(args[at + 1]) : 8000;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be an integer in [0, 65535] (got ${args[at + 1]})`);
  const t0 = performance.now();
  const dir = await buildPlayground();
  const size = fs.statSync(path.join(dir, 'main.js')).size;
  console.log(`built ${path.relative(ROOT, dir)}/ (main.js ${(size / 1e6).toFixed(2)} MB) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  if (!args.includes('--build-only')) {
    const { url } = await serveStatic(dir, port);
    console.log(`playground: ${url}  (Ctrl-C to stop)`);
  }
}
