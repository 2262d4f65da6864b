// The `tsgrad` command, spawned as a process on the current source (node --import tsx
// src/cli/main.ts), on tiny data in a temp folder: train (lm, mlm, classify), the run folder's
// files, --keep, loss.svg, generate with a seed, eval, kill -9 (mid-run and inside a checkpoint
// save) then --resume giving the uninterrupted log, and one-line errors.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { spawn } from 'node:child_process';
import { writeManifest } from '../../src/train/manifest.js';
import { expectOneLineError, readJsonl, start, trajectory, tsgrad, type Run } from './spawn.js';

const root = process.cwd();
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-cli-'));
const text = path.join(work, 'tiny.txt');
const tsv = path.join(work, 'reviews.tsv');
const badTsv = path.join(work, 'bad.tsv');

/** Resolves when `test` holds for the process's output (polled), or rejects after `ms`. */
function waitFor(test: () => boolean, ms = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const t0 = Date.now();
    const poll = setInterval(() => {
      if (test()) { clearInterval(poll); resolve(); }
      else if (Date.now() - t0 > ms) { clearInterval(poll); reject(new Error('timed out waiting for the process')); }
    }, 20);
  });
}

const nano = (out: string, ...more: string[]) => ['train', '--model', 'gpt-nano', '--data', text, '--out', out, ...more];
const mlm = (out: string, ...more: string[]) => ['train', '--model', 'bert-tiny', '--task', 'mlm', '--data', text, '--out', out,
  '--block-size', '16', '--batch-size', '8', '--vocab-size', '120', '--eval-batches', '2', ...more];

describe('tsgrad CLI (spawned)', function () {
  this.timeout(120_000);

  before(() => {
    const sentences = ['the cat sat on the mat.', 'a dog ate the bone.', 'the bird sang in the tree.', 'my fish swam in the bowl.', 'the old man read a book.'];
    let s = '';
    for (let i = 0; s.length < 6000; i++) s += `${sentences[(i * 7) % 5]} `;
    fs.writeFileSync(text, s);
    const pos = ['great fun', 'loved it', 'a joy', 'brilliant work', 'superb story', 'wonderful cast'];
    const neg = ['awful mess', 'hated it', 'a bore', 'dreadful work', 'weak story', 'terrible cast'];
    const rows = ['text\tlabel'];
    for (let i = 0; i < 48; i++) rows.push(i % 2 ? `${pos[i % 6]} and ${pos[(i * 5) % 6]}\tpos` : `${neg[i % 6]} and ${neg[(i * 5) % 6]}\tneg`);
    fs.writeFileSync(tsv, `${rows.join('\n')}\n`);
    fs.writeFileSync(badTsv, 'fine line\tpos\nthis line has no tab\n');
  });

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('--help on every command', async () => {
    const [top, train, gen, ev] = await Promise.all([tsgrad('--help'), tsgrad('train', '--help'), tsgrad('generate', '--help'), tsgrad('eval', '--help')]);
    for (const r of [top, train, gen, ev]) expect(r.code, r.stderr).to.equal(0);
    expect(top.stdout).to.match(/train[\s\S]*generate[\s\S]*eval/);
    for (const flag of ['--model', '--data', '--task', '--steps', '--epochs', '--batch-size', '--block-size', '--lr', '--optimizer', '--warmup', '--schedule', '--clip', '--seed', '--eval-every', '--save-every', '--keep', '--out', '--resume', '--init']) {
      expect(train.stdout).to.include(flag);
    }
    expect(gen.stdout).to.match(/--max-new-tokens[\s\S]*--temperature[\s\S]*--top-k[\s\S]*--greedy/);
    expect(ev.stdout).to.include('--checkpoint');
  });

  describe('a gpt-nano run', () => {
    const out = path.join(work, 'nano');
    let run: Run;
    before(async () => {
      run = await tsgrad(...nano(out, '--steps', '20', '--eval-every', '5', '--save-every', '5', '--keep', '2', '--log-every', '5'));
    });

    it('trains, evaluates and reports', () => {
      expect(run.code, run.stderr).to.equal(0);
      expect(run.stdout).to.match(/model\s+GPT \(gpt-nano\): [\d,]+ parameters/);
      expect(run.stdout).to.match(/memory\s+\d+ MiB RSS/);
      expect(run.stdout).to.match(/step 20\/20 \| loss \d\.\d{4} \| lr [\d.e-]+ \| [\d.k]+ tokens\/s \| ETA/);
      expect(run.stdout).to.match(/eval @ step 5: val_loss \d/);
      expect(run.stdout).to.match(/steps 1 … 20 {4}train, validation/); // the terminal loss curve
      expect(run.stdout).to.include('npx tsgrad generate --checkpoint');
    });

    it('writes config.json, log.jsonl (one object per step) and loss.svg', () => {
      const config = JSON.parse(fs.readFileSync(path.join(out, 'config.json'), 'utf8'));
      expect(config).to.include({ model: 'gpt-nano', task: 'lm', steps: 20, blockSize: 32, optimizer: 'adamw', seed: 1337 });
      const log = readJsonl(path.join(out, 'log.jsonl'));
      expect(log.map((r) => r.step)).to.deep.equal(Array.from({ length: 20 }, (_, i) => i + 1));
      for (const r of log) expect(r).to.have.keys(r.step % 5 === 0 ? ['step', 'loss', 'lr', 'tokens_per_s', 'val_loss', 'val_perplexity'] : ['step', 'loss', 'lr', 'tokens_per_s']);
      expect(log[19].loss).to.be.below(log[0].loss);
      const svg = fs.readFileSync(path.join(out, 'loss.svg'), 'utf8');
      expect(svg).to.match(/^<svg[\s\S]*<\/svg>$/);
      expect(svg.match(/<path d="M[\d.,ML ]+"/g)).to.have.length(2); // train and validation curves
    });

    it('keeps the newest --keep checkpoints, each complete', () => {
      expect(fs.readdirSync(out).filter((n) => n.startsWith('checkpoint-')).sort()).to.deep.equal(['checkpoint-15', 'checkpoint-20']);
      expect(fs.readdirSync(path.join(out, 'checkpoint-20')).sort()).to.deep.equal(['config.json', 'manifest.json', 'model.safetensors', 'optimizer.safetensors', 'trainer_state.json', 'tsgrad_tokenizer.json']);
      const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint-20', 'trainer_state.json'), 'utf8'));
      expect(state).to.include({ step: 20, task: 'lm' });
      expect(state.rng).to.have.keys(['c', 's0', 's1', 's2']);
      expect(JSON.parse(fs.readFileSync(path.join(out, 'checkpoint-20', 'config.json'), 'utf8')).architectures).to.deep.equal(['GPT2LMHeadModel']);
    });

    it('generate is reproducible with a seed', async () => {
      const args = ['generate', '--checkpoint', out, '--prompt', 'the cat', '--max-new-tokens', '40'];
      const [a, b, c, g1, g2] = await Promise.all([tsgrad(...args, '--seed', '7'), tsgrad(...args, '--seed', '7'), tsgrad(...args, '--seed', '8'), tsgrad(...args, '--greedy'), tsgrad(...args, '--greedy', '--seed', '9')]);
      for (const r of [a, b, c, g1, g2]) expect(r.code, r.stderr).to.equal(0);
      expect(a.stdout).to.match(/^the cat/);
      expect(a.stdout.trim().length).to.equal('the cat'.length + 40);
      expect(b.stdout).to.equal(a.stdout);
      expect(c.stdout).to.not.equal(a.stdout);
      expect(g2.stdout).to.equal(g1.stdout);
    });

    it('eval prints loss and perplexity on the validation split (the run\'s data, named again: it lies outside the run folder)', async () => {
      const r = await tsgrad('eval', '--checkpoint', out, '--data', text);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/the validation split of .*tiny\.txt/);
      const loss = Number(/loss\s+(\d\.\d+)/.exec(r.stdout)![1]);
      expect(Number(/perplexity\s+([\d.]+)/.exec(r.stdout)![1])).to.be.closeTo(Math.exp(loss), 0.01);
    });

    it('a corrupt checkpoint gives a one-line error', async () => {
      const bad = path.join(work, 'corrupt');
      fs.cpSync(path.join(out, 'checkpoint-20'), bad, { recursive: true });
      const file = path.join(bad, 'model.safetensors');
      fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 300));
      expectOneLineError(await tsgrad('generate', '--checkpoint', bad, '--prompt', 'the'), /model\.safetensors/);
    });

    it('checkpoint data paths stay inside the run: a path that leaves it is not read, and the error names --data', async () => {
      const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint-20', 'trainer_state.json'), 'utf8'));
      expect(state.options.data).to.equal('../tiny.txt'); // recorded relative to the run folder
      const [own, hostile] = [path.join(work, 'own-run'), path.join(work, 'hostile-run')];
      for (const [run, data] of [[own, '../tiny.txt'], [hostile, '../../../../../../../../etc/passwd']]) {
        fs.cpSync(path.join(out, 'checkpoint-20'), path.join(run, 'checkpoint-20'), { recursive: true });
        const file = path.join(run, 'checkpoint-20', 'trainer_state.json');
        fs.writeFileSync(file, JSON.stringify({ ...state, options: { ...state.options, data } }));
        writeManifest(path.join(run, 'checkpoint-20')); // a checksum is no signature: whoever edits the state can rewrite it too
      }
      const [outside, edited, named] = await Promise.all([
        tsgrad('eval', '--checkpoint', own),
        tsgrad('eval', '--checkpoint', hostile),
        tsgrad('eval', '--checkpoint', own, '--data', text),
      ]);
      expectOneLineError(outside, /names data "\.\.\/tiny\.txt", outside the run folder .*own-run; .*pass --data/);
      expectOneLineError(edited, /names data "\.\.\/(\.\.\/)+etc\/passwd", outside the run folder .*hostile-run; .*pass --data/);
      expect(edited.stdout + edited.stderr).to.not.match(/root|character/);
      expect(named.code, named.stderr).to.equal(0);
      expect(named.stdout).to.match(/the validation split of .*tiny\.txt/);
    });

    it('--resume skips a truncated newest checkpoint, says why, and continues exactly from the one before', async () => {
      const copy = path.join(work, 'nano-fallback');
      fs.cpSync(out, copy, { recursive: true });
      const model = path.join(copy, 'checkpoint-20', 'model.safetensors');
      fs.writeFileSync(model, fs.readFileSync(model).subarray(0, 1000));
      const args = ['--steps', '20', '--eval-every', '5', '--save-every', '5', '--keep', '2', '--log-every', '5', '--resume'];
      expectOneLineError(await tsgrad('train', '--out', copy, ...args), /--resume: .*names data "\.\.\/tiny\.txt", outside the run folder .*pass --data/);
      const r = await tsgrad(...nano(copy, ...args));
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/resume: skipping checkpoint-20: .*model\.safetensors has 1000 bytes, manifest\.json says \d+ \(truncated/);
      expect(r.stdout).to.match(/resuming .* from checkpoint-15 \(step 15\)/);
      expect(trajectory(copy)).to.deep.equal(trajectory(out));
    });
  });

  it('kill -9 mid-run, then --resume: the log equals an uninterrupted run\'s', async () => {
    const full = path.join(work, 'full'), cut = path.join(work, 'cut');
    const args = ['--steps', '30', '--eval-every', '5', '--save-every', '10', '--log-every', '1'];
    const reference = start(nano(full, ...args)).done;
    const victim = start(nano(cut, ...args));
    await waitFor(() => /step 14\/30/.test(victim.out()));
    victim.child.kill('SIGKILL');
    expect((await victim.done).signal).to.equal('SIGKILL');
    const logged = readJsonl(path.join(cut, 'log.jsonl')).length; // ≥ 14; the newest checkpoint is 10 (or 20 on a slow poll)
    const resumed = await tsgrad(...nano(cut, ...args, '--resume'));
    expect(resumed.code, resumed.stderr).to.equal(0);
    const from = Number(/resuming .* from checkpoint-(\d+) \(step \d+\)/.exec(resumed.stdout)?.[1]);
    expect([10, 20]).to.include(from);
    expect(logged).to.be.at.least(14);
    expect((await reference).code).to.equal(0);
    const want = trajectory(full);
    expect(want).to.have.length(30);
    expect(trajectory(cut)).to.deep.equal(want);
  });

  it('kill -9 inside a checkpoint save, then --resume: the newest complete checkpoint continues exactly (mlm: masks, dropout, shuffled epochs)', async () => {
    const full = path.join(work, 'mlm-full'), cut = path.join(work, 'mlm-cut');
    const args = ['--steps', '24', '--eval-every', '6', '--save-every', '8', '--log-every', '4'];
    const reference = start(mlm(full, ...args)).done;
    const victim = start(mlm(cut, ...args), { TSGRAD_PAUSE_IN_SAVE: '60000@16' });
    await waitFor(() => /inside the save of checkpoint-16/.test(victim.err()));
    victim.child.kill('SIGKILL');
    await victim.done;
    expect(fs.readdirSync(cut).sort()).to.deep.equal(['.tmp-checkpoint-16', 'checkpoint-8', 'config.json', 'log.jsonl']);
    const resumed = await tsgrad(...mlm(cut, ...args, '--resume'));
    expect(resumed.code, resumed.stderr).to.equal(0);
    expect(resumed.stdout).to.match(/from checkpoint-8 \(step 8\)/);
    expect(fs.readdirSync(cut).filter((n) => n.startsWith('.tmp'))).to.deep.equal([]);
    const ref = await reference;
    expect(ref.code, ref.stderr).to.equal(0);
    expect(ref.stdout).to.match(/^Step 4\/24 - loss: \d+\.\d{4} - learning_rate: [\d.]+e-\d$/m); // D24's log line
    const want = trajectory(full);
    expect(want).to.have.length(24);
    expect(want[5]).to.have.property('val_accuracy');
    expect(trajectory(cut)).to.deep.equal(want);
  });

  it('classify on a TSV: D23 epoch lines, D27 metrics and confusion matrix; eval agrees', async () => {
    const out = path.join(work, 'cls');
    const r = await tsgrad('train', '--model', 'bert-tiny', '--data', tsv, '--epochs', '2', '--batch-size', '8', '--block-size', '16', '--vocab-size', '100', '--lr', '1e-3', '--out', out);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/task classify/);
    expect(r.stdout).to.match(/^Epoch \[1\/2\], Loss: \d\.\d{4}$/m);
    expect(r.stdout).to.match(/^Epoch \[2\/2\], Loss: \d\.\d{4}$/m);
    expect(r.stdout).to.match(/val_accuracy [\d.]+, val_precision [\d.]+, val_recall [\d.]+, val_f1 [\d.]+/);
    expect(r.stdout).to.match(/confusion matrix[\s\S]*neg \|[\s\S]*pos \|/);
    const state = JSON.parse(fs.readFileSync(path.join(out, 'checkpoint-12', 'trainer_state.json'), 'utf8'));
    expect(state.labelNames).to.deep.equal(['neg', 'pos']);
    const ev = await tsgrad('eval', '--checkpoint', out, '--data', tsv);
    expect(ev.code, ev.stderr).to.equal(0);
    const last = readJsonl(path.join(out, 'log.jsonl')).at(-1)!;
    expect(Number(/accuracy (\d\.\d+)/.exec(ev.stdout)![1])).to.equal(Number(last.val_accuracy.toFixed(4)));
    expect(ev.stdout).to.match(/macro avg/);
  });

  it('image: an MLP on MNIST with seeded shifts, then eval on the held-out digits', async () => {
    const out = path.join(work, 'mlp');
    const r = await tsgrad('train', '--model', 'mlp', '--steps', '12', '--augment', '1', '--out', out);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/task image/);
    expect(r.stdout).to.match(/random shifts of up to 1 px/);
    expect(r.stdout).to.match(/eval @ step 12: val_loss [\d.]+, val_accuracy/);
    const ev = await tsgrad('eval', '--checkpoint', out);
    expect(ev.code, ev.stderr).to.equal(0);
    expect(ev.stdout).to.match(/2,000 held-out digits[\s\S]*macro avg[\s\S]*confusion matrix/);
  });

  it('errors are one line on stderr with exit code ≠ 0, and a stack only with --verbose', async () => {
    const [malformed, missing, preset, flag, verbose] = await Promise.all([
      tsgrad('train', '--model', 'bert-tiny', '--data', badTsv, '--out', path.join(work, 'e1')),
      tsgrad(...nano(path.join(work, 'e2')).map((a) => (a === text ? path.join(work, 'missing.txt') : a))),
      tsgrad('train', '--model', 'gpt-7', '--out', path.join(work, 'e3')),
      tsgrad('train', '--model', 'gpt-nano', '--stepz', '3'),
      tsgrad('train', '--model', 'gpt-nano', '--data', path.join(work, 'missing.txt'), '--out', path.join(work, 'e4'), '--verbose'),
    ]);
    expectOneLineError(malformed, /bad\.tsv:2: expected text<TAB>label/);
    expectOneLineError(missing, /--data .*missing\.txt: file not found \(and not a built-in dataset/);
    expectOneLineError(preset, /unknown model 'gpt-7' \(known: gpt-nano/);
    expectOneLineError(flag, /unknown option '--stepz'/);
    expect(verbose.code).to.not.equal(0);
    expect(verbose.stderr).to.match(/^tsgrad: --data .*missing\.txt: file not found[\s\S]*\n\s+at /);
  });

  it('bin/tsgrad.js runs the built CLI (when dist/ is built)', async function () {
    if (!fs.existsSync(path.join(root, 'dist', 'cli', 'main.js'))) this.skip();
    const r = await new Promise<Run>((resolve) => {
      const child = spawn(process.execPath, ['bin/tsgrad.js', '--help'], { cwd: root });
      let stdout = '', stderr = '';
      child.stdout.on('data', (d) => (stdout += d));
      child.stderr.on('data', (d) => (stderr += d));
      child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/Usage: tsgrad/);
  });
});
