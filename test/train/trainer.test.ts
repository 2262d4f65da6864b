// tg.train in-process: the Trainer drives a tiny model, evaluation leaves the training random stream
// alone, a resumed Trainer continues bit for bit (dropout, shuffled epochs, Adam, schedule),
// checkpoints are atomic and pruned, and the tools' entry points (resolveCheckpointDir,
// loadCheckpoint) find and load them.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawnSync } from 'node:child_process';
import { manualSeed, getRngState, randn, tensor } from '../../src/index.js';
import { Linear, Sequential, ReLU } from '../../src/nn/index.js';
import * as F from '../../src/nn/functional.js';
import { AdamW, SGD } from '../../src/optim/index.js';
import { CosineAnnealingLR } from '../../src/optim/schedulers.js';
import { GPT } from '../../src/models/index.js';
import { CharTokenizer, DataLoader, TensorDataset, lmBatch, lmBatches, saveTokenizer } from '../../src/data/index.js';
import {
  Trainer, epochBatches, listCheckpoints, loadCheckpoint, lossSeries, readLog, resolveCheckpointDir, writeCheckpoint,
  removeStaleTemps, removeCheckpoints, svgPlot, type StepRecord,
} from '../../src/train/index.js';
import type { Tensor } from '../../src/tensor/tensor.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-train-'));
const losses = (h: StepRecord[]) => h.map((r) => [r.step, r.loss, r.lr, r.val_loss ?? null]);

/** Two blobs in 2-D: class = sign of x0 + x1. */
function blobs(n: number): [Tensor, Tensor] {
  const x = randn([n, 2]);
  const y = tensor(Array.from({ length: n }, (_, i) => (x.data[2 * i] + x.data[2 * i + 1] > 0 ? 1 : 0)), { dtype: 'int32' });
  return [x, y];
}

describe('tg.train.Trainer', function () {
  this.timeout(60_000);

  it('drives a tiny model from a DataLoader: loss falls, epochs end, callbacks fire in order', async () => {
    manualSeed(0);
    const [x, y] = blobs(64);
    const model = new Sequential(new Linear(2, 16), new ReLU(), new Linear(16, 2));
    const events: string[] = [];
    const trainer = new Trainer({
      model, optimizer: new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }),
      trainBatches: new DataLoader(new TensorDataset(x, y), { batchSize: 16 }),
      lossFn: (m, [xb, yb]) => F.crossEntropy(m.forward(xb), yb),
      evaluate: (m) => ({ val_accuracy: m.forward(x).argmax(1).eq(y).to('float64').mean().item() }),
      evalEvery: 8,
      callbacks: {
        onTrainBegin: () => events.push('begin'),
        onEpochEnd: (e, mean) => events.push(`epoch ${e} ${mean > 0}`),
        onTrainEnd: () => events.push('end'),
      },
    });
    const { history, step } = await trainer.fit(40);
    expect(step).to.equal(40);
    expect(history).to.have.length(40);
    expect(history[0].epoch).to.equal(0.25);
    expect(history[39].samples_per_s).to.be.a('number');
    expect(history[7].val_accuracy).to.be.a('number');
    expect(history[8].val_accuracy).to.equal(undefined);
    expect(history[39].loss).to.be.below(history[0].loss * 0.6);
    expect(history[39].val_accuracy).to.be.above(0.9);
    expect(events).to.deep.equal(['begin', ...Array.from({ length: 10 }, (_, i) => `epoch ${i + 1} true`), 'end']);
  });

  it('evaluation runs on its own seed and leaves the training random stream as it was', async () => {
    manualSeed(3);
    const model = new GPT({ vocabSize: 5, nPositions: 8, nEmbd: 8, nLayer: 1, nHead: 2, dropout: 0.5 });
    const ids = Int32Array.from({ length: 200 }, (_, i) => (i * 7) % 5);
    const trainer = new Trainer({ model, optimizer: new AdamW(model.parameters()), trainBatches: () => lmBatch(ids, 8, 2), evalBatches: () => lmBatches(ids, 8, 4, 3) });
    const before = getRngState();
    const a = trainer.evaluate(), b = trainer.evaluate();
    expect(getRngState()).to.deep.equal(before);
    expect(a.val_loss).to.equal(b.val_loss); // same eval batches each time
    expect(model.training).to.equal(true);
  });

  it('a resumed Trainer logs bit-identical losses (dropout, shuffled epochs, AdamW, cosine schedule)', async () => {
    const text = 'the cat sat on the mat and the dog sat on the log. '.repeat(20);
    const tok = CharTokenizer.fit(text);
    const ids = Int32Array.from(tok.encode(text));
    const windows = Array.from({ length: 40 }, (_, i) => Array.from(ids.subarray(i * 9, i * 9 + 9)));
    const make = (outDir: string, crashAt = Infinity) => {
      manualSeed(11);
      const model = new GPT({ vocabSize: tok.vocabSize, nPositions: 8, nEmbd: 16, nLayer: 1, nHead: 2, dropout: 0.1 });
      const optimizer = new AdamW(model.parameters(), { lr: 3e-3 });
      const data = new TensorDataset(tensor(windows.map((w) => w.slice(0, 8)), { dtype: 'int32' }), tensor(windows.map((w) => w.slice(1)), { dtype: 'int32' }));
      return new Trainer({
        model, optimizer, scheduler: new CosineAnnealingLR(optimizer, { tMax: 24 }),
        trainBatches: epochBatches(new DataLoader(data, { batchSize: 6 })), // 7 batches per epoch: saves fall mid-epoch
        evalBatches: () => Array.from(lmBatches(ids, 8, 4, 2), ({ x, y }) => [x, y]), evalEvery: 5, clip: 1, saveEvery: 10, outDir,
        checkpointFiles: (dir) => saveTokenizer(tok, dir),
        callbacks: { onStepEnd: (r) => { if (r.step === crashAt) throw new Error('crash'); } },
      });
    };
    const full = tmp(), cut = tmp();
    const reference = await make(full).fit(24);
    expect(await make(cut, 17).fit(24).catch((e: Error) => e.message)).to.equal('crash'); // checkpoint-10 is the newest
    const resumed = make(cut);
    expect(await resumed.resume()).to.equal(10);
    await resumed.fit(24);
    expect(losses(readLog(path.join(cut, 'log.jsonl')))).to.deep.equal(losses(reference.history));
    expect(readLog(path.join(cut, 'log.jsonl')).map((r) => r.epoch)).to.deep.equal(reference.history.map((r) => r.epoch));
    const loaded = await loadCheckpoint(cut);
    expect(loaded.dir).to.equal(path.join(cut, 'checkpoint-24'));
    expect(loaded.task).to.equal('lm');
    expect(loaded.tokenizer!.decode(loaded.tokenizer!.encode('the cat'))).to.equal('the cat');
    expect(loaded.state!.step).to.equal(24);
  });

  it('checkpoints are complete or absent, pruned to keep, and found by resolveCheckpointDir', async () => {
    const run = tmp();
    manualSeed(1);
    const model = new Linear(2, 2);
    const trainer = new Trainer({ model, optimizer: new SGD(model.parameters(), { lr: 0.1 }), trainBatches: () => blobs(4), lossFn: (m, [x, y]) => F.crossEntropy(m.forward(x), y), saveEvery: 2, keep: 2, outDir: run });
    await trainer.fit(9);
    expect(listCheckpoints(run).map((c) => c.step)).to.deep.equal([8, 9]);
    expect(resolveCheckpointDir(run)).to.equal(path.join(run, 'checkpoint-9'));
    expect(resolveCheckpointDir(path.join(run, 'checkpoint-8'))).to.equal(path.join(run, 'checkpoint-8'));
    expect(() => resolveCheckpointDir(path.join(run, 'nope'))).to.throw(/no such folder/);
    expect(() => resolveCheckpointDir(tmp())).to.throw(/holds no checkpoint/);
    // a save that dies half-way leaves only a temporary folder, which resume ignores and cleans
    expect(() => writeCheckpoint(run, 10, (dir) => {
      fs.writeFileSync(path.join(dir, 'model.safetensors'), 'partial');
      throw new Error('killed');
    })).to.throw(/killed/);
    expect(fs.existsSync(path.join(run, '.tmp-checkpoint-10'))).to.equal(true);
    expect(listCheckpoints(run).map((c) => c.step)).to.deep.equal([8, 9]);
    removeStaleTemps(run);
    expect(fs.existsSync(path.join(run, '.tmp-checkpoint-10'))).to.equal(false);
    const image = await loadCheckpoint(run).catch((e: Error) => e.message);
    expect(image).to.match(/describes 'Linear', which tsgrad cannot rebuild/); // weights load into a script's own instance instead
    fs.mkdirSync(path.join(run, 'checkpoint-11')); // incomplete (no trainer state): removed too
    removeCheckpoints(run);
    expect(fs.readdirSync(run).filter((n) => n.includes('checkpoint'))).to.deep.equal([]);
    expect(fs.existsSync(path.join(run, 'log.jsonl'))).to.equal(true); // the run's own files stay
  });

  it('examples/08-train-script.ts (a user\'s own script) trains, checkpoints and samples in seconds', () => {
    const out = tmp();
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/08-train-script.ts', '--fast', '--out', out], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.status, r.stderr).to.equal(0);
    const [, first, last] = /loss ([\d.]+) → ([\d.]+)/.exec(r.stdout)!.map(Number);
    expect(last).to.be.below(first - 1);
    expect(r.stdout).to.match(/sampled names: \w+/);
    expect(listCheckpoints(out).map((c) => c.step)).to.deep.equal([60]);
  });

  it('renders the loss curves as SVG from a run log', () => {
    const records: StepRecord[] = Array.from({ length: 20 }, (_, i) => ({ step: i + 1, loss: 3 - i * 0.1, lr: 1e-3, ...(i % 5 === 4 ? { val_loss: 3.1 - i * 0.09 } : {}) }));
    const series = lossSeries(records);
    expect(series.map((s) => s.points.length)).to.deep.equal([20, 4]);
    const svg = svgPlot(series);
    expect(svg).to.match(/^<svg/);
    expect(svg.match(/<path d="M/g)).to.have.length(2);
    expect(svg).to.include('validation');
  });
});
