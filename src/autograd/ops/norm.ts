// Normalisation layers as fused ops: x̂ = (x − μ)/√(σ² + ε), y = x̂·w + b, σ² biased.
// Both share the gradient dx = (1/√(σ² + ε))·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = g·w, over the
// normalised group; dw = Σ g·x̂, db = Σ g over everything but the feature. Each has a composite twin.
import { Tensor } from '../../tensor/tensor.js';
import { type DType, arrayFor, promoteTypes } from '../../tensor/dtype.js';
import { fmt, shapesEqual, sizeOf } from '../../tensor/shape.js';
import { kernelFor } from '../../tensor/kernels/index.js';
import type { FloatArray } from '../../tensor/kernels/types.js';
import { recordFused } from '../engine.js';
import { requireFloat } from './operands.js';
import { add, div, mul, sub } from './arithmetic.js';
import { sqrt } from './unary.js';
import { mean, variance } from './reduce.js';
import { reshape } from './shape.js';

type Param = Tensor | null | undefined;

function checkParam(op: string, name: string, p: Param, shape: readonly number[], what: string): void {
  if (p == null) return;
  if (!(p instanceof Tensor)) throw new Error(`${op}: ${name} must be a tensor`);
  requireFloat(op, name, p);
  if (!shapesEqual(p.shape, shape)) throw new Error(`${op}: ${name} of shape ${fmt(p.shape)} does not match ${what} ${fmt(shape)}`);
}

function resultType(x: Tensor, ...params: Param[]): DType {
  return params.reduce<DType>((dt, p) => (p ? promoteTypes(dt, p.dtype) : dt), x.dtype);
}

/** Σ over groups as a tensor of the parameter's shape and dtype (dw or db). */
function paramGrad(p: Param, sums: Float64Array): Tensor | null {
  if (!p?.requiresGrad) return null;
  const out = arrayFor(p.dtype, p.size);
  out.set(sums);
  return new Tensor(out, p.shape, p.dtype);
}

/** layerNorm over the last normalizedShape.length dims, as torch.nn.functional.layer_norm. */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], weight?: Tensor | null, bias?: Tensor | null, eps = 1e-5): Tensor {
  const op = 'layerNorm';
  requireFloat(op, 'x', x);
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  if (shape.length === 0 || shape.some((d) => !Number.isInteger(d) || d < 1)) throw new Error(`${op}: normalizedShape must be positive integers (got ${fmt(shape)})`);
  if (x.ndim < shape.length || !shapesEqual(x.shape.slice(x.ndim - shape.length), shape)) {
    throw new Error(`${op}: normalizedShape ${fmt(shape)} does not match the last dims of input shape ${fmt(x.shape)} (expected [*, ${shape.join(', ')}])`);
  }
  checkParam(op, 'weight', weight, shape, 'normalizedShape');
  checkParam(op, 'bias', bias, shape, 'normalizedShape');
  const D = sizeOf(shape), rows = x.size / D;
  const mean = new Float64Array(rows), rstd = new Float64Array(rows);
  const dtype = resultType(x, weight, bias);
  const f = (t: Tensor | null | undefined) => (t ? (t.data as FloatArray) : null);
  const y = arrayFor(dtype, x.size) as FloatArray;
  kernelFor('layerNorm', x.dtype, x.size)(x.data as FloatArray, rows, D, f(weight), f(bias), eps, y, mean, rstd);
  const params = [x, weight, bias];
  const inputs = params.filter((t): t is Tensor => t instanceof Tensor);
  return recordFused(new Tensor(y, x.shape, dtype), op, inputs, (g) => {
    const dx = x.requiresGrad ? (arrayFor(x.dtype, x.size) as FloatArray) : null;
    const dw = new Float64Array(D), db = new Float64Array(D);
    kernelFor('layerNormBackward', x.dtype, x.size)(x.data as FloatArray, (g.dtype === x.dtype ? g.data : Float64Array.from(g.data)) as FloatArray, rows, D, f(weight), mean, rstd, dx, dw, db);
    const grads = [dx && new Tensor(dx, x.shape, x.dtype), paramGrad(weight, dw), paramGrad(bias, db)];
    return grads.filter((_, k) => params[k] instanceof Tensor);
  }, (...ts) => normalizeComposite(ts, params, shape.map((_, i) => x.ndim - shape.length + i), eps, shape));
}

/** (x − mean)/√(var + ε)·w + b over dims, from recorded ops; w and b shaped like paramShape's dims. */
function normalizeComposite(ts: Tensor[], params: (Tensor | null | undefined)[], dims: number[], eps: number, paramShape: readonly number[]): Tensor {
  let k = 0;
  const [x, w, b] = params.map((p) => (p instanceof Tensor ? ts[k++] : null));
  const xhat = div(sub(x!, mean(x!, dims, true)), sqrt(add(variance(x!, dims, true, { correction: 0 }), eps)));
  const scaled = w ? mul(xhat, reshape(w, paramShape)) : xhat;
  return b ? add(scaled, reshape(b, paramShape)) : scaled;
}

/**
 * batchNorm over x [N, C, ...] per channel, as torch.nn.functional.batch_norm. Training normalises
 * with the batch's biased variance and updates the running stats in place with the unbiased one:
 * running ← (1 − momentum)·running + momentum·batch. Eval normalises with the running stats.
 */
export function batchNorm(
  x: Tensor, runningMean: Tensor | null | undefined, runningVar: Tensor | null | undefined,
  weight?: Tensor | null, bias?: Tensor | null, training = false, momentum = 0.1, eps = 1e-5,
): Tensor {
  const op = 'batchNorm';
  requireFloat(op, 'x', x);
  if (x.ndim < 2) throw new Error(`${op}: expected input of shape [N, C] or [N, C, ...], got ${fmt(x.shape)}`);
  const [N, C] = x.shape, S = sizeOf(x.shape.slice(2)), m = N * S;
  checkParam(op, 'runningMean', runningMean, [C], 'the channels of input');
  checkParam(op, 'runningVar', runningVar, [C], 'the channels of input');
  checkParam(op, 'weight', weight, [C], 'the channels of input');
  checkParam(op, 'bias', bias, [C], 'the channels of input');
  if (!training && (!runningMean || !runningVar)) throw new Error(`${op}: runningMean and runningVar must be given in evaluation mode (training = false)`);
  if (training && m <= 1) throw new Error(`${op}: expected more than 1 value per channel when training, got input of shape ${fmt(x.shape)}`);
  if (typeof momentum !== 'number' || !Number.isFinite(momentum)) throw new Error(`${op}: momentum must be a number (got ${momentum})`);
  const xd = x.data, wd = weight?.data, bd = bias?.data;
  const mean = new Float64Array(C), rstd = new Float64Array(C);
  const at = (n: number, c: number) => (n * C + c) * S; // start of channel c of sample n
  for (let c = 0; c < C; c++) {
    let mu: number, v: number;
    if (training) {
      let s = 0;
      for (let n = 0; n < N; n++) for (let k = at(n, c), e = k + S; k < e; k++) s += xd[k];
      mu = s / m;
      let ss = 0;
      for (let n = 0; n < N; n++) for (let k = at(n, c), e = k + S; k < e; k++) ss += (xd[k] - mu) ** 2;
      v = ss / m;
      if (runningMean) runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * mu;
      if (runningVar) runningVar.data[c] = (1 - momentum) * runningVar.data[c] + momentum * (ss / (m - 1));
    } else {
      mu = runningMean!.data[c];
      v = runningVar!.data[c];
    }
    mean[c] = mu;
    rstd[c] = 1 / Math.sqrt(v + eps);
  }
  const dtype = resultType(x, weight, bias);
  const y = arrayFor(dtype, x.size);
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const mu = mean[c], scale = rstd[c] * (wd ? wd[c] : 1), shift = bd ? bd[c] : 0;
      for (let k = at(n, c), e = k + S; k < e; k++) y[k] = (xd[k] - mu) * scale + shift;
    }
  }
  const params = [x, weight, bias];
  const inputs = params.filter((t): t is Tensor => t instanceof Tensor);
  const channelShape = [C, ...x.shape.slice(2).map(() => 1)];
  const composite = (...ts: Tensor[]): Tensor => {
    if (training) return normalizeComposite(ts, params, [0, ...x.shape.slice(2).map((_, i) => i + 2)], eps, channelShape);
    let k = 0;
    const [xt, w, b] = params.map((p) => (p instanceof Tensor ? ts[k++] : null));
    const stat = (values: ArrayLike<number>) => new Tensor(Float64Array.from(values), channelShape, 'float64');
    const scaled = mul(sub(xt!, stat(mean)), stat(rstd));
    const weighted = w ? mul(scaled, reshape(w, channelShape)) : scaled;
    return b ? add(weighted, reshape(b, channelShape)) : weighted;
  };
  return recordFused(new Tensor(y, x.shape, dtype), op, inputs, (g) => {
    const gd = g.data;
    const dx = x.requiresGrad ? arrayFor(x.dtype, x.size) : null;
    const dw = new Float64Array(C), db = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      const mu = mean[c], rs = rstd[c], w = wd ? wd[c] : 1;
      let sumG = 0, sumGXhat = 0;
      for (let n = 0; n < N; n++) {
        for (let k = at(n, c), e = k + S; k < e; k++) {
          sumG += gd[k];
          sumGXhat += gd[k] * (xd[k] - mu) * rs;
        }
      }
      dw[c] = sumGXhat;
      db[c] = sumG;
      if (!dx) continue;
      // training: dx = rstd·w·(g − mean(g) − x̂·mean(g·x̂)); eval: the stats are constants, dx = rstd·w·g
      const m1 = training ? sumG / m : 0, m2 = training ? sumGXhat / m : 0;
      for (let n = 0; n < N; n++) {
        for (let k = at(n, c), e = k + S; k < e; k++) dx[k] = rs * w * (gd[k] - m1 - (xd[k] - mu) * rs * m2);
      }
    }
    const grads = [dx && new Tensor(dx, x.shape, x.dtype), paramGrad(weight, dw), paramGrad(bias, db)];
    return grads.filter((_, k) => params[k] instanceof Tensor);
  }, composite);
}
