// The heavier teaching examples 10–14 (CNN, toy GPT vs GPT, text classifier, BERT, deployment),
// each run as a child process with --fast (seconds) and its key printed numbers asserted: hand vs
// autograd or library to 1e-10, losses that fall, the documents' mistakes visibly wrong.
// Their full runs, with the accuracies they state, are in slow.test.ts (skipped unless TSGRAD_SLOW=1).
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agreements, numberAfter, row, runExample, type Run } from './run.js';

const EXAMPLES = ['10-cnn-mnist', '11-toy-gpt-vs-gpt', '12-text-classifier', '13-bert-pretrain-finetune', '14-deployment', '15-higher-order-gradients'];
const outDir = mkdtempSync(join(tmpdir(), 'tsgrad-examples-b-'));

describe('examples 10–14 (each run with --fast)', function () {
  this.timeout(180_000);
  const runs = new Map<string, Run>();

  before(async () => {
    const queue = [...EXAMPLES]; // two at a time: the machine has two cores
    const worker = async () => {
      for (let name = queue.shift(); name; name = queue.shift()) runs.set(name, await runExample(name, ['--fast', '--out', outDir]));
    };
    await Promise.all([worker(), worker()]);
  });

  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('every example numbered 10 or more is tested here', () => {
    const present = readdirSync('examples').filter((f) => /^\d\d-.*\.ts$/.test(f) && Number(f.slice(0, 2)) >= 10).map((f) => f.replace(/\.ts$/, ''));
    expect(present.sort()).to.deep.equal([...EXAMPLES].sort());
  });

  for (const name of EXAMPLES) {
    it(`${name} runs, agrees to 1e-10 everywhere it compares, and ends with "Notice:"`, () => {
      const r = runs.get(name)!;
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[lines.length - 1]).to.match(/^Notice: /);
      expect(agreements(r.stdout).length).to.be.greaterThan(0);
      for (const d of agreements(r.stdout)) expect(d).to.be.at.most(1e-10);
    });
  }

  it('10: convolution and pooling by hand equal the library; LeNet-5 learns', () => {
    const out = runs.get('10-cnn-mnist')!.stdout;
    expect(agreements(out)).to.have.length(5);
    expect(numberAfter(out, 'LeNet-5 has')).to.equal(61706);
    expect(out).to.include('784·4704 + 4704 = 3692640');
    for (const [layer, side, shape] of [['conv 1→6', '28', '[1, 6, 28, 28]'], ['conv 6→16', '10', '[1, 16, 10, 10]']]) {
      const cells = row(out, layer);
      expect(cells[1].endsWith(`= ${side}`)).to.equal(true);
      expect(cells[2]).to.equal(shape);
    }
    const losses = [...out.matchAll(/epoch \d+\/\d+ {2}loss (\S+)/g)].map((m) => Number(m[1]));
    expect(losses).to.have.length(2);
    expect(losses[1]).to.be.lessThan(losses[0]);
    const before = numberAfter(out, 'before training: test accuracy');
    const after = numberAfter(out, 'test accuracy:');
    expect(after).to.be.greaterThan(before + 0.3); // 2,000 digits, 2 epochs: ≈ 0.7 from ≈ 0.1
  });

  it('11: the toy ignores everything but the last word, the GPT does not; both learn; both generate 10 words', () => {
    const out = runs.get('11-toy-gpt-vs-gpt')!.stdout;
    expect(agreements(out)).to.have.length(1); // the greedy loop equals GPT.generate
    expect(out).to.match(/"The cat" → \[2, 1\] = "the <OOV>": "cat" is not in these 3000 words/);
    expect(out).to.match(/with n_layers = 2 the loop runs Linear and ReLU only: its "logits" have shape \[2, 512\]/);
    const change = out.match(/largest change in p\(next word\) between the two passages: toy (\S+), GPT (\S+)/)!;
    expect(Number(change[1])).to.equal(0);
    expect(Number(change[2])).to.be.greaterThan(0);
    const toyMeans = [...out.matchAll(/Epoch: \d+, Loss: \S+ {3}\(mean over the epoch (\S+), validation (\S+)\)/g)].map((m) => Number(m[1]));
    expect(toyMeans).to.have.length(2);
    expect(toyMeans[1]).to.be.lessThan(toyMeans[0]);
    const gpt = [...out.matchAll(/round \d+: step \d+\/\d+, mean training loss (\S+), validation (\S+)/g)].map((m) => [Number(m[1]), Number(m[2])]);
    expect(gpt[gpt.length - 1][0]).to.be.lessThan(gpt[0][0]);
    expect(gpt[gpt.length - 1][1]).to.be.lessThan(gpt[0][1]);
    expect(numberAfter(out, 'conditional entropy of the training bigrams:')).to.be.lessThan(Math.log(329));
    for (const model of ['toy', 'GPT']) {
      const cells = row(out, `${model}  `); // the generation table, not the 'toy next:' lines
      expect(cells).to.have.length(3);
      for (const text of cells.slice(1)) {
        expect(text.split(' ')).to.have.length(12); // "the <OOV>" + 10 words
        expect(text.startsWith('the <OOV>')).to.equal(true);
      }
      expect(cells[2].split(' ').slice(2)).to.not.include('<OOV>');
    }
  });

  it('12: BCE and pooling by hand; the document\'s categorical loss has zero gradient or calls everything spam', () => {
    const out = runs.get('12-text-classifier')!.stdout;
    expect(agreements(out)).to.have.length(3);
    expect(numberAfter(out, 'the Embedding gets')).to.equal(10000);
    const losses = [...out.matchAll(/^ +\d+\/\d+ +(\S+) +(\S+) +(\S+)$/gm)].map((m) => Number(m[1]));
    expect(losses).to.have.length(2);
    expect(losses[1]).to.be.lessThan(losses[0]);
    expect(out).to.match(/every sample's "distribution" is \[1\]/);
    expect(numberAfter(out, /largest \|∂L\/∂θ\| over all \d+ parameters: (\S+)/)).to.equal(0);
    const keras = out.match(/Keras's categorical loss on the batch: (\S+) = \d+\/32 spam × −log\(1 − 1e-7\) = (\S+),/)!;
    expect(Number(keras[1])).to.be.closeTo(Number(keras[2]), 1e-10).and.lessThan(1e-6);
    expect(numberAfter(out, 'one epoch with −y log ŷ:')).to.equal(100);
    const testSpamShare = numberAfter(out, /share of spam: \S+ in training, (\S+) in test/);
    expect(numberAfter(out, /are called spam, test accuracy (\S+)/)).to.be.closeTo(testSpamShare, 1e-3);
  });

  it('13: masking is 15% / 80-10-10, the MLM loss and the D27 metrics agree by hand, weights copy exactly, the logs follow D23/D24', () => {
    const out = runs.get('13-bert-pretrain-finetune')!.stdout;
    expect(agreements(out)).to.have.length(2);
    const [chosen, toMask] = out.match(/\d+\/\d+ = (\S+)% +(\S+)% +\S+% +\S+%/)!.slice(1).map(Number);
    expect(chosen).to.be.within(12, 18);
    expect(toMask).to.be.within(75, 85);
    const steps = [...out.matchAll(/^ {2}Step (\d+)\/(\d+) - loss: (\S+) - learning_rate: (\S+)$/gm)];
    expect(steps).to.have.length(8);
    expect(Number(steps[steps.length - 1][4])).to.equal(0); // linear decay to 0
    expect(Number(steps[steps.length - 1][3])).to.be.lessThan(Number(steps[0][3]));
    expect(out).to.match(/^ {2}Epoch \[1\/1\], Loss: \d+\.\d+$/m);
    expect(out).to.include('new, randomly initialised: bert.pooler.dense.weight, bert.pooler.dense.bias, classifier.weight, classifier.bias');
    expect(numberAfter(out, 'largest |pre-trained − loaded| over the copied weights:')).to.equal(0);
    expect(out).to.include('crossEntropy: target of shape [2] does not match logits of shape [128, 64]');
    const counts = out.match(/TP = (\d+), FP = (\d+), FN = (\d+), TN = (\d+)/)!.slice(1).map(Number);
    expect(counts.reduce((a, b) => a + b)).to.equal(200);
    expect(numberAfter(out, 'Test Accuracy:')).to.be.closeTo((counts[0] + counts[3]) / 200, 1e-4);
  });

  it('14: int8 per output channel stays within half a step, is ~4× smaller and barely moves the model', () => {
    const out = runs.get('14-deployment')!.stdout;
    expect(agreements(out)).to.have.length(1);
    for (const layer of ['0 ', '1 ', '2 ']) expect(Number(row(out, layer)[4])).to.be.at.most(1);
    const float32 = row(out, 'float32'), perRow = row(out, 'int8, scale per row'), perMatrix = row(out, 'int8, one scale per matrix');
    expect(Number(float32[1]) / Number(perRow[1])).to.be.within(3.8, 4);
    expect(Number(perRow[2])).to.be.lessThan(Number(perMatrix[2])); // mean |W − Ŵ|
    expect(Math.abs(Number(perRow[4]) - Number(float32[4]))).to.be.at.most(0.01); // test accuracy
    expect(Number(row(out, '95%')[2])).to.be.lessThan(Number(row(out, '0%')[2]) - 0.2); // pruning 95% hurts
    expect(existsSync(join(outDir, '14-mlp.safetensors'))).to.equal(true);
    expect(out).to.include('tsgrad quantize --checkpoint DIR --out DIR2');
    expect(out).to.include('tsgrad serve --checkpoint DIR');
  });
  it('15: a Hessian-vector product by double backward equals the hand-built H·v and finite differences; Newton beats descent', () => {
    const out = runs.get('15-higher-order-gradients')!.stdout;
    expect(agreements(out)).to.have.length(1);
    expect(numberAfter(out, 'max |finite differences − autograd| =')).to.be.lessThan(1e-7);
    expect(numberAfter(out, 'Newton after 6 steps: w = [')).to.be.closeTo(-0.130134, 1e-6);
    expect(numberAfter(out, /Newton after 6 steps: .*‖∇L‖ = ([0-9.e+-]+)/)).to.be.lessThan(1e-12);
    expect(numberAfter(out, 'gradient descent after 6 steps: ‖∇L‖ =')).to.be.greaterThan(1e-3);
  });
});
