// `tsgrad serve`: answer HTTP requests with a trained (or quantized) checkpoint (D28, serving
// through an API). Binds 127.0.0.1 unless told otherwise; SIGTERM or Ctrl-C stops accepting,
// answers every request already sent (503 for those still waiting after --drain-timeout), and exits 0.
import type { Command } from 'commander';
import { loadAnyCheckpoint } from '../deploy/quantized.js';
import { verifyCheckpoint } from '../train/checkpoint.js';
import { createInferenceServer } from '../deploy/server.js';
import { DEFAULT_LIMITS } from '../deploy/validate.js';
import { nonNegative, nonNegativeInt, positiveInt } from './options.js';

export interface ServeFlags {
  checkpoint: string;
  port?: string;
  host?: string;
  maxQueue?: string;
  maxNewTokens?: string;
  maxBodyBytes?: string;
  drainTimeout?: string;
  maxConnections?: string;
  quiet?: boolean;
}

export function registerServe(program: Command): void {
  program.command('serve')
    .description('serve a checkpoint over HTTP: POST /v1/generate (lm) or /v1/classify (classify), GET /health, GET /v1/model')
    .requiredOption('--checkpoint <dir>', 'a run folder (its newest checkpoint), a checkpoint folder, or a quantized one')
    .option('--port <n>', 'TCP port (default 8080; 0: any free port)')
    .option('--host <address>', 'address to bind (default 127.0.0.1: this machine only)')
    .option('--max-queue <n>', 'requests that may wait for the model before 503 (default 64)')
    .option('--max-new-tokens <n>', `cap on maxNewTokens per request (default ${DEFAULT_LIMITS.maxNewTokens})`)
    .option('--max-body-bytes <n>', `largest request body (default ${DEFAULT_LIMITS.maxBodyBytes})`)
    .option('--drain-timeout <seconds>', 'on SIGTERM, how long to keep answering the requests already sent; then 503 for those still waiting (default 30)')
    .option('--max-connections <n>', 'open connections at most; more are closed at once (default 256)')
    .option('--quiet', 'no line per request')
    .addHelpText('after', `
Examples:
  $ tsgrad serve --checkpoint runs/gpt-baby-moby-dick --port 8080
  $ curl -s localhost:8080/v1/generate -H 'Content-Type: application/json' \\
      -d '{"prompt": "The whale", "maxNewTokens": 50, "temperature": 0.8, "topK": 40, "seed": 7}'
  $ tsgrad serve --checkpoint runs/bert-tiny-spam
  $ curl -s localhost:8080/v1/classify -H 'Content-Type: application/json' -d '{"texts": ["win money now", "lunch at noon?"]}'`)
    .action(async (flags: ServeFlags) => serveCommand(flags));
}

export async function serveCommand(f: ServeFlags): Promise<void> {
  const port = f.port !== undefined ? nonNegativeInt('port', f.port) : 8080;
  if (port > 65535) throw new Error(`--port must be at most 65535 (got ${port})`);
  const limits = {
    ...(f.maxNewTokens !== undefined ? { maxNewTokens: positiveInt('max-new-tokens', f.maxNewTokens) } : {}),
    ...(f.maxBodyBytes !== undefined ? { maxBodyBytes: positiveInt('max-body-bytes', f.maxBodyBytes) } : {}),
  };
  verifyCheckpoint(f.checkpoint); // manifest.json checksums, float or int8
  const drainMs = f.drainTimeout !== undefined ? nonNegative('drain-timeout', f.drainTimeout) * 1000 : undefined;
  const ck = await loadAnyCheckpoint(f.checkpoint);
  const log = f.quiet ? undefined : (line: string) => process.stdout.write(`${new Date().toISOString()} ${line}\n`);
  const app = createInferenceServer(ck, { maxQueue: f.maxQueue !== undefined ? nonNegativeInt('max-queue', f.maxQueue) : undefined, limits, log, drainMs,
    maxConnections: f.maxConnections !== undefined ? positiveInt('max-connections', f.maxConnections) : undefined });
  const host = f.host ?? '127.0.0.1';
  const { url } = await app.listen(port, host);
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) process.stdout.write(`note: bound to ${host}: anyone who can reach this machine on port ${new URL(url).port} can use the model (there is no authentication)\n`);
  const kind = ck.quantization ? 'int8' : 'float32';
  const route = ck.task === 'lm' ? 'POST /v1/generate' : 'POST /v1/classify';
  // the tests read this line for the port: keep its shape
  process.stdout.write(`tsgrad serve · ${ck.task} model (${ck.model.constructor.name}, ${kind}) from ${ck.dir}\nlistening on ${url}  (${route}, GET /v1/model, GET /health; Ctrl-C or SIGTERM to stop)\n`);

  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.stdout.write(`${signal}: no new requests; finishing the ${app.queue.waiting} waiting in the queue…\n`);
      process.off('SIGTERM', stop).off('SIGINT', stop);
      app.shutdown().then(() => {
        process.stdout.write('stopped\n');
        resolve();
      });
    };
    process.on('SIGTERM', stop).on('SIGINT', stop);
  });
}
