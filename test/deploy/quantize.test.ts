// int8 quantization (D28): the rule on a hand example and as a property, I8 in safetensors, and
// quantized checkpoints of a GPT and a BERT classifier: smaller files, outputs close to float32,
// tied weights, refusals of broken files, and the `tsgrad quantize` command.
import { expect } from 'chai';
import fc from 'fast-check';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tg from '../../src/index.js';
import { Tensor } from '../../src/tensor/tensor.js';
import * as io from '../../src/io/index.js';
import { GPT, BertForSequenceClassification } from '../../src/models/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { saveModel } from '../../src/train/model-files.js';
import { MLP } from '../../src/models/mlp.js';
import { quantizeRows, dequantizeRows } from '../../src/deploy/int8.js';
import { quantizeCheckpoint, loadQuantized, loadAnyCheckpoint, isQuantized } from '../../src/deploy/quantized.js';
import { classify } from '../../src/deploy/inference.js';
import type { WordPieceTokenizer } from '../../src/data/tokenizers/index.js';
import { gptCheckpoint, bertCheckpoint, tempDir, TEXT, SPAM, HAM } from './fixtures.js';

const f32 = (x: number) => Math.fround(x);
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

describe('deploy: int8 quantization, per output channel', () => {
  it('a hand example: scale = max|row| / 127, q = round(W / scale), halves away from zero, a zero row stays zero', () => {
    const w = [1, -0.5, 0.25, 0, 0, 0, -2, 1, 0.004];
    const { q, scale } = quantizeRows(w, 3, 3);
    expect(Array.from(scale)).to.deep.equal([f32(1 / 127), 0, f32(2 / 127)]);
    expect(Array.from(q)).to.deep.equal([127, -64, 32, 0, 0, 0, -127, 64, 0]); // −63.5 → −64, 31.75 → 32, 0.254 → 0
    const back = dequantizeRows({ q, scale, rows: 3, cols: 3 });
    expect(back[0]).to.equal(f32(127 * f32(1 / 127)));
    for (let i = 0; i < 9; i++) expect(Math.abs(back[i] - w[i])).to.be.at.most(scale[Math.floor(i / 3)] / 2 + 1e-7);
    expect(Array.from(quantizeRows(w.map((v) => -v), 3, 3).q)).to.deep.equal(Array.from(q, (v) => -v || 0)); // symmetric
  });

  it('property: codes in [-127, 127], each row reaches ±127, and every entry is within scale/2', () => {
    fc.assert(fc.property(
      fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 9 }), fc.array(fc.float({ min: -50, max: 50, noNaN: true }), { minLength: 54, maxLength: 54 }),
      (rows, cols, values) => {
        const w = Float32Array.from(values.slice(0, rows * cols));
        const { q, scale } = quantizeRows(w, rows, cols);
        const back = dequantizeRows({ q, scale, rows, cols });
        for (let o = 0; o < rows; o++) {
          const row = Array.from(q.subarray(o * cols, (o + 1) * cols));
          expect(row.every((v) => v >= -127 && v <= 127)).to.equal(true);
          if (scale[o] > 0) expect(Math.max(...row.map(Math.abs))).to.equal(127);
          for (let i = o * cols; i < (o + 1) * cols; i++) expect(Math.abs(back[i] - w[i])).to.be.at.most(scale[o] / 2 * (1 + 1e-5) + 1e-30);
        }
      },
    ), { numRuns: 200 });
  });

  it('refuses a non-finite weight and a wrong size', () => {
    expect(() => quantizeRows([1, Infinity], 1, 2)).to.throw(/row 0 holds Infinity/);
    expect(() => quantizeRows([1, 2, 3], 2, 2)).to.throw(/3 values do not make a \[2, 2\] matrix/);
  });
});

describe('deploy: I8 tensors in safetensors (tg.io)', () => {
  it('stores chosen int32 tensors as I8 (1 byte each) and reads them back as int32', () => {
    const codes = new Tensor(Int32Array.from([-128, -1, 0, 127]), [2, 2], 'int32');
    const scale = new Tensor(Float32Array.from([0.5, 0.25]), [2], 'float32');
    const bytes = io.serialize({ w: codes, w_scale: scale }, undefined, { dtypes: { w: 'I8' } });
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + Number(new DataView(bytes.buffer).getBigUint64(0, true)))));
    expect(header.w).to.deep.equal({ dtype: 'I8', shape: [2, 2], data_offsets: [8, 12] });
    const back = io.deserialize(bytes).tensors;
    expect(back.w.dtype).to.equal('int32');
    expect(Array.from(back.w.data)).to.deep.equal([-128, -1, 0, 127]);
    expect(Array.from(back.w_scale.data)).to.deep.equal([0.5, 0.25]);
  });

  it('reads an I8 tensor written by another program', () => {
    const json = new TextEncoder().encode(JSON.stringify({ q: { dtype: 'I8', shape: [4], data_offsets: [0, 4] } }).padEnd(48, ' '));
    const file = new Uint8Array(8 + json.length + 4);
    new DataView(file.buffer).setBigUint64(0, BigInt(json.length), true);
    file.set(json, 8);
    file.set([1, 255, 128, 127], 8 + json.length);
    expect(Array.from(io.deserialize(file).tensors.q.data)).to.deep.equal([1, -1, -128, 127]);
  });

  it('refuses values outside [-128, 127], a float tensor, and a name that is not there', () => {
    const t = (v: number[], dtype: 'int32' | 'float32' = 'int32') => new Tensor(dtype === 'int32' ? Int32Array.from(v) : Float32Array.from(v), [v.length], dtype);
    expect(() => io.serialize({ w: t([0, 128]) }, undefined, { dtypes: { w: 'I8' } })).to.throw(/'w' holds 128 at index 1, outside the I8 range/);
    expect(() => io.serialize({ w: t([0.5], 'float32') }, undefined, { dtypes: { w: 'I8' } })).to.throw(/only from an int32 tensor \(got float32\)/);
    expect(() => io.serialize({ w: t([1]) }, undefined, { dtypes: { v: 'I8' } })).to.throw(/names 'v', which is not among the tensors/);
  });
});

describe('deploy: quantized checkpoints', function () {
  const work = tempDir('quantize');
  const gptDir = gptCheckpoint(path.join(work, 'gpt'));
  const bertDir = bertCheckpoint(path.join(work, 'bert'));

  after(() => fs.rmSync(work, { recursive: true, force: true }));

  it('GPT: a file ~3× smaller; Linear weights are exactly q·scale, the rest unchanged; logits close to float32', async () => {
    const float = await loadCheckpoint(gptDir);
    const out = path.join(work, 'gpt-int8');
    const report = quantizeCheckpoint(float, out);
    expect(report.weights.map((w) => w.name)).to.include.members(['transformer.h.0.attn.c_attn.weight', 'transformer.h.1.mlp.c_proj.weight', 'lm_head.weight']);
    expect(report.weights.map((w) => w.name)).not.to.include('transformer.wte.weight');
    expect(report.bytesAfter).to.be.below(report.bytesBefore / 2.5);
    expect(fs.statSync(path.join(out, 'model.safetensors')).size).to.equal(report.bytesAfter);
    expect(isQuantized(out)).to.equal(true);
    expect(isQuantized(gptDir)).to.equal(false);

    const rng = tg.getRngState();
    const int8 = await loadQuantized(out);
    expect(tg.getRngState()).to.deep.equal(rng); // building the model did not move the random stream
    expect(int8.task).to.equal('lm');
    expect(int8.tokenizer!.vocabSize).to.equal(float.tokenizer!.vocabSize);
    const a = float.model.stateDict(), b = int8.model.stateDict();
    for (const name of Object.keys(a)) {
      const w = a[name];
      if (report.weights.some((q) => q.name === name)) {
        const rows = w.shape[0];
        expect(Array.from(b[name].data)).to.deep.equal(Array.from(dequantizeRows(quantizeRows(w.data, rows, w.size / rows))), name);
      } else {
        expect(Array.from(b[name].data)).to.deep.equal(Array.from(w.data), name);
      }
    }
    const prompt = float.tokenizer!.encode('The whale swam under');
    const x = new Tensor(Int32Array.from(prompt), [1, prompt.length], 'int32');
    const la = tg.noGrad(() => (float.model as GPT).forward(x).logits), lb = tg.noGrad(() => (int8.model as GPT).forward(x).logits);
    const scale = Math.max(...Array.from(la.data, Math.abs));
    expect(maxAbsDiff(la.data, lb.data)).to.be.below(0.02 * scale);
    expect(Array.from(la.argmax(-1).data)).to.deep.equal(Array.from(lb.argmax(-1).data));
  });

  it('GPT with tied weights: the shared embedding stays float32 unless --embeddings, and stays tied after loading', async () => {
    const dir = gptCheckpoint(path.join(work, 'gpt-tied'), { tieWeights: true });
    const float = await loadCheckpoint(dir);
    const plain = quantizeCheckpoint(float, path.join(work, 'gpt-tied-int8'));
    expect(plain.weights.map((w) => w.name)).not.to.include.members(['lm_head.weight', 'transformer.wte.weight']);
    const all = quantizeCheckpoint(float, path.join(work, 'gpt-tied-int8e'), { embeddings: true });
    expect(all.weights.map((w) => w.name)).to.include.members(['transformer.wte.weight', 'transformer.wpe.weight']);
    expect(all.weights.map((w) => w.name)).not.to.include('lm_head.weight'); // stored once, under its first name
    expect(all.bytesAfter).to.be.below(plain.bytesAfter);
    const model = (await loadQuantized(path.join(work, 'gpt-tied-int8e'))).model as GPT;
    expect(model.lm_head.weight).to.equal(model.transformer.wte.weight);
  });

  it('BERT classifier: the same labels and close probabilities, with and without --embeddings', async () => {
    const float = await loadCheckpoint(bertDir);
    const texts = [...SPAM, ...HAM];
    const expected = classify(float.model as BertForSequenceClassification, float.tokenizer as WordPieceTokenizer, float.labelNames!, texts, 32);
    for (const embeddings of [false, true]) {
      const out = path.join(work, `bert-int8-${embeddings}`);
      const report = quantizeCheckpoint(float, out, { embeddings });
      expect(report.weights.some((w) => w.name === 'bert.embeddings.word_embeddings.weight')).to.equal(embeddings);
      const int8 = await loadAnyCheckpoint(out);
      expect(int8.quantization?.embeddings).to.equal(embeddings);
      expect(int8.task).to.equal('classify');
      const got = classify(int8.model as BertForSequenceClassification, int8.tokenizer as WordPieceTokenizer, int8.labelNames!, texts, 32);
      got.forEach((g, i) => {
        expect(g.label).to.equal(expected[i].label);
        expect(Math.abs(g.score - expected[i].score)).to.be.below(0.01);
      });
    }
  });

  it('an MLP (image task) too: the same predictions', async () => {
    tg.manualSeed(3);
    const mlp = new MLP([784, 32, 10], { activation: 'tanh' });
    const dir = path.join(work, 'mlp');
    saveModel(mlp, dir);
    const float = await loadCheckpoint(dir);
    quantizeCheckpoint(float, path.join(work, 'mlp-int8'));
    const int8 = await loadQuantized(path.join(work, 'mlp-int8'));
    expect(int8.task).to.equal('image');
    const x = tg.randn([16, 784]);
    const a = tg.noGrad(() => (float.model as MLP).forward(x).logits), b = tg.noGrad(() => (int8.model as MLP).forward(x).logits);
    expect(Array.from(b.argmax(1).data)).to.deep.equal(Array.from(a.argmax(1).data));
    expect(maxAbsDiff(a.data, b.data)).to.be.below(0.05);
  });

  it('the generic loader refuses a quantized folder loudly; loadAnyCheckpoint reads both kinds', async () => {
    const out = path.join(work, 'gpt-int8');
    let message = '';
    await loadCheckpoint(out).catch((e: Error) => (message = e.message));
    expect(message).to.match(/unexpected keys: .*_scale/);
    expect((await loadAnyCheckpoint(gptDir)).quantization).to.equal(null);
    expect((await loadAnyCheckpoint(out)).quantization?.quant_method).to.equal('tsgrad-int8');
  });

  it('refuses broken quantized files, an existing --out, and quantizing twice', async () => {
    const out = path.join(work, 'gpt-int8');
    const broken = path.join(work, 'gpt-broken');
    fs.cpSync(out, broken, { recursive: true });
    const file = path.join(broken, 'model.safetensors');
    const tensors = io.load(file);
    const dtypes: Record<string, 'I8'> = {};
    for (const [name, t] of Object.entries(tensors)) if (t.dtype === 'int32') dtypes[name] = 'I8';
    tensors['lm_head.weight_scale'].data[0] = -1;
    io.save(file, tensors, undefined, { dtypes });
    let message = '';
    await loadQuantized(broken).catch((e: Error) => (message = e.message));
    expect(message).to.match(/'lm_head.weight_scale' holds a negative or non-finite scale/);

    delete tensors['transformer.h.0.attn.c_attn.weight'];
    delete dtypes['transformer.h.0.attn.c_attn.weight'];
    io.save(file, tensors, undefined, { dtypes });
    await loadQuantized(broken).catch((e: Error) => (message = e.message));
    expect(message).to.match(/'transformer.h.0.attn.c_attn.weight' is missing/);

    const config = JSON.parse(fs.readFileSync(path.join(broken, 'config.json'), 'utf8'));
    config.quantization_config.weights = config.quantization_config.weights.filter((w: string) => w !== 'lm_head.weight');
    fs.writeFileSync(path.join(broken, 'config.json'), JSON.stringify(config));
    await loadQuantized(broken).catch((e: Error) => (message = e.message));
    expect(message).to.match(/'lm_head.weight' is int32 in the file, float32 in the model/);

    const float = await loadCheckpoint(gptDir);
    expect(() => quantizeCheckpoint(float, out)).to.throw(/exists; choose another --out or pass --overwrite/);
    expect(() => quantizeCheckpoint(float, out, { overwrite: true })).not.to.throw();
    const int8 = await loadQuantized(out);
    expect(() => quantizeCheckpoint(int8, path.join(work, 'twice'))).to.throw(/is already quantized/);
  });

  it('`tsgrad quantize --compare` prints the sizes and the float32/int8 comparison', function () {
    this.timeout(60_000);
    const data = path.join(work, 'text.txt');
    fs.writeFileSync(data, TEXT.repeat(30));
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'quantize', '--checkpoint', gptDir, '--out', path.join(work, 'cli-int8'), '--compare', '--data', data, '--generate-tokens', '10'], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    expect(r.stdout).to.match(/model\.safetensors [\d.]+ MB → [\d.]+ MB \([\d.]+× smaller\)/);
    expect(r.stdout).to.match(/same top-1 prediction\s+\d+\.\d+%/);
    expect(r.stdout).to.match(/greedy continuations of "The ": the first \d+ of 10 tokens agree/);
  });
});
