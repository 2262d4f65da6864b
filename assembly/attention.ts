// Multi-head attention, one head per call, over a packed projection qkv [B, T, 3C] held in this
// module's memory: the scores, softmax and products of a head never leave it (src/tensor/kernels/
// js/attention.ts is the reference). q, k, v point at the head's first element of each block in
// qkv (rows 3C floats apart); the output, dOut and dqkv blocks are read and written in place in
// their merged layouts, so no head is copied out and back. The scale is read from memory
// (`scaleAt`): the worker thread's call table holds integers only.
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

/**
 * One head: probs [T, T] = softmax(q·kᵀ·scale (+ causal)), out = probs · v with out's rows `ldo`
 * floats apart. pa, pb, edge: the gemm scratch of the calling thread.
 */
export function attentionHead(
  q: usize, k: usize, v: usize, ld: i32, probs: usize, out: usize, ldo: i32,
  T: i32, d: i32, scaleAt: usize, causal: bool, pa: usize, pb: usize, edge: usize,
): void {
  const scale = load<f32>(scaleAt);
  gemm(q, false, ld, k, true, ld, probs, T, T, T, d, pa, pb, edge); // S = Q·Kᵀ
  scaleScores(probs, T, scale, causal);
  softmaxRows(probs, probs, T, T);
  gemm(probs, false, T, v, false, ld, out, ldo, T, d, T, pa, pb, edge); // O = P·V
}

/**
 * One head's gradients into dqkv (dq, dk, dv: the head's blocks, rows `ld` apart like qkv's) from
 * dOut (rows `ldo` apart) and the forward's probs; dS is a [T, T] scratch of the calling thread.
 */
export function attentionHeadBackward(
  q: usize, k: usize, v: usize, ld: i32, probs: usize, dOut: usize, ldo: i32, dq: usize, dk: usize, dv: usize,
  T: i32, d: i32, scaleAt: usize, dS: usize, pa: usize, pb: usize, edge: usize,
): void {
  const scale = load<f32>(scaleAt);
  gemm(probs, true, T, dOut, false, ldo, dv, ld, T, d, T, pa, pb, edge); // dV = Pᵀ·dO
  gemm(dOut, false, ldo, v, true, ld, dS, T, T, T, d, pa, pb, edge); // dP = dO·Vᵀ
  softmaxBackwardRows(probs, dS, dS, T, T); // dS = P ⊙ (dP − rowsum(P ⊙ dP))
  scaleScores(dS, T, scale, false);
  gemm(dS, false, T, k, false, ld, dq, ld, T, d, T, pa, pb, edge); // dQ = dS·K
  gemm(dS, true, T, q, false, ld, dk, ld, T, d, T, pa, pb, edge); // dK = dSᵀ·Q
}
