// Lesson 9: self-attention (D21), the heart of the Transformer, by hand and by the library.
//   Q = X·Wq, K = X·Wk, V = X·Wv,   Attention(Q, K, V) = softmax(Q·Kᵀ / √d_k + M) · V
//   M is the causal mask of a GPT: M_ij = 0 for j ≤ i, −∞ for j > i (a token sees only the past).
// Run: npx tsx examples/09-self-attention.ts
import * as tg from '../src/index.js';
import { compare, num, section, table } from './lib/lesson.js';

tg.manualSeed(9);
const f64 = { dtype: 'float64' } as const;
const T = 4, dModel = 6, d = 4; // 4 tokens, embeddings of 6, a head of size d_k = 4
const X = tg.randn([T, dModel], f64); // one row per token
const init = () => tg.randn([dModel, d], f64).div(Math.sqrt(dModel)); // keeps q, k, v at unit scale
const Wq = init(), Wk = init(), Wv = init();
const Q = X.matmul(Wq).requiresGrad_(), K = X.matmul(Wk).requiresGrad_(), V = X.matmul(Wv).requiresGrad_();
const q = (i: number, c: number) => Q.data[i * d + c], k = (j: number, c: number) => K.data[j * d + c], v = (j: number, c: number) => V.data[j * d + c];

section('By hand: scores, mask, softmax, weighted sum');
const P: number[][] = [];
const outHand: number[] = [];
for (let i = 0; i < T; i++) {
  // s_ij = q_i·k_j / √d for the keys j ≤ i; the later ones get −∞, so e^−∞ = 0 below
  const s = Array.from({ length: T }, (_, j) => (j <= i ? Array.from({ length: d }, (_, c) => q(i, c) * k(j, c)).reduce((a, b) => a + b) / Math.sqrt(d) : -Infinity));
  const max = Math.max(...s); // subtract the max before exp: same softmax, no overflow
  const e = s.map((sj) => Math.exp(sj - max));
  const sum = e.reduce((a, b) => a + b);
  P.push(e.map((ej) => ej / sum));
  for (let c = 0; c < d; c++) outHand.push(P[i].reduce((acc, pij, j) => acc + pij * v(j, c), 0)); // out_i = Σ_j P_ij v_j
}
console.log('  attention weights P (row i: how much token i takes from each token j):');
table([['', ...Array.from({ length: T }, (_, j) => `j = ${j}`)], ...P.map((row, i) => [`i = ${i}`, ...row.map((p) => num(p, 4))])], '    ');

section('The same with the library');
const out = tg.F.scaledDotProductAttention(Q, K, V, { causal: true });
compare('softmax(QKᵀ/√d + M)·V, fused op', outHand, out);
// composed from small ops: matmul, scale, mask (where), softmax, matmul
const causal = tg.tensor(Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => j <= i)));
const composed = tg.where(causal, Q.matmul(K.T).div(Math.sqrt(d)), -Infinity).softmax(-1).matmul(V);
compare('the same from matmul, where and softmax', outHand, composed);

section('Gradients: the backward of attention written out, against autograd');
const R = tg.randn([T, d], f64); // L = Σ out ⊙ R, so ∂L/∂out = R
out.mul(R).sum().backward();
tg.noGrad(() => {
  const Pt = tg.tensor(P, f64);
  const dV = Pt.T.matmul(R); // ∂L/∂V = Pᵀ·dO
  const dP = R.matmul(V.T); // ∂L/∂P = dO·Vᵀ
  const dS = Pt.mul(dP.sub(Pt.mul(dP).sum(-1, true))); // softmax backward: P ⊙ (dP − rowsum(P ⊙ dP))
  compare('∂L/∂Q = dS·K/√d', dS.matmul(K).div(Math.sqrt(d)), Q.grad!);
  compare('∂L/∂K = dSᵀ·Q/√d', dS.T.matmul(Q).div(Math.sqrt(d)), K.grad!);
  compare('∂L/∂V = Pᵀ·dO', dV, V.grad!);
});

section('The mask makes it causal: change the last token, the earlier outputs do not move');
const X2 = X.clone();
for (let c = 0; c < dModel; c++) X2.data[(T - 1) * dModel + c] += 1;
const out2 = tg.noGrad(() => tg.F.scaledDotProductAttention(X2.matmul(Wq), X2.matmul(Wk), X2.matmul(Wv), { causal: true }));
const change = Array.from({ length: T }, (_, i) => Math.max(...Array.from({ length: d }, (_, c) => Math.abs(out2.data[i * d + c] - out.data[i * d + c]))));
table([['output of token', ...change.map((_, i) => i)], ['largest change', ...change.map((c) => c.toExponential(1))]]);

section('Why divide by √d: q·k of random vectors has variance d');
const rows: (string | number)[][] = [['d_k', 'std of q·k', 'largest weight, no scaling', 'largest weight, ÷√d']];
for (const dk of [4, 64, 1024]) {
  const q1 = tg.randn([64, dk], f64), k1 = tg.randn([64, dk], f64);
  const s = q1.matmul(k1.T);
  const std = Math.sqrt(s.pow(2).mean().item());
  const peak = (t: tg.Tensor) => t.softmax(-1).max(-1).mean().item(); // mean over queries of the largest weight
  rows.push([dk, num(std, 1), num(peak(s), 3), num(peak(s.div(Math.sqrt(dk))), 3)]);
}
table(rows);
console.log('  unscaled, large d makes softmax one-hot (its gradient vanishes); ÷√d keeps the scores at unit scale.');

console.log('\nNotice: attention is a weighted average of the value rows, with weights softmax(q·k/√d) over the tokens allowed by the mask; the fused op, the composed ops and the loops agree to rounding.');
