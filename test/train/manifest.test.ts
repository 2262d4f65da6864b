// Checkpoints are verified, not trusted: every checkpoint carries manifest.json (size and SHA-256 of
// each file, written last); a truncated, missing or bit-flipped model file or an edited trainer
// state is an error naming the file, and a resumed run falls back to the newest checkpoint that
// verifies, saying which it skipped and why. Folders written before manifests still load, with a note.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { manualSeed, randn, tensor } from '../../src/index.js';
import { Linear } from '../../src/nn/index.js';
import * as F from '../../src/nn/functional.js';
import { SGD } from '../../src/optim/index.js';
import { Trainer, listCheckpoints, readLog, type StepRecord } from '../../src/train/index.js';
import { openResumePoint, verifyCheckpoint } from '../../src/train/checkpoint.js';
import { MANIFEST_FILE, sha256File } from '../../src/train/manifest.js';
import type { Tensor } from '../../src/tensor/tensor.js';

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-manifest-'));
const losses = (h: StepRecord[]) => h.map((r) => [r.step, r.loss, r.lr]);

function makeTrainer(outDir: string): Trainer<readonly [Tensor, Tensor], Linear> {
  manualSeed(5);
  const model = new Linear(3, 2);
  const batch = () => {
    const x = randn([4, 3]);
    return [x, tensor(Array.from({ length: 4 }, (_, i) => (x.data[3 * i] > 0 ? 1 : 0)), { dtype: 'int32' })] as const;
  };
  return new Trainer({ model, optimizer: new SGD(model.parameters(), { lr: 0.1, momentum: 0.9 }), trainBatches: batch, lossFn: (m, [x, y]) => F.crossEntropy(m.forward(x), y), saveEvery: 2, outDir });
}

/** A copy of a finished 6-step run (checkpoints 2, 4, 6) and the reference history. */
async function run(): Promise<{ dir: string; history: StepRecord[] }> {
  const dir = tmp();
  const { history } = await makeTrainer(dir).fit(6);
  return { dir, history };
}

const ck = (dir: string, step: number, file = '') => path.join(dir, `checkpoint-${step}`, file);
function flipBit(file: string, at: number): void {
  const bytes = fs.readFileSync(file);
  bytes[at] ^= 1;
  fs.writeFileSync(file, bytes);
}

describe('checkpoint manifests', function () {
  this.timeout(60_000);

  it('each checkpoint lists every file with its size and SHA-256', async () => {
    const { dir } = await run();
    expect(listCheckpoints(dir).map((c) => c.step)).to.deep.equal([2, 4, 6]);
    const m = JSON.parse(fs.readFileSync(ck(dir, 6, MANIFEST_FILE), 'utf8'));
    expect(Object.keys(m.files)).to.deep.equal(['config.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json']);
    expect(m.files['model.safetensors']).to.deep.equal({ bytes: fs.statSync(ck(dir, 6, 'model.safetensors')).size, sha256: sha256File(ck(dir, 6, 'model.safetensors')) });
    expect(verifyCheckpoint(dir)).to.equal(ck(dir, 6));
  });

  it('resume skips a truncated, a missing and a bit-flipped model file, saying which and why, and continues exactly', async () => {
    const { dir, history } = await run();
    const model6 = ck(dir, 6, 'model.safetensors');
    fs.writeFileSync(model6, fs.readFileSync(model6).subarray(0, 40)); // truncated
    const notes: string[] = [];
    const a = makeTrainer(dir);
    expect(await a.resume(undefined, { note: (l) => notes.push(l) })).to.equal(4);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/skipping checkpoint-6: .*model\.safetensors has 40 bytes, manifest\.json says \d+ \(truncated/);
    await a.fit(6);
    expect(losses(readLog(path.join(dir, 'log.jsonl')))).to.deep.equal(losses(history)); // steps 5 and 6 again, the same

    const again = await run();
    fs.rmSync(ck(again.dir, 6, 'model.safetensors'));
    flipBit(ck(again.dir, 4, 'model.safetensors'), fs.statSync(ck(again.dir, 4, 'model.safetensors')).size - 3); // one bit of a weight
    notes.length = 0;
    expect(await makeTrainer(again.dir).resume(undefined, { note: (l) => notes.push(l) })).to.equal(2);
    expect(notes[0]).to.match(/skipping checkpoint-6: .*model\.safetensors is missing/);
    expect(notes[1]).to.match(/skipping checkpoint-4: .*model\.safetensors does not match its SHA-256/);
  });

  it('an edited trainer state is refused; when no checkpoint verifies, resume is an error listing each', async () => {
    const { dir } = await run();
    for (const step of [2, 4, 6]) {
      const file = ck(dir, step, 'trainer_state.json');
      fs.writeFileSync(file, fs.readFileSync(file, 'utf8').replace(/"bestValLoss": null/, '"bestValLoss": 0.25'));
    }
    expect(() => verifyCheckpoint(ck(dir, 4))).to.throw(/checkpoint-4\/trainer_state\.json does not match its SHA-256/);
    const err = await makeTrainer(dir).resume(undefined, { note: () => {} }).catch((e: Error) => e.message);
    expect(err).to.match(/no checkpoint of .* verifies: checkpoint-6 \(.*\); checkpoint-4 \(.*\); checkpoint-2 \(/);
  });

  it('a checkpoint without manifest.json (written before) still loads, with a note', async () => {
    const { dir } = await run();
    for (const step of [2, 4, 6]) fs.rmSync(ck(dir, step, MANIFEST_FILE));
    const notes: string[] = [];
    const point = await openResumePoint(dir, { note: (l) => notes.push(l) });
    expect(point!.state.step).to.equal(6);
    expect(notes).to.deep.equal([`note: ${ck(dir, 6)} has no manifest.json (written before checksums): its files are used unverified`]);
    // without a manifest a missing model file is still found at load, and skipped
    fs.rmSync(ck(dir, 4, 'model.safetensors'));
    fs.rmSync(ck(dir, 6, 'model.safetensors'));
    notes.length = 0;
    expect((await openResumePoint(dir, { note: (l) => notes.push(l) }))!.state.step).to.equal(2);
    expect(notes.filter((l) => /skipping/.test(l))).to.have.length(2);
  });

  it('a manifest cannot point outside its folder', async () => {
    const { dir } = await run();
    const file = ck(dir, 6, MANIFEST_FILE);
    const m = JSON.parse(fs.readFileSync(file, 'utf8'));
    m.files['../../escape'] = { bytes: 0, sha256: '0'.repeat(64) };
    fs.writeFileSync(file, JSON.stringify(m));
    expect(() => verifyCheckpoint(ck(dir, 6))).to.throw(/manifest\.json: bad entry "\.\.\/\.\.\/escape"/);
  });
});
