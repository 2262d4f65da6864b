// The `tsgrad` command does what it says (issue 16), spawned as a process: --resume with nothing
// to resume, a resumed run given more --steps (its lr schedule), labelled .txt files, weight
// decay that belongs to the optimizer, one-class classifiers, and the small things.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { expectOneLineError, readJsonl, start } from './spawn.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-behaviour-'));
const text = path.join(work, 'tiny.txt');

const tsgrad = (args: string[], env: Record<string, string> = {}) => start(args, env).done;
const lrs = (dir: string) => new Map(readJsonl(path.join(dir, 'log.jsonl')).filter((r) => typeof r.lr === 'number').map((r) => [r.step as number, r.lr as number]));
const nano = (out: string, ...more: string[]) => ['train', '--model', 'gpt-nano', '--data', text, '--out', out, '--eval-every', '0', ...more];

describe('tsgrad CLI does what it says (spawned)', function () {
  this.timeout(120_000);

  before(() => {
    const sentences = ['the cat sat on the mat.', 'a dog ate the bone.', 'the bird sang in the tree.', 'my fish swam in the bowl.', 'the old man read a book.'];
    let s = '';
    for (let i = 0; s.length < 6000; i++) s += `${sentences[(i * 7) % 5]} `;
    fs.writeFileSync(text, s);
  });
  after(() => fs.rmSync(work, { recursive: true, force: true }));

  describe('--resume with nothing to resume', () => {
    it('a folder that does not exist is an error naming it, and nothing is trained', async () => {
      const out = path.join(work, 'typo');
      const r = await tsgrad(nano(out, '--resume'));
      expectOneLineError(r, /--resume: .*typo does not exist/);
      expect(fs.existsSync(out)).to.equal(false);
    });

    it('a folder without a checkpoint is an error saying what it holds', async () => {
      const out = path.join(work, 'no-ckpt');
      fs.mkdirSync(out);
      fs.writeFileSync(path.join(out, 'notes.md'), 'mine\n');
      const r = await tsgrad(nano(out, '--resume'));
      expectOneLineError(r, /no checkpoint-<step>\/ folder .*it holds notes\.md.*--resume auto/);
    });

    it('--resume auto starts fresh where there is no checkpoint, and resumes where there is one', async () => {
      const out = path.join(work, 'auto');
      const first = await tsgrad(nano(out, '--resume', 'auto', '--steps', '4'));
      expect(first.code, first.stderr).to.equal(0);
      expect(first.stdout).to.match(/--resume auto: no checkpoint in .*starting a fresh run/);
      const again = await tsgrad(nano(out, '--resume', 'auto', '--steps', '6'));
      expect(again.code, again.stderr).to.equal(0);
      expect(again.stdout).to.match(/resuming .* from checkpoint-4 \(step 4\)/);
    });

    it('--resume with another word is an error', async () => {
      expectOneLineError(await tsgrad(nano(path.join(work, 'x'), '--resume', 'yes')), /--resume takes no value, or 'auto'.*got 'yes'/);
    });
  });

  describe('a resumed run given more --steps', () => {
    it('a finished cosine run holds its final lr: no jump at step N+1, and the banner says so', async () => {
      const out = path.join(work, 'extend');
      expect((await tsgrad(nano(out, '--steps', '20', '--warmup', '2'))).code).to.equal(0);
      const r = await tsgrad(nano(out, '--resume', '--steps', '40'));
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/schedule {2}--steps 20 → 40: lr held at 1\.00e-4 .*no jump at the join/);
      const lr = lrs(out);
      for (let s = 21; s <= 40; s++) expect(lr.get(s), `step ${s}`).to.be.closeTo(1e-4, 1e-9);
    });

    it('an unfinished run anneals from the lr it reached to lr/10 over the new total, and a second resume continues it exactly', async () => {
      const out = path.join(work, 'replan'), straight = path.join(work, 'replan-straight');
      expect((await tsgrad(nano(out, '--steps', '20', '--warmup', '2', '--save-every', '10'))).code).to.equal(0);
      fs.rmSync(path.join(out, 'checkpoint-20'), { recursive: true }); // as if stopped at step 10
      const r = await tsgrad(nano(out, '--resume', '--steps', '40', '--save-every', '25'));
      expect(r.stdout).to.match(/cosine re-planned from \S+ at step 10 to 1\.00e-4 at step 40/);
      const lr = lrs(out);
      for (let s = 11; s <= 40; s++) expect(lr.get(s)!, `step ${s}`).to.be.at.most(lr.get(s - 1)! + 1e-12);
      expect(lr.get(40)).to.be.closeTo(1e-4, 2e-6);
      // resuming the re-planned run at step 25 gives the same lrs as the run that went straight on
      fs.cpSync(out, straight, { recursive: true });
      fs.rmSync(path.join(out, 'checkpoint-40'), { recursive: true });
      const again = await tsgrad(nano(out, '--resume'));
      expect(again.code, again.stderr).to.equal(0);
      const a = lrs(out), b = lrs(straight);
      for (let s = 26; s <= 40; s++) expect(a.get(s), `step ${s}`).to.equal(b.get(s));
    });
  });

  it('a run resumed inside its warmup with more --steps finishes the warmup as planned, then follows the schedule of a run planned that long', async () => {
    const out = path.join(work, 'in-warmup'), fresh = path.join(work, 'fresh-40');
    expect((await tsgrad(nano(out, '--steps', '20', '--warmup', '10', '--save-every', '5', '--keep', '0'))).code).to.equal(0);
    for (const s of [10, 15, 20]) fs.rmSync(path.join(out, `checkpoint-${s}`), { recursive: true, force: true });
    const r = await tsgrad(nano(out, '--resume', '--steps', '40'));
    expect(r.stdout).to.match(/schedule {2}--steps 20 → 40: the warmup ends at step 10 as planned, then warmup 10 then cosine to 1\.00e-4 over steps 10–40/);
    expect((await tsgrad(nano(fresh, '--steps', '40', '--warmup', '10'))).code).to.equal(0);
    const a = lrs(out), b = lrs(fresh);
    for (let s = 6; s <= 40; s++) expect(a.get(s), `step ${s}`).to.be.closeTo(b.get(s)!, 1e-12);
  });

  describe('what a --data file is', () => {
    const labelled = path.join(work, 'reviews.txt');
    before(() => {
      const rows: string[] = [];
      for (let i = 0; i < 30; i++) rows.push(i % 2 ? `a lovely film number ${i}\tpos` : `a dull film number ${i}\tneg`);
      fs.writeFileSync(labelled, `${rows.join('\n')}\n`);
    });

    it('a text<TAB>label file named .txt trains a classifier with BERT, and says why', async () => {
      const r = await tsgrad(['train', '--model', 'bert-tiny', '--data', labelled, '--out', path.join(work, 'cls'), '--steps', '1', '--block-size', '16', '--vocab-size', '60']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/task classify/);
      expect(r.stdout).to.match(/every line of .*reviews\.txt is text<TAB>label \(30 examples, labels neg, pos\); --task mlm reads it as plain text/);
      expect(JSON.parse(fs.readFileSync(path.join(work, 'cls', 'config.json'), 'utf8')).task).to.equal('classify');
    });

    it('--task mlm still reads it as plain text; prose with a tab or two stays text', async () => {
      const r = await tsgrad(['train', '--model', 'bert-tiny', '--task', 'mlm', '--data', labelled, '--out', path.join(work, 'mlm'), '--steps', '1', '--block-size', '16', '--vocab-size', '60', '--eval-batches', '1']);
      expect(r.code, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/task mlm/);
      const prose = path.join(work, 'prose.txt');
      fs.writeFileSync(prose, `${fs.readFileSync(text, 'utf8')}\tend\n`);
      const p = await tsgrad(['train', '--model', 'bert-tiny', '--data', prose, '--out', path.join(work, 'prose'), '--steps', '1', '--block-size', '16', '--vocab-size', '60', '--eval-batches', '1']);
      expect(p.stdout).to.match(/task mlm/);
    });

    it('--help says which file shapes mean what', async () => {
      const r = await tsgrad(['train', '--help']);
      expect(r.stdout).to.match(/every line text<TAB>label .*\n.*a BERT model classifies it; any other text: lm \(GPT\) or mlm \(BERT\)/);
    });

    it('an empty or missing file is an error naming --data', async () => {
      const empty = path.join(work, 'empty.txt');
      fs.writeFileSync(empty, '');
      expectOneLineError(await tsgrad(['train', '--data', empty, '--out', path.join(work, 'e1')]), /--data .*empty\.txt is empty \(0 bytes\)/);
      expectOneLineError(await tsgrad(['train', '--model', 'bert-tiny', '--data', path.join(work, 'nope.tsv'), '--out', path.join(work, 'e2')]), /--data .*nope\.tsv: file not found/);
      expectOneLineError(await tsgrad(['eval', '--checkpoint', path.join(work, 'extend'), '--data', path.join(work, 'nope.txt')]), /--data .*nope\.txt: file not found/);
    });
  });

  describe('weight decay belongs to the optimizer', () => {
    const config = (dir: string) => JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));

    it("--optimizer adam gets Adam's default decay (0), not the preset's AdamW 0.1; config.json and the banner say what was applied", async () => {
      const out = path.join(work, 'adam');
      const r = await tsgrad(nano(out, '--optimizer', 'adam', '--steps', '1'));
      expect(r.code, r.stderr).to.equal(0);
      expect(config(out).weightDecay).to.equal(0);
      expect(r.stdout).to.match(/Adam lr 1\.00e-3 wd 0 \(Adam's default; the preset's 0\.1 goes with adamw\)/);
    });

    it("the preset's optimizer keeps the preset's decay, and --weight-decay wins", async () => {
      const a = await tsgrad(nano(path.join(work, 'adamw'), '--steps', '1'));
      expect(a.stdout).to.match(/AdamW lr 1\.00e-3 wd 0\.1 \(decoupled, matrices only; the preset's\)/);
      const b = await tsgrad(nano(path.join(work, 'adam-wd'), '--optimizer', 'adam', '--weight-decay', '0.05', '--steps', '1'));
      expect(b.stdout).to.match(/Adam lr 1\.00e-3 wd 0\.05 \(L2 in the gradient, matrices only\)/);
      expect(config(path.join(work, 'adam-wd')).weightDecay).to.equal(0.05);
    });
  });

  it('a bad TSGRAD_BACKEND is one line on stderr, not a stack trace', async () => {
    expectOneLineError(await tsgrad(['train', '--help'], { TSGRAD_BACKEND: 'cuda' }), /TSGRAD_BACKEND: unknown backend 'cuda' \(expected js, wasm, gpujs or auto\)/);
  });

  it('counts agree with their nouns: 1 step, 1 batch', async () => {
    const r = await tsgrad(nano(path.join(work, 'one'), '--steps', '1', '--batch-size', '300', '--block-size', '16'));
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/training {2}1 step \(1 epoch of 1 batch\)/);
    expect(r.stdout).to.match(/done: 1 step · 1 in this run/);
    expect(r.stdout).to.not.match(/\b1 (steps|batches|tokens|examples)\b/);
  });

  it('a classifier that predicts one class for every example says so at the end of training and in eval', async () => {
    // every text the same: the model cannot tell the examples apart, so it predicts one class for all
    const same = path.join(work, 'same.tsv'), out = path.join(work, 'same');
    fs.writeFileSync(same, `${Array.from({ length: 40 }, (_, i) => `the very same words\t${i % 4 ? 'ham' : 'spam'}`).join('\n')}\n`);
    const r = await tsgrad(['train', '--model', 'bert-tiny', '--data', same, '--out', out, '--epochs', '1', '--block-size', '16', '--batch-size', '8', '--vocab-size', '40', '--val-fraction', '0.5']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/warning: the classifier predicts one class \('(ham|spam)'\) for every example: accuracy \S+ is that class's share/);
    const e = await tsgrad(['eval', '--checkpoint', out, '--data', same]);
    expect(e.code, e.stderr).to.equal(0);
    expect(e.stdout).to.match(/predicts one class \('(ham|spam)'\) for every example/);
  });

  it("one validation figure per checkpoint: training's last val loss, eval and quantize --compare agree, and each names the windows", async () => {
    const out = path.join(work, 'figure');
    const r = await tsgrad(nano(out, '--steps', '12', '--eval-every', '6'));
    expect(r.code, r.stderr).to.equal(0);
    const windows = /18 windows of 32 tokens from the start of the validation split/;
    expect(r.stdout).to.match(new RegExp(`eval {6}val loss over ${windows.source}`));
    const trained = readJsonl(path.join(out, 'log.jsonl')).filter((l) => typeof l.val_loss === 'number').at(-1)!.val_loss as number;
    const e = await tsgrad(['eval', '--checkpoint', out, '--data', text]);
    expect(e.stdout).to.match(windows);
    const evalLoss = Number(/^loss +(\S+)/m.exec(e.stdout)![1]);
    const q = await tsgrad(['quantize', '--checkpoint', out, '--out', path.join(work, 'figure-int8'), '--compare', '--data', text]);
    expect(q.code, q.stderr).to.equal(0);
    expect(q.stdout).to.match(new RegExp(`compare {3}${windows.source}`));
    const floatLoss = Number(/^ {2}loss +(\S+)/m.exec(q.stdout)![1]);
    expect(evalLoss).to.equal(Number(trained.toFixed(4)));
    expect(floatLoss).to.equal(evalLoss);
  });
});
