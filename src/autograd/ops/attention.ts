// Scaled dot-product attention as one fused op: O = dropout(softmax(Q·Kᵀ·s + mask)) · V on
// [..., T, d] tensors, with its gradient written out below (no graph of small ops to walk) and
// its composite twin for higher-order gradients; packedAttention is the same on the heads of one
// packed [B, T, 3C] projection, read in place (one kernel per direction when there is no mask:
// kernels/js/attention.ts, and wasm's keeps each head inside wasm memory).
import { Tensor } from '../../tensor/tensor.js';
import { emptyArrayFor, promoteTypes, type FloatDType } from '../../tensor/dtype.js';
import * as raw from '../../tensor/raw.js';
import { kernelFor } from '../../tensor/kernels/index.js';
import type { FloatArray, PackedAttentionArgs } from '../../tensor/kernels/types.js';
import { random } from '../../tensor/random.js';
import { fmt } from '../../tensor/shape.js';
import { recordFused } from '../engine.js';
import { requireFloat } from './operands.js';
import { add, mul } from './arithmetic.js';
import { where } from './compare.js';
import { matmulT } from './matmul.js';
import { softmax } from './softmax.js';
import { reshape, split, transpose } from './shape.js';

export interface AttentionOptions {
  /** bool: true where attention is allowed; float: added to the scores. Broadcasts to [..., Tq, Tk]. */
  mask?: Tensor | null;
  /** Query i attends to key j only if j ≤ i (top-left aligned when Tq ≠ Tk, as PyTorch's is_causal). */
  causal?: boolean;
  /** Dropout probability on the attention weights (applied whenever > 0, as PyTorch's dropout_p). */
  dropout?: number;
  /** Score scale; defaults to 1/√d. */
  scale?: number;
}

const OP = 'scaledDotProductAttention';

/** Broadcast batch dims (all but the last two) of several shapes, or null if they do not broadcast. */
function broadcastBatch(shapes: (readonly number[])[]): number[] | null {
  const n = Math.max(...shapes.map((s) => s.length - 2));
  const out: number[] = new Array(n).fill(1);
  for (const s of shapes) {
    const batch = s.slice(0, -2), lead = n - batch.length;
    for (let i = 0; i < batch.length; i++) {
      if (batch[i] !== 1 && out[lead + i] !== 1 && batch[i] !== out[lead + i]) return null;
      if (batch[i] !== 1) out[lead + i] = batch[i];
    }
  }
  return out;
}

/** Does `shape` broadcast into `target` without enlarging it? */
function broadcastsInto(shape: readonly number[], target: readonly number[]): boolean {
  const lead = target.length - shape.length;
  return lead >= 0 && shape.every((d, i) => d === 1 || d === target[lead + i]);
}

function checkShapes(q: Tensor, k: Tensor, v: Tensor): void {
  const all = `query ${fmt(q.shape)}, key ${fmt(k.shape)}, value ${fmt(v.shape)}`;
  if (q.ndim < 2 || k.ndim < 2 || v.ndim < 2) throw new Error(`${OP}: query, key and value need at least 2 dims [..., T, d] (got ${all})`);
  const d = q.shape[q.ndim - 1], dk = k.shape[k.ndim - 1];
  if (d !== dk) throw new Error(`${OP}: query and key must have the same last dim d (got ${all}: ${d} ≠ ${dk})`);
  const tk = k.shape[k.ndim - 2], tv = v.shape[v.ndim - 2];
  if (tk !== tv) throw new Error(`${OP}: key and value must have the same length T in dim -2 (got ${all}: ${tk} ≠ ${tv})`);
  if (!broadcastBatch([q.shape, k.shape, v.shape])) throw new Error(`${OP}: the batch dims of ${all} cannot be broadcast together`);
}

/**
 * softmax(Q·Kᵀ·scale + mask) · V for q [..., Tq, d], k [..., Tk, d], v [..., Tk, dv] → [..., Tq, dv];
 * batch dims broadcast. A row that masks every key gives zeros (as PyTorch's safe softmax), not NaN.
 */
export function scaledDotProductAttention(query: Tensor, key: Tensor, value: Tensor, opts: AttentionOptions = {}): Tensor {
  const { mask = null, causal = false, dropout = 0 } = opts;
  checkShapes(query, key, value);
  for (const [name, t] of [['query', query], ['key', key], ['value', value]] as const) requireFloat(OP, name, t);
  checkOptions(OP, opts);
  const dtype = promoteTypes(promoteTypes(query.dtype, key.dtype), value.dtype) as FloatDType;
  const [q, k, v] = [query, key, value].map((t) => raw.cast(t, dtype));
  const Tq = q.shape[q.ndim - 2], Tk = k.shape[k.ndim - 2], d = q.shape[q.ndim - 1];
  const w: Weights = { scale: opts.scale ?? 1 / Math.sqrt(d), mask, causal, Tq, Tk, dtype };

  const scores = raw.matmul(q, k, false, true); // S = Q·Kᵀ   [..., Tq, Tk]
  const { P, Pd, keep } = attentionWeights(OP, scores, w, dropout);
  const out = raw.matmul(Pd, v); // O = Pd · V   [..., Tq, dv]

  const maskGrad = floatMaskGrad(mask);
  const inputs = maskGrad ? [query, key, value, mask!] : [query, key, value];
  const composite = (cq: Tensor, ck: Tensor, cv: Tensor, cm?: Tensor): Tensor => compositeAttention(cq, ck, cv, cm, w, P, keep);
  return recordFused(out, OP, inputs, (grad) => {
    const dO = raw.cast(grad, dtype);
    const dV = value.requiresGrad ? raw.matmul(Pd, dO, true, false) : null; // dV = Pdᵀ · dO
    if (!query.requiresGrad && !key.requiresGrad && !maskGrad) return [null, null, dV];
    const dPd = raw.sumTo(raw.matmul(dO, v, false, true), P.shape); // dPd = dO · Vᵀ (summed over dims only V had)
    const { dS, dMask } = scoresGradient(P, dPd, keep, w.scale, maskGrad);
    const dQ = query.requiresGrad ? raw.matmul(dS, k) : null; // dQ = dS · K · scale
    const dK = key.requiresGrad ? raw.matmul(dS, q, true, false) : null; // dK = dSᵀ · Q · scale
    raw.free(dPd, dS);
    return maskGrad ? [dQ, dK, dV, dMask] : [dQ, dK, dV];
  }, composite as (...ts: Tensor[]) => Tensor);
}

const PACKED = 'packedAttention';

/**
 * Multi-head attention over packed projections: qkv [B, T, 3C] holds q, k and v side by side, each
 * C = H·d wide with head h in columns h·d … h·d + d − 1; returns the heads merged, [B, T, C]. The
 * same as splitting qkv, moving the heads to dim 1, scaledDotProductAttention and merging them
 * back, without the six copies (and their gradients' scatters): the products read each head of q,
 * k and v in place, rows 3C apart. The mask broadcasts to [B, H, T, T].
 */
export function packedAttention(qkv: Tensor, numHeads: number, opts: AttentionOptions = {}): Tensor {
  const { mask = null, causal = false, dropout = 0 } = opts;
  requireFloat(PACKED, 'qkv', qkv);
  if (!Number.isInteger(numHeads) || numHeads < 1) throw new Error(`${PACKED}: numHeads must be a positive integer (got ${numHeads})`);
  if (qkv.ndim !== 3 || qkv.shape[2] % (3 * numHeads) !== 0) {
    throw new Error(`${PACKED}: qkv must be [B, T, 3C] with C a multiple of numHeads ${numHeads} (got shape ${fmt(qkv.shape)})`);
  }
  checkOptions(PACKED, opts);
  const [B, T, C3] = qkv.shape, C = C3 / 3, H = numHeads, d = C / H, heads = B * H;
  const dtype = qkv.dtype as FloatDType;
  const w: Weights = { scale: opts.scale ?? 1 / Math.sqrt(d), mask, causal, Tq: T, Tk: T, dtype };
  const composite = (P: Tensor, keep: FloatArray | null) => (cqkv: Tensor, cm?: Tensor): Tensor => {
    const [cq, ck, cv] = split(cqkv, C, -1).map((t) => transpose(reshape(t, [B, T, H, d]), 1, 2));
    return reshape(transpose(compositeAttention(cq, ck, cv, cm, w, P, keep), 1, 2), [B, T, C]);
  };
  if (mask === null) {
    // the common case (GPT's causal heads, BERT without padding): one fused kernel per direction;
    // the dropout factors are drawn where the general path draws them, so both give the same bits
    const keep = dropout > 0 ? dropoutMask(heads * T * T, dropout, dtype) : null;
    const args: PackedAttentionArgs = { qkv: qkv.data as FloatArray, batch: B, T, heads: H, headDim: d, scale: w.scale, causal, keep };
    const flops = 4 * heads * T * T * d;
    const merged = new Tensor(emptyArrayFor(dtype, B * T * C), [B, T, C], dtype);
    const P = new Tensor(emptyArrayFor(dtype, heads * T * T), [B, H, T, T], dtype);
    kernelFor('packedAttention', dtype, flops)(args, merged.data as FloatArray, P.data as FloatArray);
    const out = recordFused(merged, PACKED, [qkv], (grad) => {
      const dqkv = new Tensor(emptyArrayFor(dtype, B * T * C3), qkv.shape, dtype);
      kernelFor('packedAttentionBackward', dtype, 2 * flops)(args, P.data as FloatArray, raw.cast(grad, dtype).data as FloatArray, dqkv.data as FloatArray);
      return [dqkv];
    }, composite(P, keep) as (...ts: Tensor[]) => Tensor);
    if (out.gradFn) out.gradFn.saved = [P]; // the probabilities: only this rule reads them
    return out;
  }
  // head i = (b, h) of q, k, v (r = 0, 1, 2) starts at row b·T, column r·C + h·d; per-head results are packed
  const at = (r: number) => Int32Array.from({ length: heads }, (_, i) => Math.floor(i / H) * T * C3 + r * C + (i % H) * d);
  const [qAt, kAt, vAt] = [at(0), at(1), at(2)];
  const packed = (size: number) => Int32Array.from({ length: heads }, (_, i) => i * size);
  const product = (a: Tensor, b: Tensor, m: number, n: number, k: number, transA: boolean, transB: boolean, aOffsets: Int32Array, bOffsets: Int32Array, lda: number, ldb: number) =>
    raw.matmulAt(a, b, { batch: heads, m, n, k, transA, transB, aOffsets, bOffsets, lda, ldb });

  const scores = product(qkv, qkv, T, T, d, false, true, qAt, kAt, C3, C3); // S = Q·Kᵀ per head
  const { P, Pd, keep } = attentionWeights(PACKED, raw.view(scores, [B, H, T, T]), w, dropout);
  const outHeads = product(Pd, qkv, T, d, T, false, false, packed(T * T), vAt, T, C3); // O = Pd · V per head
  const merged = raw.view(raw.permute(raw.view(outHeads, [B, H, T, d]), [0, 2, 1, 3]), [B, T, C]);

  const maskGrad = floatMaskGrad(mask);
  return recordFused(merged, PACKED, maskGrad ? [qkv, mask!] : [qkv], (grad, needs) => {
    const dO = raw.permute(raw.view(raw.cast(grad, dtype), [B, T, H, d]), [0, 2, 1, 3]); // [B, H, T, d]
    const dV = product(Pd, dO, T, d, T, true, false, packed(T * T), packed(T * d), T, d); // dV = Pdᵀ · dO
    const dPd = raw.view(product(dO, qkv, T, T, d, false, true, packed(T * d), vAt, d, C3), P.shape); // dPd = dO · Vᵀ
    const { dS, dMask } = scoresGradient(P, dPd, keep, w.scale, maskGrad);
    raw.free(dPd);
    if (!needs[0]) return [null, dMask];
    const dQ = product(dS, qkv, T, d, T, false, false, packed(T * T), kAt, T, C3); // dQ = dS · K · scale
    const dK = product(dS, qkv, T, d, T, true, false, packed(T * T), qAt, T, C3); // dK = dSᵀ · Q · scale
    // dqkv[b, t, r·C + h·d + j] = dR[b, h, t, j]: the three cover every element
    const dqkv = new Tensor(emptyArrayFor(dtype, B * T * C3), qkv.shape, dtype);
    [dQ, dK, dV].forEach((g, r) => kernelFor('stridedScatter', dtype, g.size)(g.data, [B, H, T, d], dqkv.data, r * C, [T * C3, d, C3, 1]));
    raw.free(dO, dS, dQ, dK, dV);
    return maskGrad ? [dqkv, dMask] : [dqkv];
  }, composite(P, keep) as (...ts: Tensor[]) => Tensor);
}

function checkOptions(op: string, { dropout = 0 }: AttentionOptions): void {
  if (!(dropout >= 0 && dropout <= 1)) throw new Error(`${op}: dropout must be a probability in [0, 1] (got ${dropout})`);
}

/** What turns scores into weights: the scale, mask and causal flag, the lengths and the dtype. */
interface Weights {
  scale: number;
  mask: Tensor | null;
  causal: boolean;
  Tq: number;
  Tk: number;
  dtype: FloatDType;
}

/** A float mask that requires grad gets a gradient (∂S/∂mask = 1); a bool one does not. */
const floatMaskGrad = (mask: Tensor | null): boolean => mask !== null && mask.dtype !== 'bool' && mask.requiresGrad;

/**
 * P = softmax(S·scale + mask) over keys (rows that attend to nothing: zeros), then dropout
 * Pd = P ⊙ keep / (1 − p). `scores` [..., Tq, Tk] is scaled and masked in place.
 */
function attentionWeights(op: string, scores: Tensor, w: Weights, dropout: number): { P: Tensor; Pd: Tensor; keep: FloatArray | null } {
  const { mask, dtype } = w;
  const s = scores.data as FloatArray;
  kernelFor('binary', dtype, s.length)('mul', s, scores.shape, raw.scalar(w.scale, dtype).data, [], s, scores.shape); // S *= scale, in place
  if (mask) {
    if (mask.dtype === 'int32') throw new Error(`${op}: mask must be bool (true = attend) or float (added to the scores), got int32`);
    if (!broadcastsInto(mask.shape, scores.shape)) {
      throw new Error(`${op}: mask of shape ${fmt(mask.shape)} cannot be broadcast to the scores' shape ${fmt(scores.shape)} [..., Tq, Tk]`);
    }
    applyMask(s, raw.expand(mask, scores.shape), dtype);
  }
  if (w.causal) applyCausal(s, w.Tq, w.Tk);
  const P = raw.softmax(scores);
  if (mask) zeroMaskedRows(s, P.data as FloatArray, w.Tk);
  if (dropout <= 0) return { P, Pd: P, keep: null };
  const keep = dropoutMask(P.size, dropout, dtype);
  return { P, Pd: raw.binary('mul', P, new Tensor(keep, P.shape, dtype)), keep };
}

/** dS = P ⊙ (dP − rowsum(dP ⊙ P)) · scale from dPd (dP = dPd ⊙ keep), and the unscaled dS as the float mask's gradient. */
function scoresGradient(P: Tensor, dPd: Tensor, keep: FloatArray | null, scale: number, maskGrad: boolean): { dS: Tensor; dMask: Tensor | null } {
  const dtype = P.dtype;
  if (keep) kernelFor('binary', dtype, dPd.size)('mul', dPd.data, dPd.shape, keep, P.shape, dPd.data, dPd.shape); // dP = dPd ⊙ keep / (1 − p)
  const dS = raw.softmaxBackward(P, dPd);
  const dMask = maskGrad ? new Tensor((dS.data as FloatArray).slice(), dS.shape, dtype) : null; // ∂S/∂mask = 1
  kernelFor('binary', dtype, dS.size)('mul', dS.data, dS.shape, raw.scalar(scale, dtype).data, [], dS.data, dS.shape); // dS *= scale
  return { dS, dMask };
}

/**
 * The composite twin: the same scores, mask, softmax, dropout mask and product from recorded ops,
 * for higher-order gradients (built only then, so the forward pass keeps nothing extra).
 */
function compositeAttention(cq: Tensor, ck: Tensor, cv: Tensor, cm: Tensor | undefined, w: Weights, P: Tensor, keep: FloatArray | null): Tensor {
  const { mask, dtype } = w;
  const floatMask = mask && mask.dtype !== 'bool' ? mask : undefined;
  let S = mul(matmulT(cq, ck, false, true), w.scale);
  if (cm ?? floatMask) S = add(S, cm ?? floatMask!);
  if (mask && mask.dtype === 'bool') S = where(mask, S, -Infinity);
  if (w.causal) S = where(causalAllowed(w.Tq, w.Tk), S, -Infinity);
  let probs = softmax(S, -1);
  if (mask) probs = where(raw.binary('eq', P, raw.scalar(0, dtype)), 0, probs); // rows that attend to nothing
  if (keep) probs = mul(probs, new Tensor(keep, P.shape, dtype));
  return matmulT(probs, cv, false, false);
}

/** bool mask: S = −∞ where not allowed; float mask: S += mask (same shape as S here). */
function applyMask(s: FloatArray, mask: Tensor, dtype: FloatDType): void {
  const m = mask.dtype === 'bool' ? mask.data : raw.cast(mask, dtype).data;
  if (mask.dtype === 'bool') {
    for (let i = 0; i < s.length; i++) if (m[i] === 0) s[i] = -Infinity;
  } else {
    for (let i = 0; i < s.length; i++) s[i] += m[i];
  }
}

/** [Tq, Tk] bool: true where key j may be seen from query i (j ≤ i). */
function causalAllowed(Tq: number, Tk: number): Tensor {
  const allowed = new Uint8Array(Tq * Tk);
  for (let i = 0; i < Tq; i++) allowed.fill(1, i * Tk, i * Tk + Math.min(Tk, i + 1));
  return new Tensor(allowed, [Tq, Tk], 'bool');
}

/** S[.., i, j] = −∞ for j > i. */
function applyCausal(s: FloatArray, Tq: number, Tk: number): void {
  for (let at = 0; at < s.length; at += Tq * Tk) {
    for (let i = 0; i < Tq; i++) s.fill(-Infinity, at + i * Tk + i + 1, at + (i + 1) * Tk);
  }
}

/** A row whose scores are all −∞ attends to nothing: P = 0 there instead of 0/0. */
function zeroMaskedRows(s: FloatArray, p: FloatArray, Tk: number): void {
  for (let at = 0; at < s.length; at += Tk) {
    let allMasked = true;
    for (let j = 0; j < Tk && allMasked; j++) allMasked = s[at + j] === -Infinity;
    if (allMasked) p.fill(0, at, at + Tk);
  }
}

/** keep_i = 1/(1 − p) with probability 1 − p, else 0 (p = 1 drops everything). */
function dropoutMask(n: number, p: number, dtype: FloatDType): FloatArray {
  const keep = dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
  const scale = p >= 1 ? 0 : 1 / (1 - p);
  for (let i = 0; i < n; i++) keep[i] = random() < p ? 0 : scale;
  return keep;
}
