// Multi-head attention, one head per call, over a packed projection qkv [B, T, 3C] held in this
// module's memory: the scores, softmax and products of a head never leave it (src/tensor/kernels/
// js/attention.ts is the reference). `q` points at the head's first element of q in qkv; its k and
// v blocks lie C and 2C floats further (rows are ld = 3C floats apart); the output, dOut and dqkv
// blocks are read and written in place in their merged layouts (rows C and 3C apart), so no head
// is copied out and back. The scale is read from memory (`scaleAt`): the worker thread's call
// table holds integers only. `keep` (0: none) points at the head's dropout factors (0 or 1/(1−p)).
import { gemm } from './matmul';
import { softmaxRows, softmaxBackwardRows } from './softmax';

/** s ← s·scale over a [T, T] block, and −∞ above the diagonal (key j > query i) when causal. */
function scaleScores(s: usize, T: i32, scale: f32, causal: bool): void {
  const sv = f32x4.splat(scale);
  for (let i = 0; i < T; i++) {
    const row = s + (<usize>i * T << 2);
    const end = causal ? i + 1 : T; // the columns kept
    let j = 0;
    for (; j + 4 <= end; j += 4) v128.store(row + (<usize>j << 2), f32x4.mul(v128.load(row + (<usize>j << 2)), sv));
    for (; j < end; j++) store<f32>(row + (<usize>j << 2), load<f32>(row + (<usize>j << 2)) * scale);
    for (; j < T; j++) store<f32>(row + (<usize>j << 2), -Infinity);
  }
}

/** out = a ⊙ b over n floats (out may be a or b). */
function mulInto(a: usize, b: usize, out: usize, n: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) v128.store(out + (<usize>i << 2), f32x4.mul(v128.load(a + (<usize>i << 2)), v128.load(b + (<usize>i << 2))));
  for (; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(a + (<usize>i << 2)) * load<f32>(b + (<usize>i << 2)));
}

/**
 * One head: probs [T, T] = softmax(q·kᵀ·scale (+ causal)), out = (probs ⊙ keep) · v. pd ([T, T],
 * for the dropped-out weights), pa, pb, edge: the calling thread's scratch.
 */
export function attentionHead(
  q: usize, ld: i32, probs: usize, out: usize, T: i32, d: i32, scaleAt: usize, causal: bool, keep: usize,
  pd: usize, pa: usize, pb: usize, edge: usize,
): void {
  const C = <usize>ld / 3, k = q + (C << 2), v = q + (C << 3);
  gemm(q, false, ld, k, true, ld, probs, T, T, T, d, pa, pb, edge); // S = Q·Kᵀ
  scaleScores(probs, T, load<f32>(scaleAt), causal);
  softmaxRows(probs, probs, T, T);
  let weights = probs;
  if (keep != 0) {
    mulInto(probs, keep, pd, T * T); // Pd = P ⊙ keep
    weights = pd;
  }
  gemm(weights, false, T, v, false, ld, out, <i32>C, T, d, T, pa, pb, edge); // O = Pd·V
}

/**
 * One head's gradients into its blocks of dqkv (`dq`; rows ld apart like qkv's) from its block of
 * dOut (rows ld/3 apart) and the forward's probs; dS ([T, T]), pa, pb, edge: the calling thread's scratch.
 */
export function attentionHeadBackward(
  q: usize, ld: i32, probs: usize, dOut: usize, dq: usize, T: i32, d: i32, scaleAt: usize, keep: usize,
  dS: usize, pa: usize, pb: usize, edge: usize,
): void {
  const C = <usize>ld / 3, k = q + (C << 2), v = q + (C << 3), dk = dq + (C << 2), dv = dq + (C << 3);
  const ldo = <i32>C;
  let weights = probs;
  if (keep != 0) {
    mulInto(probs, keep, dS, T * T); // Pd = P ⊙ keep, in dS until dV is made
    weights = dS;
  }
  gemm(weights, true, T, dOut, false, ldo, dv, ld, T, d, T, pa, pb, edge); // dV = Pdᵀ·dO
  gemm(dOut, false, ldo, v, true, ld, dS, T, T, T, d, pa, pb, edge); // dPd = dO·Vᵀ
  if (keep != 0) mulInto(dS, keep, dS, T * T); // dP = dPd ⊙ keep
  softmaxBackwardRows(probs, dS, dS, T, T); // dS = P ⊙ (dP − rowsum(P ⊙ dP))
  scaleScores(dS, T, load<f32>(scaleAt), false);
  gemm(dS, false, T, k, false, ld, dq, ld, T, d, T, pa, pb, edge); // dQ = dS·K
  gemm(dS, true, T, q, false, ld, dk, ld, T, d, T, pa, pb, edge); // dK = dSᵀ·Q
}
