// tg.onnx.exportModel: each model exported once and run by ONNX Runtime at two sizes (two batch
// sizes, two sequence lengths), its outputs within 1e-4 of tsgrad's on the same random inputs;
// the file's declared opset, types and dynamic dims; errors for what has no ONNX counterpart.
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { BertModel, BertForMaskedLM, BertForSequenceClassification } from '../../src/models/bert.js';
import { MLP } from '../../src/models/mlp.js';
import { LeNet5 } from '../../src/models/lenet.js';
import { runOnnx, maxAbsDiff, scrambleWeights } from './runtime.js';

const TOL = 1e-4;
const SIZES: [number, number][] = [[1, 5], [3, 12]]; // [batch, sequence]
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-onnx-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

const gptConfig = { vocabSize: 23, nPositions: 16, nEmbd: 16, nLayer: 2, nHead: 4, dropout: 0 };
const bertConfig = {
  vocabSize: 29, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 4, intermediateSize: 32, maxPositionEmbeddings: 16,
  hiddenDropoutProb: 0, attentionProbsDropoutProb: 0,
};

/** attention_mask [B, T]: row b pads its last b positions; with `emptyRow`, the last row attends nowhere. */
function paddingMask(B: number, T: number, emptyRow = false): Tensor {
  const data = new Int32Array(B * T);
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) data[b * T + t] = t < T - b && !(emptyRow && b === B - 1) ? 1 : 0;
  return new tg.Tensor(data, [B, T], 'int32');
}

/** Export once, then at each size compare ONNX Runtime's first output with tsgrad's logits. */
async function agree(label: string, model: tg.nn.Module, inputsAt: (B: number, T: number) => Record<string, Tensor>, forward: (x: Record<string, Tensor>) => Tensor, sizes = SIZES): Promise<void> {
  model.eval();
  const first = inputsAt(...sizes[0]);
  const { bytes, summary } = tg.onnx.toOnnx(model, Object.values(first));
  expect(summary.outputs[0]).to.match(/^(logits|last_hidden_state): float32/);
  for (const [B, T] of sizes) {
    const inputs = inputsAt(B, T);
    const expected = tg.noGrad(() => forward(inputs));
    const got = Object.values(await runOnnx(bytes, inputs))[0];
    expect(got.dims, `${label} output dims at [${B}, ${T}]`).to.deep.equal([...expected.shape]);
    const diff = maxAbsDiff(got.data, expected.data);
    console.log(`      ${label} at ${JSON.stringify(Object.values(inputs)[0].shape)}: max |onnx − tsgrad| = ${diff.toExponential(2)}`);
    expect(diff, `${label} at [${B}, ${T}]`).to.be.below(TOL);
  }
}

describe('onnx export: ONNX Runtime agrees with tsgrad within 1e-4', () => {
  it('GPT (tied head, tanh GELU): logits for int64 input_ids', async () => {
    tg.manualSeed(1);
    const gpt = new GPT(gptConfig);
    scrambleWeights(gpt);
    await agree('GPT', gpt, (B, T) => ({ input_ids: tg.randint(0, 23, [B, T]) }), (x) => gpt.forward(x.input_ids).logits);
  });

  it('GPT without biases, untied head, exact-erf GELU', async () => {
    tg.manualSeed(2);
    const gpt = new GPT({ ...gptConfig, bias: false, tieWeights: false, gelu: 'none' });
    scrambleWeights(gpt);
    await agree('GPT (no bias)', gpt, (B, T) => ({ input_ids: tg.randint(0, 23, [B, T]) }), (x) => gpt.forward(x.input_ids).logits);
  });

  const bertInputs = (emptyRow: boolean) => (B: number, T: number) => ({
    input_ids: tg.randint(0, 29, [B, T]), attention_mask: paddingMask(B, T, emptyRow && B > 1), token_type_ids: tg.randint(0, 2, [B, T]),
  });
  const bertForward = (model: BertForMaskedLM | BertForSequenceClassification) => (x: Record<string, Tensor>) =>
    model.forward(x.input_ids, { attentionMask: x.attention_mask, tokenTypeIds: x.token_type_ids }).logits;

  it('BertForMaskedLM: MLM logits with padding (attention_mask) and segments (token_type_ids)', async () => {
    tg.manualSeed(3);
    const bert = new BertForMaskedLM(bertConfig);
    scrambleWeights(bert);
    await agree('BertForMaskedLM', bert, bertInputs(false), bertForward(bert));
  });

  it('BertForSequenceClassification: class logits, a fully padded row included (zero attention, as tsgrad)', async () => {
    tg.manualSeed(4);
    const bert = new BertForSequenceClassification({ ...bertConfig, hiddenAct: 'gelu_new' }, 3);
    scrambleWeights(bert);
    await agree('BertForSequenceClassification', bert, bertInputs(true), bertForward(bert));
  });

  it('BertModel: last_hidden_state, then pooler_output', async () => {
    tg.manualSeed(5);
    const bert = new BertModel({ ...bertConfig, hiddenAct: 'relu' });
    scrambleWeights(bert);
    const inputs = bertInputs(false)(2, 7);
    const { bytes } = tg.onnx.toOnnx(bert, Object.values(inputs));
    const got = await runOnnx(bytes, inputs);
    const ref = tg.noGrad(() => bert.forward(inputs.input_ids, { attentionMask: inputs.attention_mask, tokenTypeIds: inputs.token_type_ids }));
    expect(Object.keys(got)).to.deep.equal(['last_hidden_state', 'pooler_output']);
    expect(maxAbsDiff(got.last_hidden_state.data, ref.lastHiddenState.data)).to.be.below(TOL);
    expect(maxAbsDiff(got.pooler_output.data, ref.pooledOutput!.data)).to.be.below(TOL);
  });

  for (const activation of ['relu', 'gelu', 'tanh', 'sigmoid'] as const) {
    it(`MLP (${activation}) at batch 1 and 6`, async () => {
      tg.manualSeed(6);
      const mlp = new MLP([12, 20, 9, 5], { activation });
      scrambleWeights(mlp, 0.5);
      await agree(`MLP ${activation}`, mlp, (B) => ({ input: tg.randn([B, 12]) }), (x) => mlp.forward(x.input).logits, [[1, 0], [6, 0]]);
    });
  }

  it('MLP on images [N, 1, 28, 28]: flattened first, as MLP.forward does', async () => {
    tg.manualSeed(12);
    const mlp = new MLP([784, 16, 10]);
    await agree('MLP on images', mlp, (B) => ({ input: tg.randn([B, 1, 28, 28]) }), (x) => mlp.forward(x.input).logits, [[2, 0], [5, 0]]);
  });

  it('a Sequential with strided, dilated, grouped and \'same\'-padded convolutions, padded pools, softmax', async () => {
    tg.manualSeed(10);
    const { Sequential, Conv2d, MaxPool2d, AvgPool2d, ReLU, Dropout, Flatten, Linear, Softmax } = tg.nn;
    const net = new Sequential(
      new Conv2d(2, 4, 3, { padding: 'same', dilation: 2 }), new ReLU(), // (N, 4, 9, 9)
      new Conv2d(4, 6, [3, 2], { stride: [2, 1], padding: [1, 0], groups: 2 }), // (N, 6, 5, 8)
      new MaxPool2d(3, 2, { padding: 1, ceilMode: true }), // (N, 6, 3, 5)
      new AvgPool2d(2, 1, { padding: 1, countIncludePad: false }), new Softmax(1), new Dropout(0.5), // (N, 6, 4, 6)
      new Conv2d(6, 3, 4, { padding: 'same', bias: false }), // even kernel: the odd pixel of padding goes after
      new Flatten(), new Linear(72, 7, { bias: false }),
    );
    await agree('Sequential CNN', net, (B) => ({ input: tg.randn([B, 2, 9, 9]) }), (x) => net.forward(x.input) as Tensor, [[1, 0], [3, 0]]);
  });

  it('LeNet-5 at batch 1 and 4', async () => {
    tg.manualSeed(7);
    const lenet = new LeNet5();
    await agree('LeNet5', lenet, (B) => ({ input: tg.randn([B, 1, 28, 28]) }), (x) => lenet.forward(x.input).logits, [[1, 0], [4, 0]]);
  });
});

describe('onnx export: the file', () => {
  it('declares opset 17 and IR 8, int64 ids with named dynamic dims, logits first, a tied weight once', () => {
    tg.manualSeed(8);
    const gpt = new GPT(gptConfig);
    const file = path.join(work, 'gpt.onnx');
    const summary = tg.onnx.exportModel(gpt, tg.randint(0, 23, [1, 4]), file);
    const model = tg.onnx.decodeModel(fs.readFileSync(file));
    expect(model.ir_version).to.equal(8);
    expect(model.opset_import).to.deep.equal([{ version: 17 }]); // the default domain, '', is not written
    const input = model.graph.input[0];
    expect(input.name).to.equal('input_ids');
    expect(input.type.tensor_type.elem_type).to.equal(7); // INT64
    expect(input.type.tensor_type.shape.dim).to.deep.equal([{ dim_param: 'batch' }, { dim_param: 'sequence' }]);
    expect(model.graph.output[0].name).to.equal('logits');
    const names = model.graph.initializer.map((t: { name: string }) => t.name);
    expect(names).to.include('transformer.wte.weight').and.not.include('lm_head.weight');
    expect(summary.inputs).to.deep.equal(['input_ids: int64 [batch, sequence]']);
    expect(summary.outputs).to.deep.equal(['logits: float32 [batch, sequence, 23]']);
    expect(summary.bytes).to.equal(fs.statSync(file).size);
    // the tied weight is stored once, so the file holds the model's own parameter count (plus a few constants)
    expect(summary.parameters - gpt.numParameters()).to.be.within(0, 50);
  });

  it('runs from the written file', async () => {
    tg.manualSeed(9);
    const mlp = new MLP([4, 3]);
    const file = path.join(work, 'mlp.onnx');
    tg.onnx.exportModel(mlp, tg.randn([2, 4]), file);
    const x = tg.randn([5, 4]);
    const got = await runOnnx(file, { input: x });
    expect(maxAbsDiff(got.logits.data, mlp.forward(x).logits.data)).to.be.below(TOL);
  });
});

describe('onnx export: errors', () => {
  it('names a layer with no ONNX counterpart and where it sits', () => {
    const model = new tg.nn.Sequential(new tg.nn.Linear(4, 4), new tg.nn.BatchNorm1d(4));
    expect(() => tg.onnx.toOnnx(model, tg.randn([2, 4]))).to.throw(/onnx\.exportModel\(Sequential\): module BatchNorm1d at '1' has no ONNX counterpart/);
  });

  it('names a model class it cannot export', () => {
    expect(() => tg.onnx.toOnnx(new tg.nn.MultiheadAttention(8, 2), tg.randn([1, 3, 8]))).to.throw(/onnx\.exportModel: model MultiheadAttention has no ONNX export/);
  });

  it('the graph builder refuses a node that reads a value nothing defines', () => {
    const b = new tg.onnx.GraphBuilder('g');
    b.input('x', 'FLOAT', ['batch', 3]);
    expect(b.node('Relu', ['x'])).to.be.a('string');
    expect(() => b.node('Add', ['x', 'y'])).to.throw("onnx.node: Add reads 'y', which no earlier node, input or initializer defines");
  });

  it('names a bad example input', () => {
    const gpt = new GPT(gptConfig);
    expect(() => tg.onnx.toOnnx(gpt, tg.randn([1, 4]))).to.throw(/exampleInputs input_ids for GPT must be an int32 tensor \[batch, sequence\] \(got float32 \[1, 4\]\)/);
    expect(() => tg.onnx.toOnnx(gpt, tg.randint(0, 23, [1, 17]))).to.throw(/sequence length 17, over the model's 16 positions/);
    expect(() => tg.onnx.exportModel(gpt, tg.randint(0, 23, [1, 4]), '')).to.throw(/onnx\.exportModel: file must be a path/);
  });
});
