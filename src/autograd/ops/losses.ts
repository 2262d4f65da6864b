// Losses as fused primitives with PyTorch's semantics. crossEntropy fuses logSoftmax and the
// (smoothed) negative log-likelihood: dlogits = (softmax − q)·scale, q the smoothed one-hot.
// Class weights, weight and posWeight are constants (no gradient, as in PyTorch).
import { Tensor } from '../../tensor/tensor.js';
import { arrayFor, promoteTypes, type DType } from '../../tensor/dtype.js';
import { expandRaw } from '../../tensor/kernels/js/layout.js';
import { fmt, shapesEqual, sizeOf } from '../../tensor/shape.js';
import { isGradEnabled, record } from '../engine.js';
import { requireFloat } from './operands.js';

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
  return shapesEqual(w.shape, shape) ? w : expandRaw(w, shape);
}

/** Sum, mean (Σ/denominator) or the losses themselves, as a tensor of dtype. */
function reduceLoss(losses: Float64Array, shape: readonly number[], dtype: DType, reduction: Reduction, denominator: number): Tensor {
  if (reduction === 'none') {
    const out = arrayFor(dtype, losses.length);
    out.set(losses);
    return new Tensor(out, shape, dtype);
  }
  let total = 0;
  for (let i = 0; i < losses.length; i++) total += losses[i];
  const out = arrayFor(dtype, 1);
  out[0] = reduction === 'mean' ? total / denominator : total;
  return new Tensor(out, [], dtype);
}

/** ∂out/∂loss_i times the incoming gradient: g_i for 'none', g/denominator for 'mean', g for 'sum'. */
function gradScale(g: Tensor, reduction: Reduction, denominator: number): (i: number) => number {
  if (reduction === 'none') return (i) => g.data[i];
  const s = reduction === 'mean' ? g.data[0] / denominator : g.data[0];
  return () => s;
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
  return { C, S, rows: y.length, y, w: w?.data ?? null, base, denominator, shape: target.shape };
}

/** crossEntropy(logits, target): −Σ_c q_c log softmax(logits)_c per row, q = (1−ε)·onehot + ε/C. */
export function crossEntropy(logits: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const eps = opts.labelSmoothing ?? 0;
  if (typeof eps !== 'number' || !(eps >= 0 && eps <= 1)) throw new Error(`${op}: labelSmoothing must be between 0 and 1 (got ${eps})`);
  const { C, S, rows, y, w, base, denominator, shape } = classTargets(op, 'logits', logits, target, ignoreIndex, opts.weight);
  const z = logits.data;
  let weightSum = 0;
  if (w) for (let c = 0; c < C; c++) weightSum += w[c];
  else weightSum = C;
  const lse = new Float64Array(rows), losses = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    const b = base(r);
    let max = -Infinity;
    for (let c = 0; c < C; c++) if (z[b + c * S] > max) max = z[b + c * S];
    if (max === -Infinity) max = 0;
    let sum = 0;
    for (let c = 0; c < C; c++) sum += Math.exp(z[b + c * S] - max);
    const l = max + Math.log(sum); // log Σ_c exp z_c
    lse[r] = l;
    if (y[r] === ignoreIndex) continue;
    // loss = (1 − ε)·w_y·(lse − z_y) + (ε/C)·Σ_c w_c·(lse − z_c)
    let loss = (1 - eps) * (w ? w[y[r]] : 1) * (l - z[b + y[r] * S]);
    if (eps > 0) {
      let smooth = 0;
      for (let c = 0; c < C; c++) smooth += (w ? w[c] : 1) * (l - z[b + c * S]);
      loss += (eps / C) * smooth;
    }
    losses[r] = loss;
  }
  const out = reduceLoss(losses, shape, logits.dtype, reduction, denominator);
  return record(out, op, [logits], (g) => {
    const scale = gradScale(g, reduction, denominator);
    const dz = arrayFor(logits.dtype, logits.size);
    for (let r = 0; r < rows; r++) {
      if (y[r] === ignoreIndex) continue;
      const b = base(r), s = scale(r), l = lse[r], wy = w ? w[y[r]] : 1;
      // loss = −Σ_c a_c log p_c, a_c = (1−ε)·w_y·[c = y] + (ε/C)·w_c ⇒ dz_c = A·p_c − a_c, A = Σ_c a_c
      const A = (1 - eps) * wy + (eps / C) * weightSum;
      for (let c = 0; c < C; c++) dz[b + c * S] = s * (A * Math.exp(z[b + c * S] - l) - (eps / C) * (w ? w[c] : 1));
      dz[b + y[r] * S] -= s * (1 - eps) * wy;
    }
    return [new Tensor(dz, logits.shape, logits.dtype)];
  });
}

/** nllLoss(logProbs, target): −w_y·logProbs[y] per row, as torch.nn.functional.nll_loss. */
export function nllLoss(logProbs: Tensor, target: Tensor, opts: NllLossOptions = {}): Tensor {
  const op = 'nllLoss';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const ignoreIndex = opts.ignoreIndex ?? -100;
  const { S, rows, y, w, base, denominator, shape } = classTargets(op, 'logProbs', logProbs, target, ignoreIndex, opts.weight);
  const x = logProbs.data;
  const losses = new Float64Array(rows);
  for (let r = 0; r < rows; r++) if (y[r] !== ignoreIndex) losses[r] = -(w ? w[y[r]] : 1) * x[base(r) + y[r] * S];
  const out = reduceLoss(losses, shape, logProbs.dtype, reduction, denominator);
  // ∂loss/∂logProbs[y] = −w_y, 0 for the other classes
  return record(out, op, [logProbs], (g) => {
    const scale = gradScale(g, reduction, denominator);
    const dx = arrayFor(logProbs.dtype, logProbs.size);
    for (let r = 0; r < rows; r++) if (y[r] !== ignoreIndex) dx[base(r) + y[r] * S] = -(w ? w[y[r]] : 1) * scale(r);
    return [new Tensor(dx, logProbs.shape, logProbs.dtype)];
  });
}

interface PointwiseRule {
  loss(i: number): number;
  dInput(i: number): number;
  dTarget(i: number): number;
}

/** An elementwise loss of input and a same-shaped float target, reduced over all elements. */
function pointwiseLoss(op: string, input: Tensor, target: Tensor, reduction: Reduction, rule: PointwiseRule): Tensor {
  const n = input.size;
  const losses = new Float64Array(n);
  for (let i = 0; i < n; i++) losses[i] = rule.loss(i);
  const out = reduceLoss(losses, input.shape, promoteTypes(input.dtype, target.dtype), reduction, n);
  return record(out, op, [input, target], (g) => {
    const scale = gradScale(g, reduction, n);
    const grad = (t: Tensor, d: (i: number) => number) => {
      if (!t.requiresGrad) return null;
      const out = arrayFor(t.dtype, n);
      for (let i = 0; i < n; i++) out[i] = scale(i) * d(i);
      return new Tensor(out, t.shape, t.dtype);
    };
    return [grad(input, rule.dInput), grad(target, rule.dTarget)];
  });
}

function checkPair(op: string, input: Tensor, target: Tensor, floatTarget: boolean): void {
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new Error(`${op}: input and target must be tensors`);
  requireFloat(op, 'input', input);
  if (floatTarget) requireFloat(op, 'target', target);
  if (!shapesEqual(input.shape, target.shape)) {
    throw new Error(`${op}: target of shape ${fmt(target.shape)} must have the same shape as input of shape ${fmt(input.shape)}`);
  }
}

/** mseLoss(input, target): (input − target)². */
export function mseLoss(input: Tensor, target: Tensor, opts: ReductionOptions = {}): Tensor {
  const op = 'mseLoss';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  checkPair(op, input, target, false);
  const x = input.data, t = target.data;
  // ∂/∂x = 2(x − t), ∂/∂t = −2(x − t)
  return pointwiseLoss(op, input, target, reduction, {
    loss: (i) => (x[i] - t[i]) ** 2,
    dInput: (i) => 2 * (x[i] - t[i]),
    dTarget: (i) => -2 * (x[i] - t[i]),
  });
}

export interface BceOptions extends ReductionOptions {
  /** Rescales each element's loss; broadcasts to the input's shape. */
  weight?: Tensor | null;
}

const BCE_EPSILON = Math.fround(1e-12);

/** binaryCrossEntropy(p, target): −w·(t·log p + (1 − t)·log(1 − p)), each log clamped at −100. */
export function binaryCrossEntropy(p: Tensor, target: Tensor, opts: BceOptions = {}): Tensor {
  const op = 'binaryCrossEntropy';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  checkPair(op, p, target, true);
  const x = p.data, t = target.data;
  for (let i = 0; i < x.length; i++) {
    if (!(x[i] >= 0 && x[i] <= 1)) throw new Error(`${op}: all elements of input should be between 0 and 1 (found ${x[i]})`);
  }
  const w = constantWeight(op, 'weight', opts.weight, p.shape)?.data;
  const wAt = (i: number) => (w ? w[i] : 1);
  return pointwiseLoss(op, p, target, reduction, {
    loss: (i) => -wAt(i) * (t[i] * Math.max(Math.log(x[i]), -100) + (1 - t[i]) * Math.max(Math.log1p(-x[i]), -100)),
    // ∂/∂p = w·(p − t)/max(p(1 − p), ε), PyTorch's guarded form (its ε is 1e-12 rounded to float32)
    dInput: (i) => (wAt(i) * (x[i] - t[i])) / Math.max(x[i] * (1 - x[i]), BCE_EPSILON),
    // ∂/∂t = −w·logit(p) = w·(log(1 − p) − log p)
    dTarget: (i) => wAt(i) * (Math.log1p(-x[i]) - Math.log(x[i])),
  });
}

export interface BceWithLogitsOptions extends BceOptions {
  /** Weight of the positive term, broadcast along the last dim (one per class). */
  posWeight?: Tensor | null;
}

/** softplus(−x) = −log σ(x) = max(−x, 0) + log(1 + e^{−|x|}), never overflowing. */
const softplusNeg = (v: number) => Math.max(-v, 0) + Math.log1p(Math.exp(-Math.abs(v)));

/** bceWithLogits(x, t) = w·((1 − t)·x + (1 + (pw − 1)·t)·softplus(−x)): BCE of σ(x), in the stable form. */
export function bceWithLogits(logits: Tensor, target: Tensor, opts: BceWithLogitsOptions = {}): Tensor {
  const op = 'bceWithLogits';
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  checkPair(op, logits, target, true);
  const x = logits.data, t = target.data;
  const w = constantWeight(op, 'weight', opts.weight, logits.shape)?.data;
  const pw = constantWeight(op, 'posWeight', opts.posWeight, logits.shape)?.data;
  const wAt = (i: number) => (w ? w[i] : 1);
  const logWeight = (i: number) => (pw ? 1 + (pw[i] - 1) * t[i] : 1);
  return pointwiseLoss(op, logits, target, reduction, {
    loss: (i) => wAt(i) * ((1 - t[i]) * x[i] + logWeight(i) * softplusNeg(x[i])),
    // ∂/∂x = w·((1 − t) − (1 + (pw − 1)·t)·σ(−x))
    dInput: (i) => {
      const sigmoidNeg = x[i] >= 0 ? Math.exp(-x[i]) / (1 + Math.exp(-x[i])) : 1 / (1 + Math.exp(x[i]));
      return wAt(i) * (1 - t[i] - logWeight(i) * sigmoidNeg);
    },
    // ∂/∂t = w·(−x + (pw − 1)·softplus(−x))
    dTarget: (i) => wAt(i) * (-x[i] + (pw ? (pw[i] - 1) * softplusNeg(x[i]) : 0)),
  });
}
