// Every op is also a Tensor method: a.add(b) is add(a, b). Installed here (not in the tensor
// layer) so that tensors know nothing of gradients; TypeScript learns the methods by merging.
import { Tensor, dropGrad } from '../tensor/tensor.js';
import type { DType } from '../tensor/dtype.js';
import { detach, requiresGrad_ } from './engine.js';
import { backward, type BackwardOptions } from './backward.js';
import { add, sub, mul, div, neg } from './ops/arithmetic.js';
import { exp, log, pow, sqrt, abs, tanh, sigmoid, erf, relu, gelu, type GeluOptions } from './ops/unary.js';
import { eq, ne, gt, lt, ge, le, maximum, minimum, clamp } from './ops/compare.js';
import { sum, mean, max, min, argmax, argmin, variance, logsumexp, type Dims, type VarOptions } from './ops/reduce.js';
import { reshape, view, transpose, permute, T, squeeze, unsqueeze, flatten, slice, split, indexSelect, clone, to } from './ops/shape.js';
import { expand } from './ops/broadcast.js';
import { matmul } from './ops/matmul.js';
import { softmax, logSoftmax } from './ops/softmax.js';
import type { TensorLike } from './ops/operands.js';

type ShapeArgs = (number | readonly number[])[];

declare module '../tensor/tensor.js' {
  interface Tensor {
    add(other: TensorLike): Tensor;
    sub(other: TensorLike): Tensor;
    mul(other: TensorLike): Tensor;
    div(other: TensorLike): Tensor;
    pow(exponent: TensorLike): Tensor;
    neg(): Tensor;
    exp(): Tensor;
    erf(): Tensor;
    log(): Tensor;
    sqrt(): Tensor;
    abs(): Tensor;
    tanh(): Tensor;
    sigmoid(): Tensor;
    relu(): Tensor;
    gelu(opts?: GeluOptions): Tensor;
    clamp(min?: number | null, max?: number | null): Tensor;
    eq(other: TensorLike): Tensor;
    ne(other: TensorLike): Tensor;
    gt(other: TensorLike): Tensor;
    lt(other: TensorLike): Tensor;
    ge(other: TensorLike): Tensor;
    le(other: TensorLike): Tensor;
    maximum(other: TensorLike): Tensor;
    minimum(other: TensorLike): Tensor;
    sum(dim?: Dims, keepdim?: boolean): Tensor;
    mean(dim?: Dims, keepdim?: boolean): Tensor;
    max(dim?: Dims, keepdim?: boolean): Tensor;
    min(dim?: Dims, keepdim?: boolean): Tensor;
    argmax(dim?: number | null, keepdim?: boolean): Tensor;
    argmin(dim?: number | null, keepdim?: boolean): Tensor;
    var(dim?: Dims, keepdim?: boolean, opts?: VarOptions): Tensor;
    logsumexp(dim: Dims, keepdim?: boolean): Tensor;
    reshape(...shape: ShapeArgs): Tensor;
    view(...shape: ShapeArgs): Tensor;
    transpose(dim0: number, dim1: number): Tensor;
    permute(...dims: ShapeArgs): Tensor;
    readonly T: Tensor;
    squeeze(dim?: number): Tensor;
    unsqueeze(dim: number): Tensor;
    expand(...shape: ShapeArgs): Tensor;
    flatten(startDim?: number, endDim?: number): Tensor;
    slice(dim: number, start?: number, end?: number | null, step?: number): Tensor;
    split(sizeOrSizes: number | readonly number[], dim?: number): Tensor[];
    indexSelect(dim: number, indices: TensorLike): Tensor;
    matmul(other: TensorLike): Tensor;
    softmax(dim?: number): Tensor;
    logSoftmax(dim?: number): Tensor;
    clone(): Tensor;
    to(dtype: DType): Tensor;
    detach(): Tensor;
    requiresGrad_(flag?: boolean): Tensor;
    /** Backpropagate from this tensor; grad may be omitted for a single-element tensor. */
    backward(grad?: Tensor | null, opts?: BackwardOptions): void;
    /** Set .grad to null. */
    zeroGrad(): void;
    /** Keep .grad on this non-leaf tensor after backward. */
    retainGrad(): Tensor;
  }
}

const methods: Record<string, (this: Tensor, ...args: any[]) => unknown> = {
  add(o) { return add(this, o); },
  sub(o) { return sub(this, o); },
  mul(o) { return mul(this, o); },
  div(o) { return div(this, o); },
  pow(o) { return pow(this, o); },
  neg() { return neg(this); },
  exp() { return exp(this); },
  log() { return log(this); },
  sqrt() { return sqrt(this); },
  abs() { return abs(this); },
  tanh() { return tanh(this); },
  sigmoid() { return sigmoid(this); },
  relu() { return relu(this); },
  gelu(opts) { return gelu(this, opts); },
  clamp(lo, hi) { return clamp(this, lo, hi); },
  eq(o) { return eq(this, o); },
  ne(o) { return ne(this, o); },
  gt(o) { return gt(this, o); },
  lt(o) { return lt(this, o); },
  ge(o) { return ge(this, o); },
  le(o) { return le(this, o); },
  maximum(o) { return maximum(this, o); },
  minimum(o) { return minimum(this, o); },
  sum(dim, keepdim) { return sum(this, dim, keepdim); },
  mean(dim, keepdim) { return mean(this, dim, keepdim); },
  max(dim, keepdim) { return max(this, dim, keepdim); },
  min(dim, keepdim) { return min(this, dim, keepdim); },
  argmax(dim, keepdim) { return argmax(this, dim, keepdim); },
  argmin(dim, keepdim) { return argmin(this, dim, keepdim); },
  var(dim, keepdim, opts) { return variance(this, dim, keepdim, opts); },
  logsumexp(dim, keepdim) { return logsumexp(this, dim, keepdim); },
  reshape(...s) { return reshape(this, ...s); },
  view(...s) { return view(this, ...s); },
  transpose(d0, d1) { return transpose(this, d0, d1); },
  permute(...d) { return permute(this, ...d); },
  squeeze(d) { return squeeze(this, d); },
  unsqueeze(d) { return unsqueeze(this, d); },
  expand(...s) { return expand(this, ...s); },
  flatten(s, e) { return flatten(this, s, e); },
  slice(d, s, e, st) { return slice(this, d, s, e, st); },
  split(s, d) { return split(this, s, d); },
  indexSelect(d, i) { return indexSelect(this, d, i); },
  matmul(o) { return matmul(this, o); },
  softmax(d) { return softmax(this, d); },
  logSoftmax(d) { return logSoftmax(this, d); },
  clone() { return clone(this); },
  to(dtype) { return to(this, dtype); },
  detach() { return detach(this); },
  requiresGrad_(flag) { return requiresGrad_(this, flag); },
  backward(grad, opts) { backward(this, grad, opts); },
  erf() { return erf(this); },
  zeroGrad() { dropGrad(this); },
  retainGrad() { this.retainsGrad = true; return this; },
};

for (const [name, fn] of Object.entries(methods)) {
  Object.defineProperty(Tensor.prototype, name, { value: fn, writable: true, configurable: true });
}
Object.defineProperty(Tensor.prototype, 'T', { get(this: Tensor) { return T(this); }, configurable: true });
