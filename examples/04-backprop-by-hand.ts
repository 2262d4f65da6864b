// Lesson 4: backpropagation by hand for the two-layer net of D6, checked against autograd.
//   D6   ŷ = σ(W2 · σ(W1 · x))            (sigmoid, no biases, as doc 004 writes it)
//   D9   L = ½ Σ_k (y_k − ŷ_k)²
//   D15  δ_i = ∂L/∂z_i = (∂L/∂a_i)·σ'(z_i),  ∂L/∂w_ij = x_j·δ_i,  ∂L/∂b_i = δ_i
//   D16  ∂L/∂θ = ∂L/∂ŷ · ∂ŷ/∂θ;  softmax + cross-entropy: ∂L/∂z = p − y,  ∂L/∂W = (p − y)·xᵀ
// Also the document's output error δ = (y − a_L)·∂L/∂a_L, and doc 003's Hadamard form, with the
// numbers that show which one autograd agrees with. Writes the graph picture to --out (default out/).
// Run: npx tsx examples/04-backprop-by-hand.ts [--out DIR]
import * as tg from '../src/index.js';
import { writeGraph } from '../src/viz/index.js';
import { compare, maxAbsDiff, num, option, section, table, vec } from './lib/lesson.js';

tg.manualSeed(4);
const f64 = { dtype: 'float64' } as const;
const sigma = (z: number) => 1 / (1 + Math.exp(-z));
const outDir = option('out', 'out');

// 3 inputs → 4 hidden → 2 outputs; one sample x with target y
const xs = [0.5, -1.2, 0.8], ys = [0, 1];
const W1 = tg.randn([4, 3], f64).requiresGrad_();
const W2 = tg.randn([2, 4], f64).requiresGrad_();
const w1 = (i: number, j: number) => W1.data[i * 3 + j];
const w2 = (k: number, i: number) => W2.data[k * 4 + i];

section('Forward and backward by hand, one neuron at a time (D2, D15)');
// forward: z1_i = Σ_j w1_ij x_j, a1_i = σ(z1_i); z2_k = Σ_i w2_ki a1_i, a2_k = σ(z2_k)
const z1 = [0, 1, 2, 3].map((i) => xs.reduce((s, xj, j) => s + w1(i, j) * xj, 0));
const a1 = z1.map(sigma);
const z2 = [0, 1].map((k) => a1.reduce((s, ai, i) => s + w2(k, i) * ai, 0));
const a2 = z2.map(sigma);
const lossHand = 0.5 * ys.reduce((s, y, k) => s + (y - a2[k]) ** 2, 0);
// output layer: ∂L/∂a2_k = a2_k − y_k, δ2_k = (a2_k − y_k)·σ'(z2_k), σ'(z) = a(1 − a)
const delta2 = [0, 1].map((k) => (a2[k] - ys[k]) * a2[k] * (1 - a2[k]));
const dW2 = [0, 1].flatMap((k) => a1.map((ai) => ai * delta2[k])); // ∂L/∂w2_ki = a1_i·δ2_k
// hidden layer: ∂L/∂a1_i = Σ_k w2_ki·δ2_k (the chain rule over every path), δ1_i = that·σ'(z1_i)
const delta1 = [0, 1, 2, 3].map((i) => (w2(0, i) * delta2[0] + w2(1, i) * delta2[1]) * a1[i] * (1 - a1[i]));
const dW1 = delta1.flatMap((d) => xs.map((xj) => xj * d)); // ∂L/∂w1_ij = x_j·δ1_i
console.log(`  x = ${vec(xs, 2)}, y = ${vec(ys, 0)}, ŷ = ${vec(a2)}, L = ${num(lossHand)}`);

// the same with tensors and autograd; retainGrad keeps ∂L/∂z on the intermediate tensors
const x = tg.tensor(xs.map((v) => [v]), f64);
const y = tg.tensor(ys.map((v) => [v]), f64);
const Z1 = W1.matmul(x).retainGrad();
const A1 = Z1.sigmoid().retainGrad();
const Z2 = W2.matmul(A1).retainGrad();
const A2 = Z2.sigmoid().retainGrad();
const L = A2.sub(y).pow(2).sum().mul(0.5);
L.backward();
// names for the picture
[x.label, y.label, W1.label, W2.label, Z1.label, A1.label, Z2.label, A2.label, L.label] = ['x', 'y', 'W1', 'W2', 'z1', 'a1', 'z2', 'ŷ = a2', 'L'];
compare('L', [lossHand], L);
compare('δ2 = ∂L/∂z2 = (a2 − y)·σ\'(z2)', delta2, Z2.grad!);
compare('∂L/∂W2 = δ2·a1ᵀ', dW2, W2.grad!);
compare('δ1 = ∂L/∂z1 = (W2ᵀ·δ2)·σ\'(z1)', delta1, Z1.grad!);
compare('∂L/∂W1 = δ1·xᵀ', dW1, W1.grad!);
const paths = writeGraph(L, `${outDir}/04-backprop-graph`, { maxValues: 12 });
console.log(`  the graph with every value and gradient: ${paths.svg} (and .dot)`);

section("The document's output error (doc 002): δ = (y − a_L)·∂L/∂a_L");
// with L = ½(y − a)², ∂L/∂a_L = a_L − y, so the document's δ = (y − a)(a − y) = −(a − y)²:
// the error counted twice, its sign lost, and σ'(z_L) missing
const deltaDoc = [0, 1].map((k) => (ys[k] - a2[k]) * (a2[k] - ys[k]));
table([
  ['output k', 'a − y', 'document (y−a)·∂L/∂a', 'corrected (a−y)·σ\'(z)', 'autograd ∂L/∂z2'],
  ...[0, 1].map((k) => [k, num(a2[k] - ys[k]), num(deltaDoc[k]), num(delta2[k]), num(Z2.grad!.data[k])]),
]);
console.log(`  max |document − autograd| = ${maxAbsDiff(deltaDoc, Z2.grad!).toExponential(1)}, max |corrected − autograd| = ${maxAbsDiff(delta2, Z2.grad!).toExponential(1)}`);
// one SGD step on W2 (α = 1) with each rule: the document's δ ≤ 0 always pushes every output up
const lossAfterStep = (delta: number[]) => {
  const W2next = [0, 1].flatMap((k) => [0, 1, 2, 3].map((i) => w2(k, i) - delta[k] * a1[i]));
  const out = [0, 1].map((k) => sigma(a1.reduce((s, ai, i) => s + W2next[k * 4 + i] * ai, 0)));
  return 0.5 * ys.reduce((s, yk, k) => s + (yk - out[k]) ** 2, 0);
};
const lossDoc = lossAfterStep(deltaDoc), lossCorrected = lossAfterStep(delta2);
console.log(`  one SGD step on W2 (α = 1): L ${num(lossHand)} → ${num(lossDoc)} with the document's δ, → ${num(lossCorrected)} with the corrected δ`);

section('With biases: ∂L/∂b_i = δ_i (D15)');
const b1 = tg.randn([4, 1], f64).requiresGrad_(), b2 = tg.randn([2, 1], f64).requiresGrad_();
const Zb1 = W1.detach().matmul(x).add(b1); // W1, W2 detached: their gradients above stay as they are
const Zb2 = W2.detach().matmul(Zb1.sigmoid()).add(b2);
Zb2.sigmoid().sub(y).pow(2).sum().mul(0.5).backward();
// by hand, the same rules with z including the bias
const hb = [0, 1, 2, 3].map((i) => sigma(xs.reduce((s, xj, j) => s + w1(i, j) * xj, b1.data[i])));
const ob = [0, 1].map((k) => sigma(hb.reduce((s, hi, i) => s + w2(k, i) * hi, b2.data[k])));
const d2b = [0, 1].map((k) => (ob[k] - ys[k]) * ob[k] * (1 - ob[k]));
const d1b = [0, 1, 2, 3].map((i) => (w2(0, i) * d2b[0] + w2(1, i) * d2b[1]) * hb[i] * (1 - hb[i]));
compare('∂L/∂b2 = δ2', d2b, b2.grad!);
compare('∂L/∂b1 = δ1', d1b, b1.grad!);

section('D16 chain rule: ∂L/∂θ = ∂L/∂ŷ · ∂ŷ/∂θ');
// ∂ŷ_k/∂W1 for each output k on its own (one backward per output), then weighted by ∂L/∂ŷ_k = ŷ_k − y_k
const jacobianRow = (k: number) => {
  const W = W1.detach().requiresGrad_();
  W2.detach().matmul(W.matmul(x).sigmoid()).slice(0, k, k + 1).sigmoid().sum().backward(); // ŷ_k alone
  return W.grad!.data;
};
const J = [jacobianRow(0), jacobianRow(1)];
const chain = Array.from(J[0], (_, m) => (a2[0] - ys[0]) * J[0][m] + (a2[1] - ys[1]) * J[1][m]);
compare('Σ_k ∂L/∂ŷ_k · ∂ŷ_k/∂W1', chain, W1.grad!);

section('Softmax + cross-entropy (D7, D16): ∂L/∂z = p − y');
// z = W·x + b, p = softmax(z), L = −Σ_j y_j log p_j, here 4 classes with the true class 2
const W = tg.randn([4, 3], f64).requiresGrad_(), b = tg.randn([4], f64).requiresGrad_();
const z = W.matmul(x).reshape(4).add(b).retainGrad();
const yClass = tg.tensor([0, 0, 1, 0], f64);
const p = z.softmax(0);
p.log().mul(yClass).sum().neg().backward();
const pv = Array.from(p.data), yv = Array.from(yClass.data);
// exact: the softmax Jacobian ∂p_i/∂z_j = p_i(δ_ij − p_j) applied to ∂L/∂p_i = −y_i/p_i gives p − y
const jacobianProduct = pv.map((_, j) => pv.reduce((s, pi, i) => s + (-yv[i] / pi) * pi * ((i === j ? 1 : 0) - pv[j]), 0));
compare('Jᵀ·∂L/∂p with the full softmax Jacobian', jacobianProduct, z.grad!);
compare('p − y', pv.map((pi, j) => pi - yv[j]), z.grad!);
// doc 003: ∂L/∂y ⊙ ∂y/∂z, elementwise: keeps only the diagonal ∂p_j/∂z_j = p_j(1 − p_j)
const hadamard = pv.map((pj, j) => (-yv[j] / pj) * pj * (1 - pj));
console.log(`  doc 003's Hadamard form (−y_j/p_j)·p_j(1 − p_j) = ${vec(hadamard)}`);
console.log(`  max |document − autograd| = ${maxAbsDiff(hadamard, z.grad!).toExponential(1)}: right for the true class, 0 instead of p_j for the others`);
compare('∂L/∂W = (p − y)·xᵀ', pv.flatMap((pi, j) => xs.map((xk) => (pi - yv[j]) * xk)), W.grad!);
compare('∂L/∂b = p − y', pv.map((pi, j) => pi - yv[j]), b.grad!);

console.log("\nNotice: backpropagation is the chain rule applied neuron by neuron; δ = (a − y)·σ'(z) matches autograd to the last bit, while the document's (y − a)·∂L/∂a counts the error twice and makes a step raise the loss.");
