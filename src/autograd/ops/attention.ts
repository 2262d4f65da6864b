// Scaled dot-product attention as one fused op: O = dropout(softmax(Q·Kᵀ·s + mask)) · V on
// [..., T, d] tensors, with its gradient written out below (no graph of small ops to walk) and
// its composite twin for higher-order gradients.
import { Tensor } from '../../tensor/tensor.js';
import { promoteTypes, type FloatDType } from '../../tensor/dtype.js';
import * as raw from '../../tensor/raw.js';
import { kernelFor } from '../../tensor/kernels/index.js';
import type { FloatArray } from '../../tensor/kernels/types.js';
import { random } from '../../tensor/random.js';
import { fmt } from '../../tensor/shape.js';
import { recordFused } from '../engine.js';
import { requireFloat } from './operands.js';
import { add, mul } from './arithmetic.js';
import { where } from './compare.js';
import { matmulT } from './matmul.js';
import { softmax } from './softmax.js';

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
  if (!(dropout >= 0 && dropout <= 1)) throw new Error(`${OP}: dropout must be a probability in [0, 1] (got ${dropout})`);
  const dtype = promoteTypes(promoteTypes(query.dtype, key.dtype), value.dtype) as FloatDType;
  const [q, k, v] = [query, key, value].map((t) => raw.cast(t, dtype));
  const Tq = q.shape[q.ndim - 2], Tk = k.shape[k.ndim - 2], d = q.shape[q.ndim - 1];
  const scale = opts.scale ?? 1 / Math.sqrt(d);

  // S = Q·Kᵀ·scale   [..., Tq, Tk]
  const scores = raw.matmul(q, k, false, true);
  const s = scores.data as FloatArray;
  kernelFor('binary', dtype, s.length)('mul', s, scores.shape, raw.scalar(scale, dtype).data, [], s, scores.shape); // S *= scale, in place
  if (mask) {
    if (mask.dtype === 'int32') throw new Error(`${OP}: mask must be bool (true = attend) or float (added to the scores), got int32`);
    if (!broadcastsInto(mask.shape, scores.shape)) {
      throw new Error(`${OP}: mask of shape ${fmt(mask.shape)} cannot be broadcast to the scores' shape ${fmt(scores.shape)} [..., Tq, Tk]`);
    }
    applyMask(s, raw.expand(mask, scores.shape), dtype);
  }
  if (causal) applyCausal(s, Tq, Tk);

  const P = raw.softmax(scores); // P = softmax(S) over keys
  if (mask) zeroMaskedRows(s, P.data as FloatArray, Tk);
  // dropout: Pd = P ⊙ keep / (1 − p)
  let keep: FloatArray | null = null;
  let Pd = P;
  if (dropout > 0) {
    keep = dropoutMask(P.size, dropout, dtype);
    Pd = raw.binary('mul', P, new Tensor(keep, P.shape, dtype));
  }
  const out = raw.matmul(Pd, v); // O = Pd · V   [..., Tq, dv]

  const maskGrad = mask && mask.dtype !== 'bool' && mask.requiresGrad;
  const inputs = maskGrad ? [query, key, value, mask] : [query, key, value];
  // the composite twin: the same scores, mask, softmax, dropout mask and product, from recorded ops
  // (built only when a gradient is recorded, so the forward pass keeps nothing extra)
  const floatMask = mask && mask.dtype !== 'bool' ? mask : undefined;
  const composite = (cq: Tensor, ck: Tensor, cv: Tensor, cm?: Tensor): Tensor => {
    let S = mul(matmulT(cq, ck, false, true), scale);
    if (cm ?? floatMask) S = add(S, cm ?? floatMask!);
    if (mask && mask.dtype === 'bool') S = where(mask, S, -Infinity);
    if (causal) S = where(causalAllowed(Tq, Tk), S, -Infinity);
    let probs = softmax(S, -1);
    if (mask) probs = where(raw.binary('eq', P, raw.scalar(0, dtype)), 0, probs); // rows that attend to nothing
    if (keep) probs = mul(probs, new Tensor(keep, P.shape, dtype));
    return matmulT(probs, cv, false, false);
  };
  return recordFused(out, OP, inputs, (grad) => {
    const dO = raw.cast(grad, dtype);
    const dV = value.requiresGrad ? raw.matmul(Pd, dO, true, false) : null; // dV = Pdᵀ · dO
    if (!query.requiresGrad && !key.requiresGrad && !maskGrad) return [null, null, dV];
    const dPd = raw.sumTo(raw.matmul(dO, v, false, true), P.shape); // dPd = dO · Vᵀ (summed over dims only V had)
    if (keep) {
      kernelFor('binary', dtype, dPd.size)('mul', dPd.data, dPd.shape, keep, P.shape, dPd.data, dPd.shape); // dP = dPd ⊙ keep / (1 − p)
    }
    const dS = raw.softmaxBackward(P, dPd); // dS = P ⊙ (dP − rowsum(dP ⊙ P))
    const dMask = maskGrad ? new Tensor((dS.data as FloatArray).slice(), dS.shape, dtype) : null; // ∂S/∂mask = 1
    kernelFor('binary', dtype, dS.size)('mul', dS.data, dS.shape, raw.scalar(scale, dtype).data, [], dS.data, dS.shape); // dS *= scale
    const dQ = query.requiresGrad ? raw.matmul(dS, k) : null; // dQ = dS · K · scale
    const dK = key.requiresGrad ? raw.matmul(dS, q, true, false) : null; // dK = dSᵀ · Q · scale
    return maskGrad ? [dQ, dK, dV, dMask] : [dQ, dK, dV];
  }, composite as (...ts: Tensor[]) => Tensor);
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
