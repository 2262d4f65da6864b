// TSGRAD_THREADS=1|2|auto: what is decided and why (backendInfo), the per-machine calibration
// cache, and that one and two threads train a GPT whose matmuls are split to the same losses.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

function child(code: string, env: Record<string, string>): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    env: { ...process.env, TSGRAD_THREADS: '', TSGRAD_WASM_THREADS: '', ...env }, encoding: 'utf8', timeout: 120_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const INFO = `import * as tg from './src/index.ts'; console.log(JSON.stringify(tg.backendInfo().threads));`;

describe('wasm threads (TSGRAD_THREADS, in child processes)', function () {
  this.timeout(240_000);
  const cacheDir = mkdtempSync(join(tmpdir(), 'tsgrad-cache-'));
  after(() => rmSync(cacheDir, { recursive: true, force: true }));

  it('1 and 2 are taken as asked, and backendInfo says so', () => {
    const one = JSON.parse(child(INFO, { TSGRAD_THREADS: '1' }).stdout);
    expect(one).to.deep.equal({ threads: 1, reason: 'TSGRAD_THREADS=1' });
    const two = JSON.parse(child(INFO, { TSGRAD_THREADS: '2' }).stdout);
    expect(two).to.deep.equal({ threads: 2, reason: 'TSGRAD_THREADS=2' });
  });

  it('auto measures once per machine, caches the answer, and the next process reads it', () => {
    const first = JSON.parse(child(INFO, { TSGRAD_CACHE_DIR: cacheDir }).stdout);
    expect([1, 2]).to.include(first.threads);
    expect(first.reason).to.match(/^auto: a 320³ matmul took [\d.]+ ms on 1 thread, [\d.]+ ms on 2: [\d.]+× with 2 threads \(measured now, cached in /);
    const cache = JSON.parse(readFileSync(join(cacheDir, 'threads.json'), 'utf8'));
    expect(Object.values(cache)).to.have.length(1);
    const second = JSON.parse(child(INFO, { TSGRAD_CACHE_DIR: cacheDir }).stdout);
    expect(second.threads).to.equal(first.threads);
    expect(second.reason).to.match(/\(cached in /);
  });

  it('a bad value is one clear error naming TSGRAD_THREADS', () => {
    const r = child(INFO, { TSGRAD_THREADS: 'many' });
    expect(r.status).to.not.equal(0);
    expect(r.stderr).to.include("TSGRAD_THREADS: expected 1, 2 or auto (got 'many')");
  });

  it('a GPT whose matmuls are split across threads trains to the same losses on 1 and 2 threads', () => {
    const train = `
      import * as tg from './src/index.ts';
      tg.manualSeed(3);
      const model = new tg.models.GPT({ vocabSize: 50, nPositions: 64, nEmbd: 256, nLayer: 1, nHead: 4, dropout: 0, tieWeights: false });
      const optimizer = new tg.optim.Adam(model.parameters(), { lr: 1e-3 });
      const idx = tg.randint(0, 50, [8, 64]), targets = tg.randint(0, 50, [8, 64]);
      const losses = [];
      for (let step = 0; step < 3; step++) {
        optimizer.zeroGrad();
        const { loss } = model.forward(idx, targets);
        loss.backward();
        optimizer.step();
        losses.push(loss.item());
      }
      console.log(JSON.stringify({ losses, threads: tg.backendInfo().threads.threads }));`;
    const one = JSON.parse(child(train, { TSGRAD_THREADS: '1' }).stdout);
    const two = JSON.parse(child(train, { TSGRAD_THREADS: '2' }).stdout);
    expect([one.threads, two.threads]).to.deep.equal([1, 2]);
    expect(one.losses[2]).to.be.below(one.losses[0]);
    two.losses.forEach((l: number, i: number) => expect(l, `step ${i}`).to.be.closeTo(one.losses[i], 1e-6 * one.losses[i]));
  });
});
