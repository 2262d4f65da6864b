// The server's HTTP limits against hostile clients: a body over the limit gets its 413 (never a
// reset before the reply), a Content-Length over the limit is answered from the header at once,
// and open connections are capped (half-sent requests cannot pile up without bound).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { loadAnyCheckpoint } from '../../src/deploy/quantized.js';
import { createInferenceServer, type InferenceServer } from '../../src/deploy/server.js';
import { gptCheckpoint, tempDir } from './fixtures.js';

/** POST `size` bytes to /v1/generate with node's client (Content-Length, or chunked); the status or the socket error. */
function postBytes(port: number, size: number, chunked: boolean): Promise<string> {
  return new Promise((resolve) => {
    const body = Buffer.alloc(size, 0x61);
    const headers = { 'Content-Type': 'application/json', ...(chunked ? {} : { 'Content-Length': String(size) }) };
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/v1/generate', headers, agent: false }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve(`${res.statusCode} ${JSON.parse(text).error}`));
      res.on('error', () => resolve(`${res.statusCode}`)); // the reply came; a reset after it does not matter
    });
    req.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? e.message));
    if (chunked) for (let at = 0; at < size; at += 64 * 1024) req.write(body.subarray(at, at + 64 * 1024));
    req.end(chunked ? undefined : body);
  });
}

/** Write `head` on a new connection; what came back within `ms` ('' for nothing) and after how long, and whether the server closed it. */
function rawExchange(port: number, head: string, ms: number): Promise<{ reply: string; replyMs: number; closed: boolean; socket: net.Socket }> {
  return new Promise((resolve) => {
    let reply = '', closed = false, replyMs = NaN;
    const t0 = performance.now();
    const socket = net.connect(port, '127.0.0.1', () => socket.write(head));
    socket.setEncoding('utf8');
    socket.on('data', (d) => {
      if (reply === '') replyMs = performance.now() - t0;
      reply += d;
    });
    socket.on('error', () => (closed = true));
    socket.on('close', () => (closed = true));
    setTimeout(() => resolve({ reply, replyMs, closed, socket }), ms);
  });
}

describe('deploy: HTTP limits against hostile clients', function () {
  this.timeout(30_000);
  const work = tempDir('http-limits');
  const gptDir = gptCheckpoint(path.join(work, 'gpt'));
  let app: InferenceServer;
  let port = 0;
  before(async () => {
    app = createInferenceServer(await loadAnyCheckpoint(gptDir), { maxConnections: 8 });
    port = (await app.listen(0)).port;
  });
  after(async () => {
    await app?.shutdown();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('a body over the limit gets 413, not a reset: 2 MB with Content-Length, 3 MB chunked', async () => {
    const replies = [await postBytes(port, 2_000_000, false), await postBytes(port, 3_000_000, true), await postBytes(port, 70_000, true)];
    expect(replies[0]).to.equal('413 the body is larger than the limit of 65536 bytes (Content-Length: 2000000)');
    for (const r of replies.slice(1)) expect(r).to.equal('413 the body is larger than the limit of 65536 bytes');
  });

  it('a Content-Length over the limit is answered 413 from the header, without waiting for the body', async () => {
    const { reply, replyMs, socket } = await rawExchange(port, 'POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n{"prompt": "The', 1000);
    socket.destroy();
    expect(reply).to.match(/^HTTP\/1\.1 413 /);
    expect(reply).to.match(/larger than the limit of 65536 bytes \(Content-Length: 1000000000\)/);
    console.log(`      413 from the header after ${replyMs.toFixed(0)} ms`);
  });

  it('a value nested 10^4 deep or a number that overflows a double gets a 400 that shows it (was a 500 stack overflow, and "got null")', async () => {
    const deep = `{"prompt": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`;
    const send = (body: string) => rawExchange(port, `POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`, 500);
    const answers = [await send(deep), await send('{"prompt": "The", "maxNewTokens": 1e400}')];
    const errors = answers.map(({ reply }) => [reply.split(' ')[1], JSON.parse(reply.slice(reply.indexOf('\r\n\r\n') + 4)).error]);
    expect(errors).to.deep.equal([
      ['400', 'prompt must be a string (got [[[[…]]]])'],
      ['400', 'maxNewTokens must be an integer (got Infinity (a number too large for a double))'],
    ]);
  });

  it('open connections are capped: past maxConnections a new one is closed at once; freed slots serve again', async () => {
    const half = 'POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 40\r\n\r\n{"prompt"';
    const held = await Promise.all(Array.from({ length: 8 }, () => rawExchange(port, half, 200)));
    const full = 'POST /v1/generate HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 17\r\nConnection: close\r\n\r\n{"prompt": "The"}';
    try {
      expect(held.every((h) => !h.closed)).to.equal(true);
      const extra = await rawExchange(port, full, 500);
      expect(extra.reply).to.equal('');
      expect(extra.closed).to.equal(true);
    } finally {
      for (const h of held) h.socket.destroy();
    }
    await new Promise((r) => setTimeout(r, 100));
    const again = await rawExchange(port, full, 1000);
    expect(again.reply).to.match(/^HTTP\/1\.1 200 /);
  });
});
