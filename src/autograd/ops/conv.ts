// conv2d (one kernel: im2col + a product per image and group), maxPool2d, avgPool2d on NCHW (or unbatched CHW) tensors,
// each a fused op with its gradient right below and a composite twin built on unfold / fold
// (im2col / col2im as recorded ops, each the other's gradient). The loops are kernels (im2col.ts).
import { Tensor } from '../../tensor/tensor.js';
import { arrayFor, emptyArrayFor, promoteTypes, type FloatDType } from '../../tensor/dtype.js';
import * as raw from '../../tensor/raw.js';
import { kernelFor } from '../../tensor/kernels/index.js';
import type { AvgPoolMode, Conv2dArgs, FloatArray, WindowGeometry } from '../../tensor/kernels/types.js';
import { fmt } from '../../tensor/shape.js';
import { record, recordFused } from '../engine.js';
import { requireFloat } from './operands.js';
import { add, mul } from './arithmetic.js';
import { where } from './compare.js';
import { matmulT } from './matmul.js';
import { max } from './reduce.js';
import { sum } from './broadcast.js';
import { reshape } from './shape.js';

/** A size per spatial axis: one number for both, or [h, w]. */
export type Pair = number | readonly number[];

export interface Conv2dOptions {
  stride?: Pair;
  /** Zeros added on each side; 'valid' is 0, 'same' keeps H×W (stride 1; extra on the bottom/right when odd). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
}

function pair(op: string, name: string, value: Pair, min: number): [number, number] {
  const v = typeof value === 'number' ? [value, value] : Array.isArray(value) && value.length === 1 ? [value[0], value[0]] : value;
  if (!Array.isArray(v) || v.length !== 2 || v.some((n) => !Number.isInteger(n) || n < min)) {
    throw new Error(`${op}: ${name} must be an integer ≥ ${min} or a pair [h, w] of them (got ${JSON.stringify(value)})`);
  }
  return [v[0], v[1]];
}

/** x as [N, C, H, W] sizes (N = 1 for an unbatched [C, H, W] input). */
function imageDims(op: string, x: Tensor): [number, number, number, number] {
  if (x.ndim !== 3 && x.ndim !== 4) {
    throw new Error(`${op}: expected a 3-D (unbatched [C, H, W]) or 4-D (batched [N, C, H, W]) input, got shape ${fmt(x.shape)}`);
  }
  const [N, C, H, W] = x.ndim === 4 ? x.shape : [1, ...x.shape];
  return [N, C, H, W];
}

/** The inputs in one float dtype (a mixed pair is promoted; gradients are cast back by the engine). */
function sameFloat(op: string, named: [string, Tensor][]): [FloatDType, Tensor[]] {
  for (const [name, t] of named) requireFloat(op, name, t);
  const dtype = named.reduce((d, [, t]) => promoteTypes(d, t.dtype), named[0][1].dtype) as FloatDType;
  return [dtype, named.map(([, t]) => raw.cast(t, dtype))];
}

const floatArray = (dtype: FloatDType, n: number) => arrayFor(dtype, n) as FloatArray;

/** im2col as a recorded op: `planes` [H, W] planes of x → col [planes, kH·kW, L]; its gradient is fold. */
export function unfold(x: Tensor, planes: number, g: WindowGeometry): Tensor {
  const K = g.kernelH * g.kernelW, L = g.outH * g.outW;
  const col = new Tensor(arrayFor(x.dtype, planes * K * L), [planes, K, L], x.dtype);
  kernelFor('im2col', x.dtype, col.size)(x.data as FloatArray, col.data as FloatArray, planes, g);
  return record(col, 'unfold', [x], [(gc) => fold(gc, x.shape, planes, g)]);
}

/** col2im as a recorded op: each window's values added back into zeros(shape); its gradient is unfold. */
function fold(col: Tensor, shape: readonly number[], planes: number, g: WindowGeometry): Tensor {
  const dx = new Tensor(arrayFor(col.dtype, planes * g.inH * g.inW), shape, col.dtype);
  kernelFor('col2im', col.dtype, col.size)(col.data as FloatArray, dx.data as FloatArray, planes, g);
  return record(dx, 'fold', [col], [(gx) => unfold(gx, planes, g)]);
}

/** unfold of one plane of ones: 1 where a window reads the input, 0 where it reads padding. */
const windowMask = (g: WindowGeometry, dtype: FloatDType) => unfold(new Tensor(arrayFor(dtype, g.inH * g.inW).fill(1), [g.inH, g.inW], dtype), 1, g);

/**
 * 2-D convolution (cross-correlation, as PyTorch): out[n, o] = b[o] + Σ_c W[o, c] ⋆ x[n, g(o)·C/G + c].
 * x [N, C, H, W] or [C, H, W]; w [O, C/groups, kH, kW]; b [O].
 */
export function conv2d(input: Tensor, weight: Tensor, bias?: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const op = 'conv2d';
  if (weight.ndim !== 4) throw new Error(`${op}: weight must be 4-D [outChannels, inChannels/groups, kH, kW], got shape ${fmt(weight.shape)}`);
  const [N, C, H, W] = imageDims(op, input);
  const [O, Cg, kH, kW] = weight.shape;
  const groups = opts.groups ?? 1;
  if (!Number.isInteger(groups) || groups < 1) throw new Error(`${op}: groups must be a positive integer (got ${groups})`);
  if (C % groups !== 0 || O % groups !== 0) {
    throw new Error(`${op}: groups ${groups} must divide both the input channels ${C} and the output channels ${O} (input shape ${fmt(input.shape)}, weight shape ${fmt(weight.shape)})`);
  }
  if (C !== Cg * groups) {
    throw new Error(`${op}: input has ${C} channels but weight expects ${Cg * groups} (weight shape ${fmt(weight.shape)}${groups > 1 ? `, groups ${groups}` : ''})`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== O)) throw new Error(`${op}: bias must have shape [${O}] (one per output channel), got ${fmt(bias.shape)}`);
  const [sH, sW] = pair(op, 'stride', opts.stride ?? 1, 1);
  const [dH, dW] = pair(op, 'dilation', opts.dilation ?? 1, 1);
  const effH = dH * (kH - 1) + 1, effW = dW * (kW - 1) + 1;
  let padding = opts.padding ?? 0;
  if (padding === 'same' && (sH !== 1 || sW !== 1)) throw new Error(`${op}: padding 'same' needs stride 1 (got stride [${sH}, ${sW}])`);
  if (padding === 'valid') padding = 0;
  // 'same': total padding d·(k − 1) per axis, the odd one extra at the bottom/right
  const [padH, padW] = padding === 'same' ? [Math.floor((effH - 1) / 2), Math.floor((effW - 1) / 2)] : pair(op, 'padding', padding, 0);
  const paddedH = padding === 'same' ? H + effH - 1 : H + 2 * padH, paddedW = padding === 'same' ? W + effW - 1 : W + 2 * padW;
  if (effH > paddedH || effW > paddedW) {
    throw new Error(`${op}: kernel ${effH}×${effW} (weight shape ${fmt(weight.shape)}, dilation [${dH}, ${dW}]) is larger than the padded input ${paddedH}×${paddedW} (input shape ${fmt(input.shape)}, padding [${padH}, ${padW}])`);
  }
  const g: WindowGeometry = {
    inH: H, inW: W, outH: Math.floor((paddedH - effH) / sH) + 1, outW: Math.floor((paddedW - effW) / sW) + 1,
    kernelH: kH, kernelW: kW, strideH: sH, strideW: sW, padH, padW, dilationH: dH, dilationW: dW,
  };
  const [dtype, [x, w, b]] = sameFloat(op, [['input', input], ['weight', weight], ...(bias ? [['bias', bias] as [string, Tensor]] : [])]);
  const G = groups, Og = O / G, K = Cg * kH * kW, L = g.outH * g.outW;
  const args: Conv2dArgs = { x: x.data as FloatArray, weight: w.data as FloatArray, batch: N, channels: C, outChannels: O, groups: G, window: g };
  const flops = 2 * N * O * K * L;
  // im2col and a product per image and group in one kernel (the columns never leave it)
  const y = emptyArrayFor(dtype, N * O * L) as FloatArray;
  kernelFor('conv2d', dtype, flops)(args, b ? (b.data as FloatArray) : null, y);
  const outShape = input.ndim === 4 ? [N, O, g.outH, g.outW] : [O, g.outH, g.outW];
  const inputs = bias ? [input, weight, bias] : [input, weight];
  // the composite twin: unfold, one batched matmul, the bias broadcast
  const composite = (cx: Tensor, cw: Tensor, cb?: Tensor): Tensor => {
    const y = matmulT(reshape(cw, [1, G, Og, K]), reshape(unfold(cx, N * C, g), [N, G, K, L]), false, false);
    return reshape(cb ? add(y, reshape(cb, [1, G, Og, 1])) : y, outShape);
  };
  return recordFused(new Tensor(y, outShape, dtype), op, inputs, (grad, needs) => {
    const dY = raw.cast(grad, dtype);
    // dx = col2im(W_gᵀ · dY[n, g]); dW_g = Σ_n dY[n, g] · col[n, g]ᵀ, the columns made again from x
    const dx = needs[0] ? new Tensor(emptyArrayFor(dtype, x.size), input.shape, dtype) : null;
    const dw = needs[1] ? new Tensor(emptyArrayFor(dtype, w.size), weight.shape, dtype) : null;
    kernelFor('conv2dBackward', dtype, 2 * flops)(args, dY.data as FloatArray, (dx?.data ?? null) as FloatArray | null, (dw?.data ?? null) as FloatArray | null);
    // db[o] = Σ_{n, h, w} dY[n, o, h, w]
    const db = needs[2] ? raw.reduce(raw.view(dY, [N, O, L]), [0, 2], 'sum', false) : null;
    return bias ? [dx, dw, db] : [dx, dw];
  }, composite as (...ts: Tensor[]) => Tensor);
}

export interface Pool2dOptions {
  /** Implicit padding on each side (−∞ for max, zeros for average); at most half the kernel. */
  padding?: Pair;
  /** Round the output size up instead of down (windows may overhang the bottom/right). */
  ceilMode?: boolean;
}

export interface MaxPool2dOptions extends Pool2dOptions {
  dilation?: Pair;
}

export interface AvgPool2dOptions extends Pool2dOptions {
  /** Count padded zeros in the divisor (PyTorch's default true). */
  countIncludePad?: boolean;
  /** Divide every window by this instead of its size. */
  divisorOverride?: number;
}

/** One pooled axis, as PyTorch's pooling_output_shape: ceil mode drops a window starting in the padding. */
function pooledSize(size: number, kernel: number, stride: number, pad: number, dilation: number, ceil: boolean): number {
  const span = size + 2 * pad - dilation * (kernel - 1) - 1 + (ceil ? stride - 1 : 0);
  let out = Math.floor(span / stride) + 1;
  if (ceil && (out - 1) * stride >= size + pad) out--;
  return out;
}

function poolGeometry(op: string, x: Tensor, kernel: Pair, stride: Pair | null | undefined, opts: MaxPool2dOptions): WindowGeometry {
  const [, , H, W] = imageDims(op, x);
  const [kH, kW] = pair(op, 'kernel', kernel, 1);
  const [sH, sW] = stride === undefined || stride === null ? [kH, kW] : pair(op, 'stride', stride, 1);
  const [padH, padW] = pair(op, 'padding', opts.padding ?? 0, 0);
  const [dH, dW] = pair(op, 'dilation', opts.dilation ?? 1, 1);
  if (2 * padH > kH || 2 * padW > kW) {
    throw new Error(`${op}: padding [${padH}, ${padW}] must be at most half of the kernel [${kH}, ${kW}]`);
  }
  const outH = pooledSize(H, kH, sH, padH, dH, opts.ceilMode ?? false), outW = pooledSize(W, kW, sW, padW, dW, opts.ceilMode ?? false);
  if (outH < 1 || outW < 1) {
    throw new Error(`${op}: kernel [${kH}, ${kW}] does not fit the input of shape ${fmt(x.shape)} with padding [${padH}, ${padW}] (output would be ${outH}×${outW})`);
  }
  return { inH: H, inW: W, outH, outW, kernelH: kH, kernelW: kW, strideH: sH, strideW: sW, padH, padW, dilationH: dH, dilationW: dW };
}

/** x with its last two dims replaced by the pooled ones. */
function pooledShape(x: Tensor, g: WindowGeometry): number[] {
  return [...x.shape.slice(0, -2), g.outH, g.outW];
}

/** Max over each kernel window: x [N, C, H, W] or [C, H, W]; the gradient goes to the (first) argmax. */
export function maxPool2d(input: Tensor, kernel: Pair, stride?: Pair | null, opts: MaxPool2dOptions = {}): Tensor {
  const op = 'maxPool2d';
  const g = poolGeometry(op, input, kernel, stride, opts);
  const [dtype, [x]] = sameFloat(op, [['input', input]]);
  const planes = x.size / (g.inH * g.inW || 1);
  const shape = pooledShape(x, g);
  const out = new Tensor(floatArray(dtype, planes * g.outH * g.outW), shape, dtype);
  const argmax = new Int32Array(out.size);
  kernelFor('maxPool2d', dtype, x.size)(x.data as FloatArray, out.data as FloatArray, argmax, planes, g);
  // the composite twin: the max over each window of unfold, padding read as −∞ (ties share the gradient)
  const composite = (cx: Tensor) => reshape(max(where(windowMask(g, dtype), unfold(cx, planes, g), -Infinity), 1), shape);
  // dx[argmax(window)] += dy
  return recordFused(out, op, [input], (grad) => {
    const dx = new Tensor(floatArray(dtype, x.size), x.shape, dtype);
    kernelFor('maxPool2dBackward', dtype, x.size)(raw.cast(grad, dtype).data as FloatArray, argmax, dx.data as FloatArray, planes, g);
    return [dx];
  }, composite);
}

/** Mean over each kernel window: x [N, C, H, W] or [C, H, W]; the gradient is spread evenly. */
export function avgPool2d(input: Tensor, kernel: Pair, stride?: Pair | null, opts: AvgPool2dOptions = {}): Tensor {
  const op = 'avgPool2d';
  const g = poolGeometry(op, input, kernel, stride, { padding: opts.padding, ceilMode: opts.ceilMode });
  const mode: AvgPoolMode = { countIncludePad: opts.countIncludePad ?? true, divisorOverride: opts.divisorOverride };
  if (mode.divisorOverride !== undefined && (!Number.isFinite(mode.divisorOverride) || mode.divisorOverride === 0)) {
    throw new Error(`${op}: divisorOverride must be a non-zero number (got ${mode.divisorOverride})`);
  }
  const [dtype, [x]] = sameFloat(op, [['input', input]]);
  const planes = x.size / (g.inH * g.inW || 1);
  const out = new Tensor(floatArray(dtype, planes * g.outH * g.outW), pooledShape(x, g), dtype);
  kernelFor('avgPool2d', dtype, x.size)(x.data as FloatArray, out.data as FloatArray, planes, g, mode);
  const composite = (cx: Tensor) => reshape(mul(sum(unfold(cx, planes, g), 1), avgPoolFactor(g, mode, dtype)), out.shape);
  // dx[window] += dy / divisor
  return recordFused(out, op, [input], (grad) => {
    const dx = new Tensor(floatArray(dtype, x.size), x.shape, dtype);
    kernelFor('avgPool2dBackward', dtype, x.size)(raw.cast(grad, dtype).data as FloatArray, dx.data as FloatArray, planes, g, mode);
    return [dx];
  }, composite);
}

/** 1/divisor per window, so that avgPool2d = Σ_window x · factor: the pooled ones over the window's count of inputs. */
function avgPoolFactor(g: WindowGeometry, mode: AvgPoolMode, dtype: FloatDType): Tensor {
  const ones = new Tensor(arrayFor(dtype, g.inH * g.inW).fill(1), [1, g.inH, g.inW], dtype);
  const pooled = floatArray(dtype, g.outH * g.outW);
  kernelFor('avgPool2d', dtype, ones.size)(ones.data as FloatArray, pooled, 1, g, mode);
  const counts = raw.reduce(windowMask(g, dtype), [1], 'sum', false).data;
  return new Tensor(pooled.map((p, i) => (counts[i] === 0 ? 0 : p / counts[i])), [1, g.outH * g.outW], dtype);
}
