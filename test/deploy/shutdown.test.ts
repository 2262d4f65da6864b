// Graceful shutdown of `tsgrad serve` under load: 30 requests whose bytes have all been sent when
// SIGTERM comes are every one answered (200, or 503 once the drain deadline has passed), none
// reset, and the process exits 0. Real concurrent connections on 127.0.0.1 to a spawned server.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { gptCheckpoint, tempDir } from './fixtures.js';

/** `tsgrad serve` as a child process (bounded heap), once it prints its address. */
async function spawnServe(args: string[]) {
  const child = spawn(process.execPath, ['--max-old-space-size=512', '--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--quiet', ...args], { env: { ...process.env, NODE_OPTIONS: '' } });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const t0 = Date.now();
  while (!/listening on http:\/\/[^:]+:(\d+)/.test(out)) {
    if (Date.now() - t0 > 30_000 || child.exitCode !== null) throw new Error(`serve did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { port: Number(/listening on http:\/\/[^:]+:(\d+)/.exec(out)![1]), child, exited, out: () => out };
}

type Outcome = { status: number; body: string } | { error: string };

/** Open a connection, send the whole POST, and resolve with the reply or the socket error (ECONNRESET…). */
function sendPost(port: number, body: unknown, sent: () => void): Promise<Outcome> {
  const text = JSON.stringify(body);
  return new Promise((resolve) => {
    let raw = '';
    const socket = net.connect(port, '127.0.0.1', () => {
      socket.write(`POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\n\r\n${text}`, () => sent());
    });
    socket.setEncoding('utf8');
    socket.on('data', (d) => (raw += d));
    socket.on('error', (e: NodeJS.ErrnoException) => resolve({ error: e.code ?? e.message }));
    socket.on('close', () => {
      const status = Number(/^HTTP\/1\.1 (\d+)/.exec(raw)?.[1]);
      resolve(Number.isFinite(status) ? { status, body: raw.slice(raw.indexOf('\r\n\r\n') + 4) } : { error: 'closed without a reply' });
    });
  });
}

/** 30 POSTs at once; SIGTERM as soon as every one has been written; the outcomes and the exit code. */
async function burstThenSigterm(args: string[], maxNewTokens: number) {
  const serve = await spawnServe(args);
  let written = 0;
  let signal!: () => void;
  const allWritten = new Promise<void>((resolve) => (signal = resolve));
  const outcomes = Array.from({ length: 30 }, (_, seed) => sendPost(serve.port, { prompt: 'The whale', maxNewTokens, seed }, () => ++written === 30 && signal()));
  await allWritten;
  serve.child.kill('SIGTERM');
  const results = await Promise.all(outcomes);
  return { results, code: await serve.exited, out: serve.out() };
}

const tally = (results: Outcome[]) => {
  const count: Record<string, number> = {};
  for (const r of results) count['status' in r ? String(r.status) : r.error] = (count['status' in r ? String(r.status) : r.error] ?? 0) + 1;
  return count;
};

describe('deploy: graceful shutdown under load', function () {
  this.timeout(60_000);
  const work = tempDir('shutdown');
  const gptDir = gptCheckpoint(path.join(work, 'gpt'));
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('SIGTERM after 30 requests were sent: every one answered 200, none reset, exit 0', async () => {
    const t0 = performance.now();
    const { results, code, out } = await burstThenSigterm(['--checkpoint', gptDir, '--max-new-tokens', '4000'], 120);
    console.log(`      30 requests, SIGTERM once all were sent: ${JSON.stringify(tally(results))}, exit ${code}, ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    expect(tally(results), out).to.deep.equal({ 200: 30 });
    expect(code).to.equal(0);
  });

  it('past the drain deadline the requests still waiting get 503 (shutting down); none reset, exit 0', async () => {
    const { results, code, out } = await burstThenSigterm(['--checkpoint', gptDir, '--max-new-tokens', '4000', '--drain-timeout', '0.3'], 400);
    const count = tally(results);
    console.log(`      30 slow requests, 0.3 s drain: ${JSON.stringify(count)}, exit ${code}`);
    expect(Object.keys(count).sort(), out).to.deep.equal(['200', '503']);
    expect(count[503]).to.be.above(10);
    const refused = results.find((r) => 'status' in r && r.status === 503) as { body: string };
    expect(JSON.parse(refused.body).error).to.match(/shutting down/);
    expect(code).to.equal(0);
  });
});
