// Lesson 3: the documents' losses (D8–D13), each by hand and by the library, with its gradient.
//   D8   cross-entropy      L = −Σ_i y_i log ŷ_i   (doc 004's batch form: −1/n Σ over the samples)
//   D9   MSE as half sum    L = ½ Σ_i (y_i − ŷ_i)²
//   D10  MSE as mean        L = 1/n Σ_i (y_i − ŷ_i)²
//   D11  masked LM          L = −Σ_{i=1..M} log p(masked_i)   (the M masked positions only)
//   D12  sequence LM        L = −Σ_t Σ_j y_tj log p_tj
//   D13  "perception loss"  L = 1/N Σ_i Σ_j w_ij (f(x_i) − g_j(x_i))²
// Run: npx tsx examples/03-losses.ts
import * as tg from '../src/index.js';
import { compare, num, section, vec } from './lib/lesson.js';

tg.manualSeed(3);
const f64 = { dtype: 'float64' } as const;

section('D8 cross-entropy: 4 samples, 3 classes');
const Z = tg.randn([4, 3], f64).requiresGrad_(); // logits, one row per sample
const targets = [2, 0, 1, 2];
const P = tg.noGrad(() => Z.softmax(-1)); // ŷ = softmax(z)
// by hand: with a one-hot y, −Σ_i y_i log ŷ_i keeps one term per sample: −log ŷ_target
const perSample = targets.map((c, n) => -Math.log(P.data[n * 3 + c]));
const batchMean = perSample.reduce((a, b) => a + b, 0) / targets.length; // doc 004: −1/n Σ
const target = tg.tensor(targets, { dtype: 'int32' });
compare('per-sample loss −log ŷ_target', perSample, tg.F.crossEntropy(Z, target, { reduction: 'none' }));
const L8 = tg.F.crossEntropy(Z, target); // mean over the batch
compare('batch mean −1/n Σ_n Σ_i y_ni log ŷ_ni', [batchMean], L8);
// the gradient of the mean with respect to the logits: (ŷ − y)/n
L8.backward();
const dZ = Array.from(P.data, (p, k) => (p - (targets[Math.floor(k / 3)] === k % 3 ? 1 : 0)) / targets.length);
compare('∂L/∂z = (ŷ − y)/n', dZ, Z.grad!);

section('D9 vs D10: the same squared errors, two scalings (n = 5)');
const yHat = tg.tensor([0.2, 0.9, 0.4, 0.7, 0.1], { ...f64, requiresGrad: true });
const y = tg.tensor([0, 1, 0, 1, 0], f64);
const n = yHat.size;
const err = Array.from(yHat.data, (v, i) => v - y.data[i]);
const sq = err.reduce((s, e) => s + e * e, 0);
const L9 = tg.F.mseLoss(yHat, y, { reduction: 'sum' }).mul(0.5); // ½ Σ
compare('D9  ½ Σ (y − ŷ)²', [sq / 2], L9);
L9.backward();
const g9 = Float64Array.from(yHat.grad!.data);
compare('∂D9/∂ŷ = ŷ − y', err, g9);
yHat.zeroGrad();
const L10 = tg.F.mseLoss(yHat, y); // reduction 'mean' is D10
compare('D10 1/n Σ (y − ŷ)²', [sq / n], L10);
L10.backward();
const g10 = yHat.grad!.data;
compare('∂D10/∂ŷ = (2/n)(ŷ − y)', err.map((e) => (2 / n) * e), g10);
const ratio = Array.from(g9, (g, i) => g / g10[i]);
console.log(`  gradient ratio D9/D10 per element: ${vec(ratio, 4)} = n/2 = ${n / 2}`);
console.log(`  loss ratio D9/D10: ${num(L9.item() / L10.item(), 4)} = n/2: SGD at α on D9 moves like SGD at α·n/2 on D10`);

section('D11 masked-language-model loss: only the masked positions count');
const V = 8, MASK = 7, T = 40; // token ids 0..6 are words, 7 is [MASK]
const tokens = tg.randint(0, 7, [T]);
const chosen = Array.from(tg.rand([T]).data, (u) => u < 0.15); // masking probability 0.15 (doc 001)
const labels = tg.tensor(Array.from(tokens.data, (id, t) => (chosen[t] ? id : -100)), { dtype: 'int32' }); // −100: ignored
const inputs = Int32Array.from(tokens.data);
const u = tg.rand([T]).data;
chosen.forEach((c, t) => {
  if (!c) return;
  if (u[t] < 0.8) inputs[t] = MASK; // 80%: [MASK]
  else if (u[t] < 0.9) inputs[t] = Math.floor(((u[t] - 0.8) / 0.1) * 7); // 10%: a random word
}); // 10%: kept as it is
const M = chosen.filter(Boolean).length;
console.log(`  ${T} tokens, ${M} chosen (positions ${chosen.flatMap((c, t) => (c ? [t] : [])).join(', ')}); the model's input, [MASK] = ${MASK}:`);
console.log(`    ${Array.from(inputs).join(' ')}`);
const logits = tg.randn([T, V], f64).requiresGrad_(); // what a model would predict at each position
const logP = tg.noGrad(() => logits.logSoftmax(-1));
let L11hand = 0;
for (let t = 0; t < T; t++) if (chosen[t]) L11hand -= logP.data[t * V + tokens.data[t]];
const L11 = tg.F.crossEntropy(logits, labels, { reduction: 'sum', ignoreIndex: -100 });
compare(`−Σ over the ${M} masked positions of log p(original token)`, [L11hand], L11);
L11.backward();
let rowsWithGradient = 0;
for (let t = 0; t < T; t++) if (logits.grad!.data.subarray(t * V, (t + 1) * V).some((g) => g !== 0)) rowsWithGradient++;
console.log(`  positions whose logits get a gradient: ${rowsWithGradient} of ${T} (= M = ${M})`);
console.log(`  the mean form (what training logs print) is L/M = ${num(L11hand / M)}`);
// the 80/10/10 recipe, measured on many draws
const many = tg.rand([200000]).data;
const freq = [0, 0, 0];
for (const v of many) freq[v < 0.8 ? 0 : v < 0.9 ? 1 : 2]++;
console.log(`  BERT's recipe on 200000 chosen tokens: [MASK] ${num(freq[0] / 2000, 1)}%, random ${num(freq[1] / 2000, 1)}%, kept ${num(freq[2] / 2000, 1)}%`);

section('D12 language-model loss over a sequence (T = 4 steps, V = 5 words)');
const S = tg.randn([4, 5], f64);
const next = [1, 3, 0, 4]; // the target word at each step
const p = S.softmax(-1); // the model's distribution p_t
const yOneHot = tg.tensor(next.map((c) => [0, 1, 2, 3, 4].map((j) => (j === c ? 1 : 0))), f64);
const L12hand = yOneHot.mul(p.log()).sum().neg(); // −Σ_t Σ_j y_tj log p_tj, with tensors
compare('−Σ_t Σ_j y_tj log p_tj (y one-hot target, p the model)', L12hand, tg.F.crossEntropy(S, tg.tensor(next, { dtype: 'int32' }), { reduction: 'sum' }));
const swapped = p.mul(yOneHot.log()).sum().neg().item();
console.log(`  doc 003 calls y the model's output and p the target; read that way, −Σ p_model·log y_onehot = ${swapped} (log 0 = −∞)`);
console.log(`  per-token mean ${num(L12hand.item() / 4)}, perplexity e^mean = ${num(Math.exp(L12hand.item() / 4), 3)} (a uniform guess over 5 words scores 5)`);

section('D13 "perception loss": weighted squared error between distributions (N = 3, C = 4)');
const f = tg.randn([3, 4], f64).softmax(-1).detach().requiresGrad_(); // f(x_i): predicted distribution
const g = tg.tensor([[0, 1, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0]], f64); // g_j(x_i): true distribution
const w = tg.tensor([[1, 2, 1, 0.5]], f64).expand(3, 4); // w_ij, here one weight per class
let L13hand = 0;
for (let i = 0; i < 3; i++) for (let j = 0; j < 4; j++) L13hand += w.data[i * 4 + j] * (f.data[i * 4 + j] - g.data[i * 4 + j]) ** 2;
L13hand /= 3;
const L13 = w.mul(f.sub(g).pow(2)).sum().div(3);
compare('1/N Σ_i Σ_j w_ij (f_ij − g_ij)²', [L13hand], L13);
L13.backward();
compare('∂L/∂f = (2/N)·w·(f − g)', Array.from(f.data, (v, k) => (2 / 3) * w.data[k] * (v - g.data[k])), f.grad!);
const unweighted = tg.F.mseLoss(f, g).mul(4).item(); // w = 1: C times D10 over the N·C entries
console.log(`  with all w = 1 it is C·mseLoss(f, g) = ${num(unweighted)} (and 1/N Σ Σ (f − g)² = ${num(f.sub(g).pow(2).sum().div(3).item())})`);

console.log('\nNotice: every loss here is a sum or mean of per-item terms, and its gradient says which items count: D9 and D10 differ only by n/2 (loss and gradient alike), and the masked LM loss sends gradient to the masked positions alone.');
