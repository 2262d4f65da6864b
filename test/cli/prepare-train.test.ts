// `tsgrad prepare` then `tsgrad train --data DIR` (spawned): the shard folder, training from it with
// --grad-accum (config.json, the step line), eval on the held-out tail (the folder confined like any data path), kill -9 then --resume giving the uninterrupted log,
// a damaged shard refused in one line naming the file, and a run too big for memory refused
// before anything is built, naming the estimate and the flags.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectOneLineError, readJsonl, start, trajectory, tsgrad } from './spawn.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-prepare-'));
const shards = path.join(work, 'shards');

const train = (out: string, ...more: string[]) => ['train', '--model', 'gpt-nano', '--data', shards, '--out', out, '--batch-size', '4', '--grad-accum', '2', ...more];

describe('tsgrad prepare → train --data DIR (spawned)', function () {
  this.timeout(120_000);

  before(async () => {
    const corpus = path.join(work, 'corpus');
    fs.mkdirSync(corpus);
    const sentences = ['the cat sat on the mat.', 'a dog ate the bone.', 'the bird sang in the tree.', 'my fish swam in the bowl.'];
    for (let f = 0; f < 3; f++) fs.writeFileSync(path.join(corpus, `part-${f}.txt`), Array.from({ length: 150 }, (_, i) => sentences[(i * (f + 3)) % 4]).join(' '));
    const r = await tsgrad('prepare', '--data', corpus, '--out', shards, '--tokenizer', 'char', '--shard-tokens', '3000');
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/wrote .*shards: \d+ shards of uint16 · [\d,]+ tokens from 3 documents in 3 files/);
    expect(r.stdout).to.match(/done in .* MB\/s\) · peak RSS/);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('--help names every flag; a missing corpus is a one-line error naming it', async () => {
    const [prep, train] = await Promise.all([tsgrad('prepare', '--help'), tsgrad('train', '--help')]);
    for (const flag of ['--data', '--out', '--tokenizer', '--vocab-size', '--tokenizer-sample', '--text-field', '--val-fraction', '--shard-tokens']) expect(prep.stdout).to.include(flag);
    expect(train.stdout).to.include('--grad-accum');
    expectOneLineError(await tsgrad('prepare', '--data', path.join(work, 'nope'), '--out', path.join(work, 'x')), /prepare: --data .*nope: no such file or folder/);
  });

  it('trains from the shards with --grad-accum: config.json records gradAccum, the step line shows it', async () => {
    const out = path.join(work, 'run');
    const r = await tsgrad(...train(out, '--steps', '4', '--log-every', '2'));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/estimate {2}about .* activations .* at batch 4 × 32 tokens\); .* free/);
    expect(r.stdout).to.match(/read by window from disk/);
    expect(r.stdout).to.match(/batch 4 × 32 tokens × grad-accum 2 \(8 × 32 tokens per step\)/);
    expect(r.stdout).to.match(/step 2\/4 \| loss [\d.]+ \| lr .* \| accum ×2 \| .* tokens\/s/);
    expect(JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8')).gradAccum).to.equal(2);
    expect(readJsonl(path.join(out, 'log.jsonl')).every((rec) => rec.grad_accum === 2)).to.equal(true);
    // eval reads the held-out tail from the shards; the shard folder lies outside the run, so it must be named again
    const ev = await tsgrad('eval', '--checkpoint', out, '--data', shards, '--max-batches', '2');
    expect(ev.code, ev.stderr).to.equal(0);
    expect(ev.stdout).to.match(/data {7}8 windows of 32 tokens from the start of the validation split of .*shards \(256 of its [\d,]+ tokens\)/);
    expect(ev.stdout).to.match(/perplexity [\d.]+/);
    // one validation figure: training's last val loss is what eval scores on the same windows
    const same = await tsgrad('eval', '--checkpoint', out, '--data', shards);
    const trained = readJsonl(path.join(out, 'log.jsonl')).filter((l) => typeof l.val_loss === 'number').at(-1)!.val_loss as number;
    expect(Number(/^loss +(\S+)/m.exec(same.stdout)![1])).to.equal(Number(trained.toFixed(4)));
    expectOneLineError(await tsgrad('eval', '--checkpoint', out), /names data .*shards.*outside the run folder.*pass --data/);
  });

  it('kill -9 mid-run, then --resume: the log equals an uninterrupted run\'s', async () => {
    const full = path.join(work, 'full'), cut = path.join(work, 'cut');
    const args = ['--steps', '24', '--eval-every', '4', '--save-every', '8', '--log-every', '1'];
    const reference = start(train(full, ...args)).done;
    const victim = start(train(cut, ...args));
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => { if (/step 11\/24/.test(victim.out())) { clearInterval(poll); resolve(); } }, 20);
    });
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).to.equal('SIGKILL');
    const resumed = await tsgrad(...train(cut, ...args, '--resume'));
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stdout).to.match(/resuming .* from checkpoint-(8|16) /);
    expect((await reference).code).to.equal(0);
    expect(trajectory(full)).to.have.length(24);
    expect(trajectory(cut)).to.deep.equal(trajectory(full));
  });

  it('a truncated shard is refused in one line naming the file', async () => {
    const broken = path.join(work, 'broken');
    fs.cpSync(shards, broken, { recursive: true });
    const file = path.join(broken, 'shard-00001.bin');
    fs.truncateSync(file, fs.statSync(file).size - 1);
    expectOneLineError(await tsgrad('train', '--model', 'gpt-nano', '--data', broken, '--out', path.join(work, 'b'), '--steps', '1'), /shard-00001\.bin has \d+ bytes, shards\.json says \d+ \(truncated\)/);
  });

  it('a run that cannot fit in memory stops before building anything, naming the estimate and the flags', async () => {
    const r = await tsgrad('train', '--model', 'gpt2-small', '--data', shards, '--out', path.join(work, 'huge'), '--batch-size', '4096', '--block-size', '1024', '--steps', '1');
    expectOneLineError(r, /memory: this run needs about [\d.]+ (GiB|TiB) \(runtime [\d.]+ MiB, parameters .* activations [\d.]+ GiB at batch 4096 × 1024 tokens\), more than the .* free; .*--batch-size 2048 --grad-accum 2 keeps the effective batch of 4096.*--block-size/);
    expect(r.stdout).to.not.match(/model {5}GPT/);
  });
});
