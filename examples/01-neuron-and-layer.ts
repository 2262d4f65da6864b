// Lesson 1: a single neuron (D2) and a layer of them (D1).
//   D2  z_i = Σ_j w_ij x_j + b_i,   a_i = σ(z_i)
//   D1  h = σ(W · a + b)            (the same, for every neuron of the layer at once)
// Run: npx tsx examples/01-neuron-and-layer.ts
import * as tg from '../src/index.js';
import { compare, num, section, vec } from './lib/lesson.js';

tg.manualSeed(1);
const f64 = { dtype: 'float64' } as const;
const sigma = (z: number) => 1 / (1 + Math.exp(-z));

section('D2: one neuron');
const xs = [0.5, -1.0, 2.0], ws = [0.2, 0.4, -0.1], bias = 0.3;
// by hand, one product at a time
let zHand = bias;
for (let j = 0; j < xs.length; j++) zHand += ws[j] * xs[j];
const aHand = sigma(zHand);
console.log(`  x = ${vec(xs, 1)}, w = ${vec(ws, 1)}, b = ${bias}`);
console.log(`  by hand: z = 0.2·0.5 + 0.4·(−1) + (−0.1)·2 + 0.3 = ${num(zHand)},  a = σ(z) = ${num(aHand)}`);
// with tensors: the same sum as a dot product
const x = tg.tensor(xs, f64);
const w = tg.tensor(ws, { ...f64, requiresGrad: true });
const b = tg.tensor(bias, { ...f64, requiresGrad: true });
const z = x.mul(w).sum().add(b);
const a = z.sigmoid();
console.log(`  tensors: z = ${num(z.item())},  a = ${num(a.item())}`);
// ∂a/∂w_j = σ'(z)·x_j and ∂a/∂b = σ'(z), with σ'(z) = σ(z)(1 − σ(z))
a.backward();
const dsigma = aHand * (1 - aHand);
compare('∂a/∂w = σ\'(z)·x', xs.map((xj) => dsigma * xj), w.grad!);
compare('∂a/∂b = σ\'(z)', [dsigma], b.grad!);

section('D1: a layer of 4 neurons on 3 inputs');
const W = tg.randn([4, 3], f64).requiresGrad_(); // row i holds the weights w_i· of neuron i
const bl = tg.randn([4], f64).requiresGrad_();
// by hand: D2 once per neuron
const hHand: number[] = [];
for (let i = 0; i < 4; i++) {
  let zi = bl.data[i];
  for (let j = 0; j < 3; j++) zi += W.data[i * 3 + j] * xs[j];
  hHand.push(sigma(zi));
}
// matrix form of D1: h = σ(W·x + b), x a column
const h = W.matmul(x.reshape(3, 1)).reshape(4).add(bl).sigmoid();
compare('h = σ(W·x + b)', hHand, h);
// the library's layer stores W as [out, in] and computes x·Wᵀ + b (x as a row): the same numbers
const layer = new tg.nn.Linear(3, 4).double();
layer.weight.data.set(W.data);
layer.bias!.data.set(bl.data);
const hLayer = tg.sigmoid(layer.forward(x.reshape(1, 3)));
compare('σ(nn.Linear(3, 4)(x))', hHand, hLayer);

// the gradient of Σ_i h_i: ∂/∂W_ij = σ'(z_i)·x_j (an outer product), ∂/∂b_i = σ'(z_i)
h.sum().backward();
const dW = hHand.flatMap((hi) => xs.map((xj) => hi * (1 - hi) * xj));
compare('∂Σh/∂W = σ\'(z) xᵀ (row by row)', dW, W.grad!);
compare('∂Σh/∂b = σ\'(z)', hHand.map((hi) => hi * (1 - hi)), bl.grad!);

section('D1 on a batch: 5 inputs as the rows of X');
const X = tg.randn([5, 3], f64);
const H = tg.sigmoid(X.matmul(W.T).add(bl)); // [5, 4]: row n is the layer applied to sample n
const row2 = tg.sigmoid(W.matmul(X.slice(0, 2, 3).reshape(3, 1)).reshape(4).add(bl));
compare('row 2 of σ(X·Wᵀ + b) vs the layer on sample 2 alone', row2, H.slice(0, 2, 3));

console.log('\nNotice: a layer is D2 done for every neuron at once (h = σ(W·x + b)), and a batch is the same layer on every row; the gradient of a neuron\'s weights is σ\'(z) times its inputs.');
