// Every teaching example runs (as a child process, `--fast`) and its key printed numbers are
// asserted: hand vs autograd (or vs tg.optim / the library) to 1e-10 in float64, the documents'
// mistakes visibly wrong, D20's θ₁ equal to a value computed here independently.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const EXAMPLES = ['01-neuron-and-layer', '02-activations', '03-losses', '04-backprop-by-hand', '05-worked-example-d20', '06-optimizers', '07-training-techniques', '09-self-attention'];
const outDir = mkdtempSync(join(tmpdir(), 'tsgrad-examples-'));

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(name: string): Promise<Run> {
  const args = ['--import', 'tsx', join('examples', `${name}.ts`), '--fast', '--out', outDir];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every `max |hand − X| = v` line's v. */
const agreements = (out: string) => [...out.matchAll(/max \|hand − (?:autograd|library|tg\.optim)\| = ([-+0-9.e]+)/g)].map((m) => Number(m[1]));

/** The number after `label` (first match). */
function numberAfter(out: string, label: string | RegExp): number {
  const re = typeof label === 'string' ? new RegExp(`${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*(-?[0-9.]+(?:e[-+]?\\d+)?|Infinity|NaN)`) : label;
  const m = out.match(re);
  if (!m) throw new Error(`no number after ${label} in:\n${out}`);
  return Number(m[1]);
}

/** The cells of the table row that starts with `first` (cells are separated by two spaces or more). */
function row(out: string, first: string): string[] {
  const line = out.split('\n').find((l) => l.trim().startsWith(first));
  if (!line) throw new Error(`no row starting with ${first} in:\n${out}`);
  return line.trim().split(/\s{2,}/);
}

describe('examples (each run with --fast)', function () {
  this.timeout(120_000);
  const runs = new Map<string, Run>();

  before(async () => {
    // two at a time: the machine has two cores
    const queue = [...EXAMPLES];
    const worker = async () => {
      for (let name = queue.shift(); name; name = queue.shift()) runs.set(name, await run(name));
    };
    await Promise.all([worker(), worker()]);
  });

  after(() => rmSync(outDir, { recursive: true, force: true }));

  it('every numbered example is run by some test', () => {
    const present = readdirSync('examples').filter((f) => /^\d\d-.*\.ts$/.test(f)).map((f) => f.replace(/\.ts$/, ''));
    const testFiles = ['test/examples', 'test/train'].flatMap((dir) => readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => readFileSync(join(dir, f), 'utf8')));
    const untested = present.filter((name) => !testFiles.some((text) => text.includes(name)));
    expect(untested, `untested examples: ${untested.join(', ')}`).to.deep.equal([]);
  });

  for (const name of EXAMPLES) {
    it(`${name} runs, agrees to 1e-10 everywhere it compares, and ends with "Notice:"`, () => {
      const r = runs.get(name)!;
      expect(r.code, r.stderr).to.equal(0);
      const lines = r.stdout.trim().split('\n');
      expect(lines[lines.length - 1]).to.match(/^Notice: /);
      for (const d of agreements(r.stdout)) expect(d).to.be.at.most(1e-10);
    });
  }

  it('01: a neuron and a layer (D1, D2)', () => {
    const out = runs.get('01-neuron-and-layer')!.stdout;
    expect(agreements(out)).to.have.length.at.least(7);
    expect(numberAfter(out, 'a = σ(z) =')).to.equal(Number((1 / (1 + Math.exp(0.2))).toFixed(6)));
  });

  it('02: activations and derivatives (D3–D5), and D5 as written overflowing', () => {
    const out = runs.get('02-activations')!.stdout;
    expect(agreements(out)).to.have.length(3);
    expect(numberAfter(out, "largest σ'(x) =")).to.equal(0.25);
    expect(out).to.match(/\(e\^x − e\^−x\)\/\(e\^x \+ e\^−x\) = NaN .*tg\.tanh gives 1/);
  });

  it('03: losses (D8–D13): the n/2 factor, masked positions only, the swapped names', () => {
    const out = runs.get('03-losses')!.stdout;
    expect(agreements(out)).to.have.length.at.least(11);
    expect(out).to.include('gradient ratio D9/D10 per element: [2.5000, 2.5000, 2.5000, 2.5000, 2.5000] = n/2 = 2.5');
    const m = out.match(/positions whose logits get a gradient: (\d+) of 40 \(= M = (\d+)\)/)!;
    expect(Number(m[1])).to.equal(Number(m[2])).and.to.be.greaterThan(0).and.lessThan(40);
    expect(numberAfter(out, '−Σ p_model·log y_onehot =')).to.equal(Infinity);
  });

  it("04: backprop by hand (D6, D15, D16), the document's δ wrong by numbers, the graph picture written", () => {
    const out = runs.get('04-backprop-by-hand')!.stdout;
    expect(agreements(out)).to.have.length.at.least(11);
    const document = [...out.matchAll(/max \|document − autograd\| = ([-+0-9.e]+)/g)].map((x) => Number(x[1]));
    expect(document).to.have.length(2);
    for (const d of document) expect(d).to.be.greaterThan(0.01);
    const step = out.match(/L (\S+) → (\S+) with the document's δ, → (\S+) with the corrected δ/)!.slice(1).map(Number);
    expect(step[1]).to.be.greaterThan(step[0]); // the document's rule raises the loss
    expect(step[2]).to.be.lessThan(step[0]);
    const svg = readFileSync(join(outDir, '04-backprop-graph.svg'), 'utf8');
    for (const label of ['W1', 'W2', 'z1', 'a1', 'matmul', 'sigmoid', 'grad [']) expect(svg).to.include(label);
    expect(existsSync(join(outDir, '04-backprop-graph.dot'))).to.equal(true);
  });

  it('05: D20 θ₁ equals an independent computation; the document\'s α = 1 and shapes explained', () => {
    const out = runs.get('05-worked-example-d20')!.stdout;
    expect(agreements(out)).to.have.length.at.least(5);
    // θ₀ = 0.5 everywhere, no biases: every hidden unit is a = σ(0.5x), ŷ = σ(10·0.5·a), L = 1/10 Σ (ŷ − y)²
    const sigma = (z: number) => 1 / (1 + Math.exp(-z));
    let gW1 = 0, gW2 = 0;
    for (let i = 1; i <= 10; i++) {
      const x = i / 10, y = (i - 1) % 2, a = sigma(0.5 * x), yHat = sigma(5 * a);
      const dz2 = (2 / 10) * (yHat - y) * yHat * (1 - yHat);
      gW2 += dz2 * a; // ∂L/∂W2_i
      gW1 += dz2 * 0.5 * a * (1 - a) * x; // ∂L/∂W1_i
    }
    const m = out.match(/W1 = (\S+) \(all 10\), W2 = (\S+) \(all 10\)/)!;
    expect(Number(m[1])).to.be.closeTo(0.5 - 0.1 * gW1, 1e-10);
    expect(Number(m[2])).to.be.closeTo(0.5 - 0.1 * gW2, 1e-10);
    expect(out).to.include('the step used α = 1, not 0.1');
    expect(out).to.include('[0.49, 0.48, 0.47, 0.46, 0.45, 0.44, 0.43, 0.42, 0.41, 0.40]');
    expect(numberAfter(out, /L\(θ₁\) = (\S+)/)).to.be.lessThan(numberAfter(out, /L\(θ₀\) = (\S+)\n  ∂L\/∂W2 at θ₀/));
  });

  it('06: optimizers (D17, D18): the rules match tg.optim; the uncorrected first step is 3.16α', () => {
    const out = runs.get('06-optimizers')!.stdout;
    expect(agreements(out)).to.have.length(5);
    const first = row(out, '1 ');
    expect(first.slice(2).map(Number)).to.deep.equal([3.162, 1, 1]); // Adam as written, corrected, AdamW
    expect(Number(row(out, '12 ')[4])).to.be.closeTo(6.5685, 1e-4);
    const adamW = row(out, 'AdamW (θ ← θ(1 − αλ))').slice(1), byHand = row(out, '(1 − αλ)^t by hand').slice(1);
    expect(adamW).to.deep.equal(byHand);
  });

  it('07: training techniques (D19) each show their effect', () => {
    const out = runs.get('07-training-techniques')!.stdout;
    expect(agreements(out)).to.have.length(4);
    expect(Number(row(out, 'with BatchNorm1d')[2])).to.be.greaterThan(Number(row(out, 'without')[2]) + 0.3);
    const mse = out.match(/mean test MSE (\S+) without dropout, (\S+) with p = 0.3/)!;
    expect(Number.isFinite(Number(mse[1])) && Number.isFinite(Number(mse[2]))).to.equal(true);
    const irrelevant = (first: string) => Number(row(out, first)[2].split(' ')[0]);
    expect(irrelevant('L1, λ = 0.1')).to.be.greaterThan(irrelevant('none') + 10);
    const notClipped = row(out, 'not clipped'), clipped = row(out, 'clipped at ‖g‖ = 5');
    expect(Number(notClipped[4])).to.be.greaterThan(1e10);
    expect(Number(clipped[4])).to.be.lessThan(1);
    expect(Number(row(out, 'constant')[2])).to.be.greaterThan(10 * Number(row(out, 'cosine')[2]));
    const augmentation = row(out.slice(out.indexOf('== Data augmentation')), '1 ').slice(1).map(Number); // train, test, train augmented, test augmented
    expect(augmentation[3]).to.be.greaterThan(augmentation[1] + 0.2);
  });

  it('09: self-attention by hand equals scaledDotProductAttention; the mask is causal', () => {
    const out = runs.get('09-self-attention')!.stdout;
    expect(agreements(out)).to.have.length(5);
    const change = row(out, 'largest change').slice(1).map(Number);
    expect(change.slice(0, 3)).to.deep.equal([0, 0, 0]);
    expect(change[3]).to.be.greaterThan(0);
  });

});
