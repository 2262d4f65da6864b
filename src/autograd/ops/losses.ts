// Losses with PyTorch's semantics. crossEntropy is fused (logSoftmax and the smoothed negative
// log-likelihood in one kernel: dlogits = (softmax − q)·scale, q the smoothed one-hot); nllLoss,
// mseLoss, binaryCrossEntropy and bceWithLogits are composed of recorded ops and need no rule.
// Class weights, weight and posWeight are constants (no gradient, as in PyTorch).
import { Tensor } from '../../tensor/tensor.js';
import { arrayFor, type FloatDType } from '../../tensor/dtype.js';
import * as raw from '../../tensor/raw.js';
import type { CrossEntropyArgs, FloatArray } from '../../tensor/kernels/types.js';
import { kernelFor } from '../../tensor/kernels/index.js';
import { fmt, shapesEqual, sizeOf } from '../../tensor/shape.js';
import { isGradEnabled, recordFused } from '../engine.js';
import { requireFloat } from './operands.js';
import { add, div, mul, neg, sub } from './arithmetic.js';
import { exp, log } from './unary.js';
import { clamp, ge, lt, where } from './compare.js';
import { sum } from './broadcast.js';
import { reshape } from './shape.js';
import { logSoftmax } from './softmax.js';

export type Reduction = 'mean' | 'sum' | 'none';

export interface ReductionOptions {
  reduction?: Reduction;
}

export interface NllLossOptions extends ReductionOptions {
  /** Targets equal to this are skipped and excluded from the mean. */
  ignoreIndex?: number;
  /** A weight per class, [C]; the mean divides by Σ weight[target] over the counted rows. */
  weight?: Tensor | null;
}

export interface CrossEntropyOptions extends NllLossOptions {
  /** ε: the target becomes (1 − ε)·onehot + ε/C. */
  labelSmoothing?: number;
}

function checkReduction(op: string, reduction: unknown): Reduction {
  if (reduction !== 'mean' && reduction !== 'sum' && reduction !== 'none') {
    throw new Error(`${op}: reduction must be 'mean', 'sum' or 'none' (got '${String(reduction)}')`);
  }
  return reduction;
}

/** A loss weight: a float tensor that broadcasts to shape and needs no gradient; its values laid out over shape. */
function constantWeight(op: string, name: string, w: Tensor | null | undefined, shape: readonly number[]): Tensor | null {
  if (w == null) return null;
  if (!(w instanceof Tensor)) throw new Error(`${op}: ${name} must be a tensor`);
  requireFloat(op, name, w);
  if (w.requiresGrad && isGradEnabled()) throw new Error(`${op}: ${name} gets no gradient (as in PyTorch); pass it without requiresGrad or detach() it`);
  const fits = w.ndim <= shape.length && w.shape.every((d, i) => d === 1 || d === shape[shape.length - w.ndim + i]);
  if (!fits) throw new Error(`${op}: ${name} of shape ${fmt(w.shape)} cannot be broadcast to shape ${fmt(shape)}`);
  return raw.expand(w, shape);
}

/**
 * Class-index targets over input [N, C, d1, ...] (or [C]) with target [N, d1, ...] (or []): row r of
 * the target reads C values of the input at base(r) + c·stride. Validates dtype, shape and range.
 */
function classTargets(op: string, inputName: string, input: Tensor, target: Tensor, ignoreIndex: number, classWeight: Tensor | null | undefined) {
  if (!(input instanceof Tensor)) throw new Error(`${op}: ${inputName} must be a tensor`);
  requireFloat(op, inputName, input);
  if (input.ndim === 0) throw new Error(`${op}: ${inputName} must have a class dim, shape [N, C] or [C] (got shape [])`);
  if (!(target instanceof Tensor) || target.dtype !== 'int32') {
    throw new Error(`${op}: target must be an int32 tensor of class indices (got ${target instanceof Tensor ? target.dtype : typeof target})`);
  }
  const C = input.shape[input.ndim === 1 ? 0 : 1];
  const expected = input.ndim === 1 ? [] : [input.shape[0], ...input.shape.slice(2)];
  if (!shapesEqual(target.shape, expected)) {
    throw new Error(`${op}: target of shape ${fmt(target.shape)} does not match ${inputName} of shape ${fmt(input.shape)} (expected target shape ${fmt(expected)})`);
  }
  const y = target.data as Int32Array;
  for (let r = 0; r < y.length; r++) {
    if (y[r] !== ignoreIndex && (y[r] < 0 || y[r] >= C)) throw new Error(`${op}: target ${y[r]} is out of range for ${C} classes`);
  }
  if (classWeight instanceof Tensor && !shapesEqual(classWeight.shape, [C])) {
    throw new Error(`${op}: weight must hold one value per class, shape [${C}] (got ${fmt(classWeight.shape)})`);
  }
  const w = constantWeight(op, 'weight', classWeight, [C]);
  const S = input.ndim <= 2 ? 1 : sizeOf(input.shape.slice(2));
  const base = (r: number) => (S === 1 ? r * C : Math.floor(r / S) * C * S + (r % S));
  let denominator = 0; // Σ weight[target] over the rows that count (their number without weights)
  for (let r = 0; r < y.length; r++) if (y[r] !== ignoreIndex) denominator += w ? w.data[y[r]] : 1;
  return { C, S, rows: y.length, y, w: w?.data ?? null, base, denominator, shape: target.shape, classDim: input.ndim === 1 ? 0 : 1 };
}


/** Σ, mean (Σ/denominator) or the losses themselves, from recorded ops. */
function reduceLoss(losses: Tensor, reduction: Reduction, denominator: number): Tensor {
  if (reduction === 'none') return losses;
  const total = sum(losses);
  return reduction === 'mean' ? div(total, denominator) : total;
}

type Targets = ReturnType<typeof classTargets>;

/** A, of the input's shape: A[r, c] = (1 − ε)·w_y·[c = y_r] + (ε/C)·w_c, 0 on ignored rows, so loss_r = −Σ_c A[r, c]·log p[r, c]. */
function targetWeights(t: Targets, shape: readonly number[], dtype: FloatDType, ignoreIndex: number, eps: number): Tensor {
  const a = arrayFor(dtype, sizeOf(shape));
  for (let r = 0; r < t.rows; r++) {
    if (t.y[r] === ignoreIndex) continue;
    const b = t.base(r);
    if (eps > 0) for (let c = 0; c < t.C; c++) a[b + c * t.S] = (eps / t.C) * (t.w ? t.w[c] : 1);
    a[b + t.y[r] * t.S] += (1 - eps) * (t.w ? t.w[t.y[r]] : 1);
  }
  return new Tensor(a, shape, dtype);
}

/** −Σ_c A·logProbs over the class dim, reduced: the negative log-likelihood, composed. */
function weightedNll(logProbs: Tensor, A: Tensor, t: Targets, reduction: Reduction): Tensor {
  return reduceLoss(neg(sum(mul(logProbs, A), t.classDim)), reduction, t.denominator);
}

/** crossEntropy(logits, target): −Σ_c q_c log softmax(logits)_c per row, q = (1−ε)·onehot + ε/C. Fused. */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const eps = opts.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new Error(`${op}: labelSmoothing must be between 0 and 1 (got ${eps})`);
  const t = classTargets(op, 'logits', logits, target, ignoreIndex, opts.weight);
  const dtype = logits.dtype as FloatDType;
  // the kernel wants contiguous rows of C: move the class dim last for [N, C, d1, …]
  const order = logits.ndim <= 2 ? null : [0, ...logits.shape.slice(2).map((_, i) => i + 2), 1];
  const rowsFirst = order ? raw.permute(logits, order) : logits;
  const args: CrossEntropyArgs = {
    logits: rowsFirst.data as FloatArray, rows: t.rows, classes: t.C, target: t.y, ignoreIndex,
    weight: t.w, smoothing: eps, lse: new Float64Array(t.rows),
  };
  const losses = new Float64Array(t.rows);
  kernelFor('crossEntropy', dtype, logits.size)(args, losses);
  let out: Tensor;
  if (reduction === 'none') out = new Tensor(arrayFor(dtype, t.rows), t.shape, dtype), out.data.set(losses);
  else {
    let total = 0;
    for (let r = 0; r < t.rows; r++) total += losses[r];
    out = raw.scalar(reduction === 'mean' ? total / t.denominator : total, dtype);
  }
  return recordFused(out, op, [logits], (g) => {
    const scale = reduction === 'none' ? Float64Array.from(raw.cast(g, 'float64').data) : (reduction === 'mean' ? g.data[0] / t.denominator : g.data[0]);
    const dz = new Tensor(arrayFor(dtype, logits.size), rowsFirst.shape, dtype);
    kernelFor('crossEntropyBackward', dtype, logits.size)(args, scale, dz.data as FloatArray);
    return [order ? raw.permute(dz, order.map((_, i) => order.indexOf(i))) : dz];
  }, (z) => weightedNll(logSoftmax(z, t.classDim), targetWeights(t, z.shape, dtype, ignoreIndex, eps), t, reduction));
}

/** nllLoss(logProbs, target): −w_y·logProbs[y] per row, as torch.nn.functional.nll_loss. Composed. */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  const op = 'nllLoss';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const t = classTargets(op, 'logProbs', logProbs, target, ignoreIndex, opts.weight);
  const out = weightedNll(logProbs, targetWeights(t, logProbs.shape, logProbs.dtype as FloatDType, ignoreIndex, 0), t, reduction);
  return reduction === 'none' ? reshape(out, t.shape) : out;
}

function checkPair(op: string, input: Tensor, target: Tensor, floatTarget: boolean): void {
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new Error(`${op}: input and target must be tensors`);
  requireFloat(op, 'input', input);
  if (floatTarget) requireFloat(op, 'target', target);
  if (!shapesEqual(input.shape, target.shape)) {
    throw new Error(`${op}: target of shape ${fmt(target.shape)} must have the same shape as input of shape ${fmt(input.shape)}`);
  }
}

/** mseLoss(input, target): (input − target)². Composed. */
export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const op = 'mseLoss';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  checkPair(op, input, target, false);
  const d = sub(input, target);
  return reduceLoss(mul(d, d), reduction, input.size);
}

export interface BceOptions extends ReductionOptions {
  /** Rescales each element's loss; broadcasts to the input's shape. */
  weight?: Tensor | null;
}

/** binaryCrossEntropy(p, target): −w·(t·log p + (1 − t)·log(1 − p)), each log clamped at −100. Composed. */
export function binaryCrossEntropy(p: Tensor, target: Tensor, opts: BceOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  checkPair(op, p, target, true);
  const x = p.data;
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= 0 && x[i] <= 1)) throw new Error(`${op}: all elements of input should be between 0 and 1 (found ${x[i]})`);
  }
  const w = constantWeight(op, 'weight', opts.weight, p.shape);
  const logLikelihood = add(mul(target, clamp(log(p), -100)), mul(sub(1, target), clamp(log(sub(1, p)), -100)));
  const losses = neg(w ? mul(logLikelihood, w) : logLikelihood);
  return reduceLoss(losses, reduction, p.size);
}

export interface BceWithLogitsOptions extends BceOptions {
  /** Weight of the positive term, broadcast along the last dim (one per class). */
  posWeight?: Tensor | null;
}

/** softplus(−x) = −log σ(x) = max(−x, 0) + log(1 + e^{−|x|}), never overflowing; its slope at 0 is −½. */
function softplusNeg(x: Tensor): Tensor {
  const absX = where(ge(x, 0), x, neg(x)); // |x| with slope 1 at 0, so the two terms' slopes sum to −½ there
  return add(where(lt(x, 0), neg(x), 0), log(add(exp(neg(absX)), 1)));
}

/** bceWithLogits(x, t) = w·((1 − t)·x + (1 + (pw − 1)·t)·softplus(−x)): BCE of σ(x), in the stable form. Composed. */
export function bceWithLogits(logits: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  const op = 'bceWithLogits';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  checkPair(op, logits, target, true);
  const w = constantWeight(op, 'weight', opts.weight, logits.shape);
  const pw = constantWeight(op, 'posWeight', opts.posWeight, logits.shape);
  const logWeight = pw ? add(mul(target, sub(pw, 1)), 1) : null;
  const sp = softplusNeg(logits);
  const perElement = add(mul(sub(1, target), logits), logWeight ? mul(logWeight, sp) : sp);
  return reduceLoss(w ? mul(perElement, w) : perElement, reduction, logits.size);
}
