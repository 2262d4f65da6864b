// docs/scale-out.md, as far as this machine allows: a tsgrad checkpoint folder is a Hugging Face
// model folder. The weights are read by a safetensors reader written here from the format's spec
// (no tsgrad code), and, where PyTorch is importable, a plain PyTorch forward of Hugging Face's
// GPT2LMHeadModel / BertForMaskedLM math (hf_forward.py, its own reader too) reproduces the logits.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { BertForMaskedLM } from '../../src/models/bert.js';
import { fromPretrained } from '../../src/models/hf.js';
import { saveModel } from '../../src/train/model-files.js';
import { maxAbsDiff, scrambleWeights } from './runtime.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-scale-out-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

interface Entry { dtype: string; shape: number[]; values: Float32Array }

/** safetensors from its spec: u64 little-endian header length N, N bytes of JSON, then the data, each tensor at data_offsets. */
function readSafetensors(file: string): { metadata: Record<string, string>; tensors: Map<string, Entry> } {
  const bytes = fs.readFileSync(file);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8'));
  const data = bytes.subarray(8 + n);
  const tensors = new Map<string, Entry>();
  const spans: [number, number][] = [];
  for (const [name, e] of Object.entries<any>(header)) {
    if (name === '__metadata__') continue;
    const [start, end] = e.data_offsets;
    expect(end - start, `${name}: bytes for ${e.dtype} ${JSON.stringify(e.shape)}`).to.equal(4 * e.shape.reduce((a: number, d: number) => a * d, 1));
    const copy = new Uint8Array(data.subarray(start, end)); // aligned copy
    tensors.set(name, { dtype: e.dtype, shape: e.shape, values: new Float32Array(copy.buffer) });
    spans.push([start, end]);
  }
  spans.sort((a, b) => a[0] - b[0]);
  spans.forEach(([start], i) => expect(start, 'tensors are packed back to back').to.equal(i === 0 ? 0 : spans[i - 1][1]));
  expect(spans.at(-1)![1], 'the data section ends with the last tensor').to.equal(data.length);
  return { metadata: header.__metadata__ ?? {}, tensors };
}

/** The 2-D transpose of a row-major [rows, cols] array. */
function transposed(values: ArrayLike<number>, rows: number, cols: number): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = values[i * cols + j];
  return out;
}

const gptConfig = { vocabSize: 31, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 2, dropout: 0, tieWeights: true };
const bertConfig = {
  vocabSize: 37, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 32, maxPositionEmbeddings: 16,
  hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
};

describe('scale-out: a checkpoint folder is a Hugging Face model folder', () => {
  it('GPT: config.json as GPT2LMHeadModel, HF names, Conv1D weights [in, out], the tied head stored once', () => {
    tg.manualSeed(21);
    const gpt = new GPT(gptConfig);
    const dir = path.join(work, 'gpt-layout');
    saveModel(gpt, dir);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config).to.include({ model_type: 'gpt2', vocab_size: 31, n_positions: 16, n_embd: 16, n_layer: 2, n_head: 2, tie_word_embeddings: true, activation_function: 'gelu_new' });
    expect(config.architectures).to.deep.equal(['GPT2LMHeadModel']);
    const { metadata, tensors } = readSafetensors(path.join(dir, 'model.safetensors'));
    expect(metadata.format).to.equal('pt'); // what transformers checks before loading
    const perLayer = ['ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias',
      'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias'];
    const expected = ['transformer.wte.weight', 'transformer.wpe.weight', 'transformer.ln_f.weight', 'transformer.ln_f.bias',
      ...[0, 1].flatMap((l) => perLayer.map((n) => `transformer.h.${l}.${n}`))];
    expect([...tensors.keys()].sort()).to.deep.equal(expected.sort());
    expect(tensors.get('transformer.h.0.attn.c_attn.weight')!.shape).to.deep.equal([16, 48]); // Conv1D: [in, out]
    const sd = gpt.stateDict();
    expect([...tensors.get('transformer.h.1.mlp.c_fc.weight')!.values]).to.deep.equal([...transposed(sd['transformer.h.1.mlp.c_fc.weight'].data, 64, 16)]);
    expect([...tensors.get('transformer.wte.weight')!.values]).to.deep.equal([...sd['transformer.wte.weight'].data]);
  });

  it('BertForMaskedLM: HF names with the bert. prefix, the MLM bias, no stored copy of the tied decoder', () => {
    tg.manualSeed(22);
    const dir = path.join(work, 'bert-layout');
    saveModel(new BertForMaskedLM(bertConfig), dir);
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8'));
    expect(config).to.include({ model_type: 'bert', hidden_size: 16, num_hidden_layers: 2, hidden_act: 'gelu' });
    const names = [...readSafetensors(path.join(dir, 'model.safetensors')).tensors.keys()];
    expect(names).to.include.members(['bert.embeddings.word_embeddings.weight', 'bert.encoder.layer.1.attention.self.query.weight', 'cls.predictions.bias', 'cls.predictions.transform.LayerNorm.weight']);
    expect(names.filter((n) => n.startsWith('cls.predictions.decoder.') || n.startsWith('bert.pooler.'))).to.deep.equal([]);
  });
});

/** A python3 that imports torch, or null with the reason. */
function findTorch(): { python: string | null; reason: string } {
  for (const python of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(python, ['-c', 'import torch; print(torch.__version__)'], { encoding: 'utf8' });
    if (r.status === 0) return { python, reason: `${python}: torch ${r.stdout.trim()}` };
  }
  return { python: null, reason: "neither python3 nor /usr/bin/python3 can import torch (Debian: apt-get install python3-torch)" };
}

describe('scale-out: a plain PyTorch forward of the folder reproduces tsgrad\'s logits', function () {
  this.timeout(120_000);
  const torch = findTorch();
  before(function () {
    console.log(`      PyTorch: ${torch.reason}`);
    if (!torch.python) this.skip();
  });

  const pytorchLogits = (dir: string, inputs: Record<string, Tensor>) => {
    const json = JSON.stringify(Object.fromEntries(Object.entries(inputs).map(([k, t]) => [k, t.toArray()])));
    const r = spawnSync(torch.python!, [path.join('test', 'onnx', 'hf_forward.py'), dir, json], { encoding: 'utf8' });
    expect(r.stderr, 'hf_forward.py stderr').to.equal('');
    return JSON.parse(r.stdout) as { logits: number[]; shape: number[] };
  };

  it('GPT2LMHeadModel math on the saved GPT, and the folder back into tsgrad with fromPretrained', async () => {
    tg.manualSeed(23);
    const gpt = new GPT(gptConfig);
    scrambleWeights(gpt);
    const dir = path.join(work, 'gpt-torch');
    saveModel(gpt, dir);
    const ids = tg.randint(0, 31, [2, 11]);
    const ours = tg.noGrad(() => gpt.eval().forward(ids).logits);
    const theirs = pytorchLogits(dir, { input_ids: ids });
    expect(theirs.shape).to.deep.equal([2, 11, 31]);
    const diff = maxAbsDiff(theirs.logits, ours.data);
    console.log(`      GPT: max |pytorch − tsgrad| = ${diff.toExponential(2)}`);
    expect(diff).to.be.below(1e-4);
    const back = (await fromPretrained(dir, { warn: () => {} })) as GPT;
    expect(maxAbsDiff(tg.noGrad(() => back.forward(ids).logits).data, ours.data)).to.equal(0);
  });

  it('BertForMaskedLM math with padding and segments', () => {
    tg.manualSeed(24);
    const bert = new BertForMaskedLM(bertConfig);
    scrambleWeights(bert);
    const dir = path.join(work, 'bert-torch');
    saveModel(bert, dir);
    const [B, T] = [3, 9];
    const mask = new tg.Tensor(Int32Array.from({ length: B * T }, (_, i) => (i % T < T - 2 * Math.floor(i / T) ? 1 : 0)), [B, T], 'int32');
    const inputs = { input_ids: tg.randint(0, 37, [B, T]), attention_mask: mask, token_type_ids: tg.randint(0, 2, [B, T]) };
    const ours = tg.noGrad(() => bert.eval().forward(inputs.input_ids, { attentionMask: mask, tokenTypeIds: inputs.token_type_ids }).logits);
    const theirs = pytorchLogits(dir, inputs);
    const diff = maxAbsDiff(theirs.logits, ours.data);
    console.log(`      BertForMaskedLM: max |pytorch − tsgrad| = ${diff.toExponential(2)}`);
    expect(diff).to.be.below(1e-4);
  });

  it('a small preset\'s untied head has a bias GPT2LMHeadModel lacks: the only difference, flagged in config.json', () => {
    tg.manualSeed(25);
    const gpt = new GPT({ ...gptConfig, tieWeights: false }); // as gpt-nano, gpt-baby, gpt-mini
    scrambleWeights(gpt);
    const dir = path.join(work, 'gpt-head-bias');
    saveModel(gpt, dir);
    expect(JSON.parse(fs.readFileSync(path.join(dir, 'config.json'), 'utf8')).tsgrad_lm_head_bias).to.equal(true);
    const ids = tg.randint(0, 31, [1, 6]);
    const ours = tg.noGrad(() => gpt.eval().forward(ids).logits).data;
    const theirs = pytorchLogits(dir, { input_ids: ids }).logits;
    const bias = gpt.lm_head.bias!.data;
    expect(maxAbsDiff(theirs.map((v, i) => v + bias[i % 31]), ours)).to.be.below(1e-4);
  });
});
