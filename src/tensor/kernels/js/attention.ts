// Plain TypeScript multi-head attention over a packed projection, forward and backward: the
// reference for wasm's fused kernel, composed of this family's matmul and softmax. Head i = (b, h)
// reads q, k and v in place from qkv [B, T, 3C] (rows 3C apart) and writes its output into the
// merged [B, T, C] at columns h·d …, so no head is ever copied out and back.
import type { FloatArray, PackedAttentionArgs } from '../types.js';
import { matmul } from './matmul.js';
import { softmax, softmaxBackward } from './softmax.js';
import { stridedScatter } from './layout.js';

/** Where head i's block of q (r = 0), k (1) or v (2) starts in qkv, and its block of a [B, T, C] array. */
function headOffsets({ batch, T, heads, headDim }: PackedAttentionArgs): { qkvAt: (r: number) => Int32Array; mergedAt: Int32Array } {
  const C = heads * headDim;
  const start = (rowLength: number, column: number) => Int32Array.from({ length: batch * heads }, (_, i) => Math.floor(i / heads) * T * rowLength + column + (i % heads) * headDim);
  return { qkvAt: (r) => start(3 * C, r * C), mergedAt: start(C, 0) };
}

const packedAt = (count: number, size: number) => Int32Array.from({ length: count }, (_, i) => i * size);

/** Pd = P ⊙ keep (a new array), or P itself without dropout. */
function dropped(probs: FloatArray, keep: FloatArray | null): FloatArray {
  if (!keep) return probs;
  const pd = probs.slice();
  for (let i = 0; i < pd.length; i++) pd[i] *= keep[i];
  return pd;
}

/** S = Q·Kᵀ·scale (−∞ above the diagonal when causal), P = softmax(S) per head, O = (P ⊙ keep)·V merged. */
export function packedAttention(args: PackedAttentionArgs, out: FloatArray, probs: FloatArray): void {
  const { qkv, batch, T, heads, headDim: d, scale, causal, keep } = args;
  const n = batch * heads, C = heads * d, { qkvAt } = headOffsets(args);
  matmul({ a: qkv, b: qkv, out: probs, batch: n, m: T, n: T, k: d, transA: false, transB: true, aOffsets: qkvAt(0), bOffsets: qkvAt(1), lda: 3 * C, ldb: 3 * C });
  scaleScores(probs, n, T, roundedLike(probs, scale), causal);
  softmax(probs, probs, n * T, T);
  const perHead = new (qkv.constructor as { new (n: number): FloatArray })(n * T * d);
  matmul({ a: dropped(probs, keep), b: qkv, out: perHead, batch: n, m: T, n: d, k: T, transA: false, transB: false, aOffsets: packedAt(n, T * T), bOffsets: qkvAt(2), lda: T, ldb: 3 * C });
  stridedScatter(perHead, [batch, heads, T, d], out, 0, [T * C, d, C, 1]); // out[b, t, h·d + j] = O[b, h, t, j]
}

/** dV = Pdᵀ·dO, dP = (dO·Vᵀ) ⊙ keep, dS = P ⊙ (dP − rowsum(P ⊙ dP))·scale, dQ = dS·K, dK = dSᵀ·Q, into dqkv (overwritten). */
export function packedAttentionBackward(args: PackedAttentionArgs, probs: FloatArray, dOut: FloatArray, dqkv: FloatArray): void {
  const { qkv, batch, T, heads, headDim: d, scale, keep } = args;
  const n = batch * heads, C = heads * d, { qkvAt, mergedAt } = headOffsets(args);
  const make = (size: number) => new (qkv.constructor as { new (n: number): FloatArray })(size);
  const product = (a: FloatArray, b: FloatArray, m: number, cols: number, k: number, transA: boolean, transB: boolean, aOffsets: Int32Array, bOffsets: Int32Array, lda: number, ldb: number) => {
    const out = make(n * m * cols);
    matmul({ a, b, out, batch: n, m, n: cols, k, transA, transB, aOffsets, bOffsets, lda, ldb });
    return out;
  };
  const P = packedAt(n, T * T);
  const dV = product(dropped(probs, keep), dOut, T, d, T, true, false, P, mergedAt, T, C);
  const dS = product(dOut, qkv, T, T, d, false, true, mergedAt, qkvAt(2), C, 3 * C); // dPd, then dP, then dS in place
  if (keep) for (let i = 0; i < dS.length; i++) dS[i] *= keep[i];
  softmaxBackward(probs, dS, dS, n * T, T);
  const sc = roundedLike(dS, scale);
  for (let i = 0; i < dS.length; i++) dS[i] *= sc;
  const dQ = product(dS, qkv, T, d, T, false, false, P, qkvAt(1), T, 3 * C);
  const dK = product(dS, qkv, T, d, T, true, false, P, qkvAt(0), T, 3 * C);
  // dqkv[b, t, r·C + h·d + j] = dR[b, h, t, j]: the three cover every element
  [dQ, dK, dV].forEach((g, r) => stridedScatter(g, [batch, heads, T, d], dqkv, r * C, [T * 3 * C, d, 3 * C, 1]));
}

/** The scale as the array's dtype holds it: float32 data is scaled by a float32 number, as in wasm and the general path. */
const roundedLike = (a: FloatArray, scale: number): number => (a instanceof Float32Array ? Math.fround(scale) : scale);

/** S ← S·scale per [T, T] score matrix, and −∞ where key j > query i when causal. */
function scaleScores(s: FloatArray, count: number, T: number, scale: number, causal: boolean): void {
  for (let at = 0; at < count * T * T; at += T) {
    const i = (at / T) % T; // the query row
    for (let j = 0; j < T; j++) s[at + j] = causal && j > i ? -Infinity : s[at + j] * scale;
  }
}
