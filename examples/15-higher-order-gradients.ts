// Lesson 15: gradients of gradients. backward({ createGraph: true }) and tg.grad record the
// gradient computation itself, so it can be differentiated again (PyTorch's create_graph).
//   Hessian-vector product:  H·v = ∇_w (∇_w L(w) · v)      (one extra backward, no H stored)
//   Newton's method:         w ← w − H⁻¹ ∇L(w)             (gradient descent: w ← w − α ∇L, D17)
// The problem: L2-regularised logistic regression (sigmoid D4, binary cross-entropy D8), where
//   ∇L = Xᵀ(p − y)/N + λw  and  H = Xᵀ diag(p(1 − p)) X / N + λI,  p = σ(Xw).
// Run: npx tsx examples/15-higher-order-gradients.ts
import * as tg from '../src/index.js';
import type { Tensor } from '../src/index.js';
import { compare, num, section, table, vec } from './lib/lesson.js';

const f64 = { dtype: 'float64' } as const;
// eight points with a bias column: [1, x₁, x₂] and labels that overlap a little (so the optimum is finite)
const X = tg.tensor([[1, 0.5, 1.2], [1, -1.0, 0.3], [1, 1.5, -0.4], [1, 0.2, 0.8], [1, -0.7, -1.1], [1, 2.0, 0.9], [1, -1.5, 0.5], [1, 0.9, -1.3]], f64);
const y = tg.tensor([1, 0, 1, 0, 0, 1, 1, 0], f64);
const N = y.size, lambda = 0.1;

/** L(w) = mean BCE(σ(Xw), y) + λ/2·‖w‖², from recorded ops. */
const loss = (w: Tensor) => tg.F.bceWithLogits(X.matmul(w), y).add(w.mul(w).sum().mul(lambda / 2));
const gradient = (w: Tensor, createGraph = false) => tg.grad([loss(w)], [w], { createGraph })[0]!;

section('A Hessian-vector product by hand and by double backward');
const w = tg.tensor([0.3, -0.5, 0.8], { ...f64, requiresGrad: true });
const v = tg.tensor([1, 2, -1], f64);
const p = X.matmul(w).sigmoid().detach();
const H = X.T.mul(p.mul(p.neg().add(1)).unsqueeze(0)).matmul(X).div(N).add(tg.eye(3, f64).mul(lambda)); // Xᵀ diag(p(1−p)) X / N + λI
console.log(`  H by hand (3×3, shape [${H.shape.join(', ')}]):`);
table(H.toArray().map((row: number[]) => row.map((h) => num(h))), '    ');
const g = gradient(w, true); // ∇L, recorded so that it can be differentiated again
const Hv = tg.grad([g.mul(v).sum()], [w])[0]!; // ∇_w (∇L · v) = H·v
compare('H·v (by hand: the matrix times v; autograd: one backward through ∇L)', H.matmul(v), Hv, 8);
const eps = 1e-5;
const shifted = (s: number) => gradient(w.detach().add(v.mul(s)).requiresGrad_());
const finite = shifted(eps).sub(shifted(-eps)).div(2 * eps); // (∇L(w + εv) − ∇L(w − εv)) / 2ε
console.log(`  finite differences of ∇L along v: ${vec(finite, 8)}`);
console.log(`  max |finite differences − autograd| = ${Math.max(...finite.sub(Hv).abs().data).toExponential(1)}`);

section('Newton’s method against gradient descent (lr 1.0), both from w = 0');
/** Solve A·x = b for a small dense A by Gaussian elimination with partial pivoting. */
function solve(A: number[][], b: number[]): number[] {
  const n = b.length, M = A.map((row, i) => [...row, b[i]]);
  for (let c = 0; c < n; c++) {
    const pivot = M.slice(c).reduce((best, row, i) => (Math.abs(row[c]) > Math.abs(M[best][c]) ? i + c : best), c);
    [M[c], M[pivot]] = [M[pivot], M[c]];
    for (let r = c + 1; r < n; r++) {
      const f = M[r][c] / M[c][c];
      for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
    }
  }
  const x = new Array<number>(n).fill(0);
  for (let r = n - 1; r >= 0; r--) x[r] = (M[r][n] - M[r].slice(r + 1, n).reduce((s, m, k) => s + m * x[r + 1 + k], 0)) / M[r][r];
  return x;
}
/** H column by column: H·e_i by double backward (three products, the Hessian never written out). */
function hessian(at: Tensor): number[][] {
  const grad = gradient(at, true);
  const cols = [0, 1, 2].map((i) => tg.grad([grad.mul(tg.eye(3, f64).slice(0, i, i + 1).reshape(3)).sum()], [at], { retainGraph: true })[0]!.toArray() as number[]);
  return cols[0].map((_, r) => cols.map((col) => col[r]));
}
const norm = (t: Tensor) => Math.sqrt(t.mul(t).sum().item());
let wGd = tg.zeros([3], { ...f64, requiresGrad: true }), wNewton = tg.zeros([3], { ...f64, requiresGrad: true });
const rows: (string | number)[][] = [['step', 'GD loss', 'GD ‖∇L‖', 'Newton loss', 'Newton ‖∇L‖']];
for (let step = 0; step <= 6; step++) {
  const gGd = gradient(wGd), gNewton = gradient(wNewton);
  rows.push([step, num(loss(wGd).item(), 10), num(norm(gGd), 3), num(loss(wNewton).item(), 10), num(norm(gNewton), 3)]);
  wGd = wGd.detach().sub(gGd).requiresGrad_(); // w ← w − α∇L, α = 1
  const d = solve(hessian(wNewton), Array.from(gNewton.data)); // H·d = ∇L
  wNewton = wNewton.detach().sub(tg.tensor(d, f64)).requiresGrad_(); // w ← w − H⁻¹∇L
}
table(rows);
console.log(`  Newton after 6 steps: w = ${vec(wNewton, 6)}, ‖∇L‖ = ${num(norm(gradient(wNewton)), 3)}`);
console.log(`  gradient descent after 6 steps: ‖∇L‖ = ${num(norm(gradient(wGd)), 3)}`);
console.log('\nNotice: near the optimum Newton squares its error each step (quadratic convergence), descent only shrinks it by a constant factor; each Newton step cost 3 Hessian-vector products, never an explicit second-derivative formula.');
