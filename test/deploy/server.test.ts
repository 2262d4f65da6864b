// The inference server (D28): a burst of 200 requests, 16 at a time, all answered (p50/p99
// printed); bad requests of every kind get a 4xx without disturbing good ones sent at the same
// time; seeded generation is reproducible and leaves the global random stream alone; a full
// queue answers 503; the classifier endpoint; SIGTERM finishes accepted requests and exits 0.
import { expect } from 'chai';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import * as tg from '../../src/index.js';
import { loadAnyCheckpoint, quantizeCheckpoint } from '../../src/deploy/quantized.js';
import { createInferenceServer, type InferenceServer } from '../../src/deploy/server.js';
import { WorkQueue, QueueFullError } from '../../src/deploy/queue.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { gptCheckpoint, bertCheckpoint, tempDir, SPAM, HAM } from './fixtures.js';

interface Reply {
  status: number;
  body: any;
  headers: http.IncomingHttpHeaders;
}

/**
 * One request on a connection of its own (node:http, no agent): requests sent together really
 * are concurrent, whatever a pooling client would do with them.
 */
function call(url: string, init: { method?: string; body?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  const headers = init.body !== undefined ? { 'Content-Type': 'application/json', ...init.headers } : init.headers;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? (init.body !== undefined ? 'POST' : 'GET'), headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode!, body: JSON.parse(text), headers: res.headers }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

/** POST `body` as JSON on an open socket (HTTP/1.1, Connection: close); the reply parsed. */
function rawPost(socket: net.Socket, path: string, body: unknown): Promise<Reply> {
  const text = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    let raw = '';
    socket.setEncoding('utf8');
    socket.on('data', (d) => (raw += d));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head, payload] = raw.split('\r\n\r\n');
      const [statusLine, ...lines] = head.split('\r\n');
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
      resolve({ status: Number(statusLine.split(' ')[1]), body: JSON.parse(payload), headers });
    });
    socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(text)}\r\nConnection: close\r\n\r\n${text}`);
  });
}

const post = (url: string, body: unknown) => call(url, { body: JSON.stringify(body) });

/** `tsgrad serve … --port 0 --quiet` as a child process, once it prints its address. */
async function spawnServe(args: string[]): Promise<{ url: string; child: ChildProcessWithoutNullStreams; exited: Promise<number | null>; out: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', ...args, '--port', '0'], { env: { ...process.env, NODE_OPTIONS: '' } });
  let out = '', err = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  const t0 = Date.now();
  while (!/listening on (http:\/\/\S+)/.test(out)) {
    if (Date.now() - t0 > 30_000 || child.exitCode !== null) throw new Error(`serve did not start: ${out}${err}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  return { url: /listening on (http:\/\/\S+)/.exec(out)![1], child, exited, out: () => out };
}

const quantile = (sorted: number[], q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];

describe('deploy: the inference server', function () {
  this.timeout(120_000);
  const work = tempDir('serve');
  const gptDir = gptCheckpoint(path.join(work, 'gpt'));
  let app: InferenceServer;
  let url = '';

  before(async () => {
    quantizeCheckpoint(await loadCheckpoint(gptDir), path.join(work, 'gpt-int8'));
    app = createInferenceServer(await loadAnyCheckpoint(path.join(work, 'gpt-int8')), { limits: { maxNewTokens: 64 } });
    url = (await app.listen(0)).url;
  });
  after(async () => {
    await app?.shutdown();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('binds 127.0.0.1 and answers GET /health and GET /v1/model', async () => {
    expect(url).to.match(/^http:\/\/127\.0\.0\.1:\d+$/);
    const health = await call(`${url}/health`);
    expect(health.status).to.equal(200);
    expect(health.body).to.deep.include({ status: 'ok', task: 'lm' });
    const model = await call(`${url}/v1/model`);
    expect(model.body.task).to.equal('lm');
    expect(model.body.architecture).to.equal('GPT');
    expect(model.body.parameters).to.be.a('number').above(20_000);
    expect(model.body.quantization).to.deep.include({ method: 'tsgrad-int8', bits: 8 });
    expect(model.body.config.model_type).to.equal('gpt2');
  });

  it('a burst of 200 requests, 16 at a time: every one answered 200 (p50/p99 printed)', async () => {
    const latencies: number[] = [];
    const statuses: number[] = [];
    let next = 0;
    const worker = async () => {
      while (next < 200) {
        const i = next++;
        const t0 = performance.now();
        const r = i % 10 === 9 ? await call(`${url}/health`) : await post(`${url}/v1/generate`, { prompt: 'The whale', maxNewTokens: 8, seed: i });
        latencies.push(performance.now() - t0);
        statuses.push(r.status);
      }
    };
    const t0 = performance.now();
    await Promise.all(Array.from({ length: 16 }, worker));
    const seconds = (performance.now() - t0) / 1000;
    latencies.sort((a, b) => a - b);
    console.log(`      200 requests (180 generate × 8 tokens, 20 health), 16 concurrent: p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms, ${(200 / seconds).toFixed(0)} requests/s`);
    expect(statuses.filter((s) => s !== 200)).to.deep.equal([]);
  });

  it('malformed, mistyped, out-of-range and oversized requests get a 4xx {error} while good ones sent alongside succeed', async () => {
    const bad: [string, Promise<Reply>, number, RegExp][] = [
      ['malformed JSON', call(`${url}/v1/generate`, { body: '{"prompt": "The' }), 400, /not valid JSON/],
      ['not an object', call(`${url}/v1/generate`, { body: '[1, 2]' }), 400, /must be a JSON object/],
      ['no prompt', post(`${url}/v1/generate`, { maxNewTokens: 4 }), 400, /prompt is required/],
      ['prompt not a string', post(`${url}/v1/generate`, { prompt: 42 }), 400, /prompt must be a string \(got 42\)/],
      ['empty prompt', post(`${url}/v1/generate`, { prompt: '' }), 400, /prompt must be a string of 1 to/],
      ['a character the model never saw', post(`${url}/v1/generate`, { prompt: 'Zürich' }), 400, /prompt: .*not in the fitted text/],
      ['maxNewTokens too large', post(`${url}/v1/generate`, { prompt: 'The', maxNewTokens: 65 }), 400, /maxNewTokens must be an integer in \[0, 64\]/],
      ['maxNewTokens fractional', post(`${url}/v1/generate`, { prompt: 'The', maxNewTokens: 2.5 }), 400, /maxNewTokens must be an integer/],
      ['temperature negative', post(`${url}/v1/generate`, { prompt: 'The', temperature: -1 }), 400, /temperature must be a number in \[0, 100\]/],
      ['topK zero', post(`${url}/v1/generate`, { prompt: 'The', topK: 0 }), 400, /topK must be an integer in \[1, \d+\] or null \(got 0\)/],
      ['seed a string', post(`${url}/v1/generate`, { prompt: 'The', seed: '7' }), 400, /seed must be an integer/],
      ['unknown field', post(`${url}/v1/generate`, { prompt: 'The', max_tokens: 5 }), 400, /unknown field 'max_tokens'/],
      ['oversized body', call(`${url}/v1/generate`, { body: JSON.stringify({ prompt: 'a'.repeat(70_000) }) }), 413, /larger than the limit of 65536 bytes/],
      ['wrong content type', call(`${url}/v1/generate`, { body: '{"prompt":"The"}', headers: { 'Content-Type': 'text/plain' } }), 415, /Content-Type must be application\/json/],
      ['wrong method', call(`${url}/v1/generate`), 405, /accepts POST, not GET/],
      ['unknown route', call(`${url}/v2/anything`), 404, /no route \/v2\/anything/],
      ['classify on an lm server', post(`${url}/v1/classify`, { texts: ['hi'] }), 404, /has a language model: POST \/v1\/generate/],
    ];
    const good = Array.from({ length: 8 }, (_, i) => post(`${url}/v1/generate`, { prompt: 'The sea', maxNewTokens: 4, seed: i }));
    for (const [what, reply, status, message] of bad) {
      const r = await reply;
      expect(r.status, what).to.equal(status);
      expect(r.body.error, what).to.match(message);
    }
    for (const r of await Promise.all(good)) expect(r.status).to.equal(200);
    expect((await call(`${url}/health`)).status).to.equal(200);
  });

  it('seeded generation is reproducible per request and leaves the global random stream where it was', async () => {
    const request = { prompt: 'The whale', maxNewTokens: 20, temperature: 1.2, topK: 10, seed: 1234 };
    tg.manualSeed(99);
    const before = tg.getRngState();
    const a = await post(`${url}/v1/generate`, request);
    await post(`${url}/v1/generate`, { ...request, seed: 5 });
    const b = await post(`${url}/v1/generate`, request);
    expect(a.status).to.equal(200);
    expect(a.body.completion).to.be.a('string').with.length.above(0);
    expect(b.body.completion).to.equal(a.body.completion);
    expect(a.body).to.deep.include({ seed: 1234, promptTokens: 9, generatedTokens: 20, topK: 10 });
    expect(tg.getRngState()).to.deep.equal(before);
    const unseeded = await post(`${url}/v1/generate`, { prompt: 'The', maxNewTokens: 3 });
    expect(unseeded.body.seed).to.be.a('number'); // drawn by the server and returned, so it can be replayed
    const replay = await post(`${url}/v1/generate`, { prompt: 'The', maxNewTokens: 3, seed: unseeded.body.seed });
    expect(replay.body.completion).to.equal(unseeded.body.completion);
    const greedy = await post(`${url}/v1/generate`, { prompt: 'The', maxNewTokens: 6, temperature: 0, seed: 1 });
    expect((await post(`${url}/v1/generate`, { prompt: 'The', maxNewTokens: 6, temperature: 0, seed: 2 })).body.completion).to.equal(greedy.body.completion);
  });

  it('a full queue answers 503 at once with Retry-After; the accepted requests still succeed', async () => {
    // a server of its own process, so that it is busy while this one sends
    const serve = await spawnServe(['--checkpoint', gptDir, '--max-queue', '1', '--max-new-tokens', '4000']);
    try {
      // six connections opened (and accepted) while the server is idle, so that the requests sent
      // on them later arrive together; node accepts new connections one per turn of its loop
      const { port } = new URL(serve.url);
      const sockets = await Promise.all(Array.from({ length: 6 }, () => new Promise<net.Socket>((resolve, reject) => {
        const socket = net.connect(Number(port), '127.0.0.1', () => resolve(socket));
        socket.on('error', reject);
      })));
      await new Promise((r) => setTimeout(r, 200));
      // a long request occupies the model; the six arrive meanwhile: one may wait, five are turned away
      const long = post(`${serve.url}/v1/generate`, { prompt: 'The whale', maxNewTokens: 3000, seed: 0 });
      await new Promise((r) => setTimeout(r, 300));
      const replies = await Promise.all([long, ...sockets.map((socket, i) => rawPost(socket, '/v1/generate', { prompt: 'The sea', maxNewTokens: 10, seed: i }))]);
      const statuses = replies.map((r) => r.status);
      expect(statuses[0]).to.equal(200);
      expect(statuses.slice().sort(), String(statuses)).to.deep.equal([200, 200, 503, 503, 503, 503, 503]);
      const busy = replies.find((r) => r.status === 503)!;
      expect(busy.body.error).to.match(/busy: 1 requests are already waiting/);
      expect(busy.headers['retry-after']).to.equal('1');
    } finally {
      serve.child.kill('SIGTERM');
      expect(await serve.exited).to.equal(0);
    }
  });

  it('a classifier: POST /v1/classify gives a label and probabilities per text; texts are checked', async () => {
    const dir = bertCheckpoint(path.join(work, 'bert'));
    const clf = createInferenceServer(await loadAnyCheckpoint(dir), { limits: { maxTexts: 8 } });
    const { url: clfUrl } = await clf.listen(0);
    try {
      const r = await post(`${clfUrl}/v1/classify`, { texts: [...SPAM.slice(0, 2), ...HAM.slice(0, 2)] });
      expect(r.status).to.equal(200);
      expect(r.body.results).to.have.length(4);
      for (const x of r.body.results) {
        expect(['0', '1']).to.include(x.label);
        expect(x.probabilities['0'] + x.probabilities['1']).to.be.closeTo(1, 1e-5);
        expect(x.score).to.equal(x.probabilities[x.label]);
      }
      expect((await post(`${clfUrl}/v1/classify`, { texts: [] })).body.error).to.match(/texts must be a list of 1 to 8 strings/);
      expect((await post(`${clfUrl}/v1/classify`, { texts: ['a', 3] })).body.error).to.match(/texts must be a list of strings/);
      expect((await post(`${clfUrl}/v1/classify`, { texts: Array(9).fill('a') })).status).to.equal(400);
      expect((await post(`${clfUrl}/v1/generate`, { prompt: 'a' })).status).to.equal(404);
    } finally {
      await clf.shutdown();
    }
  });

  it('the queue: first in, first out; a cancelled job is dropped; a full list throws', async () => {
    const q = new WorkQueue(3);
    const order: number[] = [];
    const jobs = [q.push(() => order.push(1)), q.push(() => order.push(2), () => true), q.push(() => order.push(3))];
    let full: unknown;
    await q.push(() => 0).catch((e) => (full = e));
    expect(full).to.be.instanceOf(QueueFullError);
    const settled = await Promise.allSettled(jobs);
    expect(order).to.deep.equal([1, 3]);
    expect(settled.map((s) => s.status)).to.deep.equal(['fulfilled', 'rejected', 'fulfilled']);
    await q.drained();
  });

  it('SIGTERM: stops accepting, answers the requests already accepted, and exits 0', async () => {
    const serve = await spawnServe(['--checkpoint', gptDir, '--max-new-tokens', '4000']);
    // two slow requests: the first is running and the second waiting when the signal comes
    const inFlight = [0, 1].map((seed) => post(`${serve.url}/v1/generate`, { prompt: 'The whale', maxNewTokens: 1500, seed }));
    await new Promise((r) => setTimeout(r, 300));
    serve.child.kill('SIGTERM');
    const replies = await Promise.all(inFlight);
    expect(replies.map((r) => r.status)).to.deep.equal([200, 200]);
    expect(replies[0].body.generatedTokens).to.equal(1500);
    expect(await serve.exited).to.equal(0);
    expect(serve.out()).to.match(/SIGTERM: no new requests/);
    expect(serve.out()).to.match(/stopped/);
    let refused = '';
    await call(`${serve.url}/health`).catch((e: NodeJS.ErrnoException) => (refused = e.code ?? e.message));
    expect(refused).to.equal('ECONNREFUSED');
  });
});
