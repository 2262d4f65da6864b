// The inference server (D28: serving through an API), on node:http: JSON in, JSON out.
//   GET  /health        {status, task, queue}
//   GET  /v1/model      task, architecture, parameter count, config.json, labels, quantization
//   POST /v1/generate   {prompt, maxNewTokens, temperature, topK, seed} → {completion, …}   (lm)
//   POST /v1/classify   {texts} → {results: [{label, score, probabilities}]}                (classify)
// Every request is checked before it reaches the model (./validate.ts): body size, JSON, types,
// ranges, unknown fields → 4xx {error}. Model work is synchronous, so it is serialised through a
// bounded FIFO (./queue.ts): a full queue answers 503 at once, nobody starves. shutdown() stops
// accepting, answers every request whose bytes have arrived (503 for those still waiting at the
// drain deadline), then closes. node:http, not a framework: five routes and
// JSON bodies need no more, and it keeps the package free of a dependency.
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomInt } from 'node:crypto';
import { GPT, BertForSequenceClassification } from '../models/index.js';
import type { WordPieceTokenizer } from '../data/tokenizers/index.js';
import { readModelConfig } from '../train/model-files.js';
import type { LoadedQuantized } from './quantized.js';
import { WorkQueue, QueueFullError } from './queue.js';
import { HttpError, DEFAULT_LIMITS, parseGenerate, parseClassify, type Limits } from './validate.js';
import { generate, classify, encodePrompt } from './inference.js';
import { showValue } from '../io/show.js';

export interface ServerOptions {
  /** Requests that may wait behind the running one (default 64); more get 503. */
  maxQueue?: number;
  limits?: Partial<Limits>;
  /** BERT: tokens per text (default the run's block size, else 128). */
  maxLength?: number;
  /** One line per request (method, path, status, milliseconds); default none. */
  log?: (line: string) => void;
  /** How long shutdown() waits for open connections after the last answer (default 10 s). */
  closeGraceMs?: number;
  /** How long shutdown() keeps answering; past it, requests still waiting get 503 (default 30 s). */
  drainMs?: number;
  /** Open connections at most (default 256); node closes the ones past it as soon as they are accepted. */
  maxConnections?: number;
}

export interface InferenceServer {
  server: http.Server;
  queue: WorkQueue;
  /** Start listening (port 0: a free one); resolves to the address. */
  listen(port: number, host?: string): Promise<{ url: string; port: number; host: string }>;
  /** Stop accepting, answer every request that has arrived (503 past the drain deadline), close the connections. */
  shutdown(): Promise<void>;
}

type Json = Record<string, unknown>;

function send(res: http.ServerResponse, status: number, body: Json, headers: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', ...headers });
  res.end(text);
}

/**
 * The body as text, or a 413 as soon as it is known to be larger than `limit` bytes: from the
 * Content-Length header before any of it is read, else when the bytes read pass the limit. The
 * request is never destroyed here: the 413 is written first, then node closes the connection
 * (Connection: close), so the client reads the reply instead of a reset.
 */
function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? NaN);
    if (declared > limit) return reject(new HttpError(413, `the body is larger than the limit of ${limit} bytes (Content-Length: ${declared})`, { Connection: 'close' }));
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return; // already refused: the rest is dropped as it comes
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        chunks.length = 0;
        reject(new HttpError(413, `the body is larger than the limit of ${limit} bytes`, { Connection: 'close' }));
      }
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
    req.on('close', () => reject(new HttpError(400, 'the request was aborted')));
  });
}

async function readJson(req: http.IncomingMessage, limit: number): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/json\s*(;|$)/i.test(type)) throw new HttpError(415, `Content-Type must be application/json (got ${type})`);
  const text = await readBody(req, limit);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `the body is not valid JSON (${(e as Error).message})`);
  }
}

const pause = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
/** At least ms, and one poll of the event loop for sure (a timer alone may fire with no I/O read since the last one). */
const turn = (ms: number) => new Promise<void>((resolve) => setTimeout(() => setImmediate(resolve), ms));

const ROUTES: Record<string, string> = { '/health': 'GET', '/v1/model': 'GET', '/v1/generate': 'POST', '/v1/classify': 'POST' };

export function createInferenceServer(ck: LoadedQuantized, opts: ServerOptions = {}): InferenceServer {
  const { model, tokenizer, task } = ck;
  if (!(task === 'lm' && model instanceof GPT) && !(task === 'classify' && model instanceof BertForSequenceClassification)) {
    throw new Error(`serve: ${ck.dir} holds a ${task} model (${model.constructor.name}); serve answers language models (POST /v1/generate) and text classifiers (POST /v1/classify)`);
  }
  const limits: Limits = { ...DEFAULT_LIMITS, ...opts.limits };
  const queue = new WorkQueue(opts.maxQueue ?? 64);
  const config = readModelConfig(ck.dir);
  const runOptions = (ck.state?.options ?? {}) as { blockSize?: unknown };
  if (runOptions.blockSize !== undefined && !(Number.isInteger(runOptions.blockSize) && (runOptions.blockSize as number) > 0)) {
    throw new Error(`serve: ${ck.dir}/trainer_state.json: field 'options.blockSize' must be a positive integer (got ${showValue(runOptions.blockSize)})`);
  }
  const maxLength = model instanceof BertForSequenceClassification
    ? Math.min(opts.maxLength ?? (runOptions.blockSize as number | undefined) ?? 128, model.config.maxPositionEmbeddings)
    : model.config.nPositions;
  const info = {
    task,
    architecture: model.constructor.name,
    parameters: model.numParameters(),
    quantization: ck.quantization ? { method: ck.quantization.quant_method, bits: 8, weights: ck.quantization.weights.length, embeddings: ck.quantization.embeddings } : null,
    labels: ck.labelNames ?? null,
    tokenizer: { type: tokenizer!.type, vocabSize: tokenizer!.vocabSize },
    maxLength,
    limits,
    checkpoint: { dir: ck.dir, step: ck.state?.step ?? null },
    config,
  };
  let closing = false; // shutdown() has begun: every answer closes its connection
  let drainExpired = false; // the drain deadline has passed: what has not run yet gets 503
  let closed: Promise<void> | null = null;
  let accepted = 0; // connections accepted so far
  let received = 0; // requests whose headers have been read, so far
  let inFlight = 0; // of those, the ones not answered yet
  const shuttingDown = () => new HttpError(503, 'the server is shutting down', { 'Retry-After': '1' });
  /** While shutting down, every answer closes its connection, so that none lingers idle. */
  const reply = (res: http.ServerResponse, status: number, body: Json, headers: Record<string, string> = {}) =>
    send(res, status, body, closing ? { ...headers, Connection: 'close' } : headers);

  /** cancelled(): the client has gone, so a queued job for it is dropped. */
  async function route(req: http.IncomingMessage, res: http.ServerResponse, cancelled: () => boolean): Promise<void> {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    const method = ROUTES[pathname];
    if (!method) throw new HttpError(404, `no route ${pathname} (routes: ${Object.entries(ROUTES).map(([p, m]) => `${m} ${p}`).join(', ')})`);
    if (req.method !== method) throw new HttpError(405, `${pathname} accepts ${method}, not ${req.method}`, { Allow: method });
    if (drainExpired) throw shuttingDown();
    // a load balancer reads 503 as "send no more here"; the requests already sent are still answered
    if (pathname === '/health') return reply(res, closing ? 503 : 200, { status: closing ? 'shutting down' : 'ok', task, queue: { waiting: queue.waiting, busy: queue.busy, max: queue.maxWaiting } });
    if (pathname === '/v1/model') return reply(res, 200, info);

    if (pathname === '/v1/generate') {
      if (!(model instanceof GPT)) throw new HttpError(404, 'this server has a text classifier: POST /v1/classify');
      const p = parseGenerate(await readJson(req, limits.maxBodyBytes), limits, model.config.vocabSize);
      try {
        encodePrompt(tokenizer!, p.prompt); // a prompt the tokenizer cannot write is the client's error, found before queueing
      } catch (e) {
        throw new HttpError(400, (e as Error).message);
      }
      const seed = p.seed ?? randomInt(0, 2 ** 32);
      if (drainExpired) throw shuttingDown();
      const { value, timing } = await queue.push(() => generate(model, tokenizer!, { ...p, seed }), cancelled);
      return reply(res, 200, { ...value, seed, maxNewTokens: p.maxNewTokens, temperature: p.temperature, topK: p.topK, timing: round(timing) });
    }
    if (!(model instanceof BertForSequenceClassification)) throw new HttpError(404, 'this server has a language model: POST /v1/generate');
    const { texts } = parseClassify(await readJson(req, limits.maxBodyBytes), limits);
    if (drainExpired) throw shuttingDown();
    const labels = ck.labelNames ?? Array.from({ length: model.numLabels }, (_, i) => String(i));
    const { value, timing } = await queue.push(() => classify(model, tokenizer as WordPieceTokenizer, labels, texts, maxLength), cancelled);
    return reply(res, 200, { results: value, timing: round(timing) });
  }

  const server = http.createServer((req, res) => {
    const t0 = performance.now();
    let clientGone = false;
    received++;
    inFlight++;
    res.on('close', () => {
      inFlight--;
      clientGone ||= !res.writableFinished;
      opts.log?.(`${req.method} ${req.url} ${clientGone ? 'client gone' : res.statusCode} ${(performance.now() - t0).toFixed(1)}ms`);
    });
    route(req, res, () => clientGone).catch((e: unknown) => {
      if (e instanceof HttpError) return reply(res, e.status, { error: e.message }, e.headers);
      if (e instanceof QueueFullError) return reply(res, 503, { error: e.message }, { 'Retry-After': '1' });
      if (clientGone) return; // nobody to answer
      opts.log?.(`error: ${(e as Error)?.stack ?? String(e)}`);
      reply(res, 500, { error: `internal error: ${(e as Error)?.message ?? String(e)}` });
    });
  });
  server.on('connection', () => accepted++);
  server.maxConnections = opts.maxConnections ?? 256; // each half-sent request holds a socket and its buffers for up to requestTimeout
  server.requestTimeout = 30_000; // a client must send its whole request within 30 s
  server.headersTimeout = 10_000;

  return {
    server,
    queue,
    listen(port, host = '127.0.0.1') {
      return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, host, () => {
          server.off('error', reject);
          const a = server.address() as AddressInfo;
          const shown = a.family === 'IPv6' ? `[${a.address}]` : a.address;
          resolve({ url: `http://${shown}:${a.port}`, port: a.port, host: a.address });
        });
      });
    },
    shutdown() {
      if (closed) return closed;
      closing = true;
      closed = (async () => {
        let expire!: NodeJS.Timeout;
        const deadline = new Promise<void>((resolve) => {
          expire = setTimeout(() => {
            drainExpired = true;
            queue.rejectWaiting(shuttingDown());
            resolve();
          }, opts.drainMs ?? 30_000);
        });
        // While the model runs, connections the kernel has completed wait in the listen backlog,
        // their requests unread; closing the listener (or calling them idle) would reset them. So
        // keep accepting and reading until a pause brings no new connection and no new request.
        for (let seen = -1, read = -1, turns = 0; (seen !== accepted || read !== received) && turns < 200; turns++) {
          [seen, read] = [accepted, received];
          await turn(10);
        }
        const allClosed = new Promise<void>((resolve) => server.close(() => resolve())); // also closes the idle connections
        const answered = (async () => {
          await queue.drained();
          while (inFlight > 0) {
            await pause(10);
            await queue.drained();
          }
        })();
        await Promise.race([answered, deadline]);
        clearTimeout(expire);
        server.closeIdleConnections();
        const force = setTimeout(() => server.closeAllConnections(), opts.closeGraceMs ?? 10_000);
        force.unref();
        await allClosed;
        clearTimeout(force);
      })();
      return closed;
    },
  };
}

const round = (t: { queueMs: number; runMs: number }) => ({ queueMs: Math.round(t.queueMs * 10) / 10, runMs: Math.round(t.runMs * 10) / 10 });
