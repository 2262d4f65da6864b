// Lesson 14: deployment (D28): make a trained model smaller, then serve it.
//   int8 symmetric quantization, one scale per output channel (row o of a Linear weight W [out, in]):
//     scale_o = max_j |W_oj| / 127,   q_oj = round(W_oj / scale_o) ∈ [−127, 127],   Ŵ_oj = scale_o · q_oj
//     so every entry is off by at most scale_o / 2, and 4 bytes per weight become 1 (+ 4 per row)
//   int8 inference pulls the scale out of the sum:  y_o = scale_o · Σ_j q_oj x_j + b_o
//   magnitude pruning: set the p% smallest |W_oj| of each layer to 0
// Run: npx tsx examples/14-deployment.ts [--fast]
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tg from '../src/index.js';
import { MLP } from '../src/models/mlp.js';
import { agreement, fast, maxAbsDiff, num, option, section, table } from './lib/lesson.js';

const outDir = option('out', 'out');
const [nTrain, nTest, epochs] = fast ? [2000, 500, 2] : [8000, 2000, 8];

tg.manualSeed(14);

section(`1. A model to deploy: an MLP 784 → 128 → 64 → 10 on ${nTrain} MNIST digits`);
const { train, test } = tg.data.loadMnist({ train: nTrain, test: nTest });
const model = new MLP([784, 128, 64, 10]);
{
  const optimizer = new tg.optim.Adam(model.parameters(), { lr: 1e-3 });
  const loader = new tg.data.DataLoader(new tg.data.TensorDataset(train.images, train.labels), { batchSize: 64 });
  for (let epoch = 0; epoch < epochs; epoch++) {
    for (const [x, y] of loader) {
      const { loss } = model.forward(x, y);
      optimizer.zeroGrad();
      loss!.backward();
      optimizer.step();
    }
  }
}
model.eval();
const linears = model.modules().filter((m): m is tg.nn.Linear => m instanceof tg.nn.Linear);
const original = linears.map((l) => Float32Array.from(l.weight.data));
/** Test loss, accuracy and logits with the weights the Linear layers hold now. */
const evaluate = () => tg.noGrad(() => {
  const { logits, loss } = model.forward(test.images, test.labels);
  return { loss: loss!.item(), accuracy: logits.argmax(1).eq(test.labels).to('float64').mean().item(), logits };
});
const float32 = evaluate();
console.log(`  ${model.numParameters()} parameters; float32 test loss ${num(float32.loss, 4)}, accuracy ${num(float32.accuracy, 4)}`);

section('2. int8 quantization by hand, per output channel');
interface Quantized { q: Int8Array; scales: Float32Array; rows: number; cols: number }
/** One scale per row (perRow) or one for the whole matrix. */
function quantize(w: Float32Array, rows: number, cols: number, perRow: boolean): Quantized {
  const scales = new Float32Array(rows), q = new Int8Array(rows * cols);
  let whole = 0;
  for (let i = 0; i < w.length; i++) whole = Math.max(whole, Math.abs(w[i]));
  for (let o = 0; o < rows; o++) {
    let max = 0;
    for (let j = 0; j < cols; j++) max = Math.max(max, Math.abs(w[o * cols + j]));
    scales[o] = (perRow ? max : whole) / 127 || 1; // a row of zeros keeps scale 1
    for (let j = 0; j < cols; j++) q[o * cols + j] = Math.round(w[o * cols + j] / scales[o]); // |w/scale| ≤ 127 by the choice of scale
  }
  return { q, scales, rows, cols };
}
const dequantize = ({ q, scales, cols }: Quantized) => Float32Array.from(q, (v, i) => v * scales[Math.floor(i / cols)]);
const perChannel = linears.map((l, k) => quantize(original[k], l.outFeatures, l.inFeatures, true));
const perTensor = linears.map((l, k) => quantize(original[k], l.outFeatures, l.inFeatures, false));
{
  const rows: (string | number)[][] = [['layer', 'weight', 'scales (first 3)', 'q row 0 (first 6)', 'max |W − Ŵ| / (scale/2)']];
  linears.forEach((l, k) => {
    const { q, scales, cols } = perChannel[k], back = dequantize(perChannel[k]);
    let worst = 0;
    for (let i = 0; i < q.length; i++) worst = Math.max(worst, Math.abs(original[k][i] - back[i]) / (scales[Math.floor(i / cols)] / 2));
    rows.push([k, `[${l.weight.shape.join(', ')}]`, Array.from(scales.subarray(0, 3), (s) => s.toExponential(2)).join(' '), Array.from(q.subarray(0, 6)).join(' '), num(worst, 4)]);
  });
  table(rows);
  console.log('  every ratio is ≤ 1: the rounding error of an entry never exceeds half its row\'s step.');

  // int8 inference by hand in float64: integer products summed, then one multiply by the row's scale
  const l = linears[0], { q, scales } = perChannel[0];
  const x = test.images.slice(0, 0, 4).reshape(4, 784).to('float64');
  const y = new Float64Array(4 * l.outFeatures);
  for (let n = 0; n < 4; n++) {
    for (let o = 0; o < l.outFeatures; o++) {
      let s = 0;
      for (let j = 0; j < 784; j++) s += q[o * 784 + j] * x.data[n * 784 + j];
      y[n * l.outFeatures + o] = scales[o] * s + l.bias!.data[o];
    }
  }
  const dequantized = new tg.Tensor(Float64Array.from(q, (v, i) => v * scales[Math.floor(i / 784)]), [l.outFeatures, 784], 'float64'); // Ŵ in float64
  agreement(maxAbsDiff(y, tg.F.linear(x, dequantized, l.bias!.to('float64'))), 'scale·(q·x) + b vs linear(x, Ŵ, b), first layer, 4 digits', 'library');
}

section('3. What it costs and what it saves');
const load = (weights: Float32Array[]) => linears.forEach((l, k) => l.weight.data.set(weights[k]));
load(perChannel.map(dequantize));
const int8 = evaluate();
load(perTensor.map(dequantize));
const int8Tensor = evaluate();
load(original);
{
  const weights = linears.reduce((s, l) => s + l.weight.size, 0), biases = linears.reduce((s, l) => s + l.bias!.size, 0);
  const rowsTotal = linears.reduce((s, l) => s + l.outFeatures, 0);
  const float32Bytes = 4 * (weights + biases), int8Bytes = weights + 4 * rowsTotal + 4 * biases; // int8 weights, float32 scales and biases
  fs.mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, '14-mlp.safetensors');
  tg.io.save(file, model.stateDict());
  const error = (scheme: Quantized[]) => { // mean |W − Ŵ| over all weights
    let sum = 0;
    scheme.forEach((qz, k) => dequantize(qz).forEach((v, i) => (sum += Math.abs(v - original[k][i]))));
    return (sum / weights).toExponential(2);
  };
  const changed = (a: tg.Tensor) => {
    const p = a.argmax(1).data, p0 = float32.logits.argmax(1).data;
    return p.filter((v, i) => v !== p0[i]).length;
  };
  table([
    ['weights', 'bytes', 'mean |W − Ŵ|', 'test loss', 'test accuracy', 'max |Δ logit|', 'predictions changed'],
    ['float32', float32Bytes, '0', num(float32.loss, 4), num(float32.accuracy, 4), '0', '0'],
    ['int8, scale per row', int8Bytes, error(perChannel), num(int8.loss, 4), num(int8.accuracy, 4), num(maxAbsDiff(int8.logits, float32.logits), 4), changed(int8.logits)],
    ['int8, one scale per matrix', int8Bytes - 4 * rowsTotal + 4 * linears.length, error(perTensor), num(int8Tensor.loss, 4), num(int8Tensor.accuracy, 4), num(maxAbsDiff(int8Tensor.logits, float32.logits), 4), changed(int8Tensor.logits)],
  ]);
  console.log(`  int8 is ${num(float32Bytes / int8Bytes, 2)}× smaller; the float32 checkpoint written by tg.io.save (${file}) is ${fs.statSync(file).size} bytes with its header.`);
}

section('4. Pruning: zero the smallest weights of each layer');
{
  const rows: (string | number)[][] = [['weights set to 0', 'test loss', 'test accuracy']];
  for (const fraction of [0, 0.5, 0.8, 0.95]) {
    load(original.map((w) => {
      const cut = Float32Array.from(w, Math.abs).sort()[Math.floor(fraction * w.length)];
      return fraction === 0 ? w : Float32Array.from(w, (v) => (Math.abs(v) < cut ? 0 : v));
    }));
    const r = evaluate();
    rows.push([`${fraction * 100}%`, num(r.loss, 4), num(r.accuracy, 4)]);
  }
  load(original);
  table(rows);
  console.log('  zeros only save space in a sparse format, and only speed up a kernel that skips them.');
}

section('5. Serving, and where tsgrad does this for real');
console.log(`  The deployment issue (issue 9) adds two commands; this lesson does not run them:
    tsgrad quantize --checkpoint DIR --out DIR2
      stores Linear and attention weights as int8 with one symmetric scale per output channel (the
      scheme of part 2) and reports size, speed and the change in validation loss or accuracy.
    tsgrad serve --checkpoint DIR [--port 8080] [--host 127.0.0.1]
      an HTTP API: POST /v1/generate (prompt, maxNewTokens, temperature, topK, seed),
      POST /v1/classify (texts → labels and probabilities), GET /health, GET /v1/model;
      requests are validated (4xx JSON errors), queued with a bound, and it binds to 127.0.0.1 by default.
  Today's pieces: tg.io.save/load (safetensors, float32 and float16/bfloat16 reading), savePretrained/fromPretrained.`);

console.log('\nNotice: int8 with a scale per output channel keeps every weight within half a step of the original, cuts the size ~4×, and barely moves the predictions; one scale for a whole matrix makes rows with small weights share a coarse step (a larger mean |W − Ŵ|).');
