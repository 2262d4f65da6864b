// Elementwise loops over tensors with NumPy broadcasting. Raw compute: no gradients recorded.
import { type DType, type TypedArray, arrayFor, promoteTypes, toFloat } from '../../dtype.js';
import { broadcastShapes, broadcastStrides, type Shape } from '../../shape.js';
import { Tensor } from '../../tensor.js';

/**
 * out[i] = f(a[ia], b[ib]) over the broadcast shape. Same-shape and scalar operands take a straight
 * loop; otherwise an odometer walks the outer dims and the last dim is an inner loop with strides.
 */
export function broadcastLoop(
  a: TypedArray, aShape: Shape, b: TypedArray, bShape: Shape,
  out: TypedArray, outShape: Shape, f: (x: number, y: number) => number,
): void {
  const n = out.length;
  if (n === 0) return;
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
    return;
  }
  if (a.length === n && b.length === 1) {
    const y = b[0];
    for (let i = 0; i < n; i++) out[i] = f(a[i], y);
    return;
  }
  if (a.length === 1 && b.length === n) {
    const x = a[0];
    for (let i = 0; i < n; i++) out[i] = f(x, b[i]);
    return;
  }
  const nd = outShape.length;
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const inner = outShape[nd - 1];
  const ia = sa[nd - 1], ib = sb[nd - 1];
  const idx = new Array<number>(nd).fill(0);
  let ao = 0, bo = 0;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) out[o + j] = f(a[ao + j * ia], b[bo + j * ib]);
    for (let d = nd - 2; d >= 0; d--) {
      idx[d]++;
      ao += sa[d];
      bo += sb[d];
      if (idx[d] < outShape[d]) break;
      ao -= sa[d] * outShape[d];
      bo -= sb[d] * outShape[d];
      idx[d] = 0;
    }
  }
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le';

const binaryFns: Record<BinaryOp, (x: number, y: number) => number> = {
  add: (x, y) => x + y,
  sub: (x, y) => x - y,
  mul: (x, y) => x * y,
  div: (x, y) => x / y,
  pow: (x, y) => Math.pow(x, y),
  maximum: (x, y) => (x > y || Number.isNaN(x) ? x : y),
  minimum: (x, y) => (x < y || Number.isNaN(x) ? x : y),
  eq: (x, y) => (x === y ? 1 : 0),
  ne: (x, y) => (x !== y ? 1 : 0),
  gt: (x, y) => (x > y ? 1 : 0),
  lt: (x, y) => (x < y ? 1 : 0),
  ge: (x, y) => (x >= y ? 1 : 0),
  le: (x, y) => (x <= y ? 1 : 0),
};

const COMPARISONS = new Set<BinaryOp>(['eq', 'ne', 'gt', 'lt', 'ge', 'le']);

/** The result dtype: comparisons give bool, true division gives a float, the rest promote. */
export function binaryDType(op: BinaryOp, a: DType, b: DType): DType {
  if (COMPARISONS.has(op)) return 'bool';
  const promoted = promoteTypes(a, b);
  if (op === 'div') return toFloat(promoted);
  return promoted === 'bool' && op !== 'maximum' && op !== 'minimum' ? 'int32' : promoted;
}

export function binary(op: BinaryOp, a: Tensor, b: Tensor, opName: string = op): Tensor {
  const shape = broadcastShapes(opName, a.shape, b.shape);
  const dtype = binaryDType(op, a.dtype, b.dtype);
  const out = new Tensor(arrayFor(dtype, shape.reduce((p, d) => p * d, 1)), shape, dtype);
  broadcastLoop(a.data, a.shape, b.data, b.shape, out.data, shape, binaryFns[op]);
  return out;
}

/** out = f(x) elementwise, into a new tensor of the given dtype (x's by default). */
export function unary(x: Tensor, f: (v: number) => number, dtype: DType = x.dtype): Tensor {
  const src = x.data;
  const data = arrayFor(dtype, src.length);
  for (let i = 0; i < src.length; i++) data[i] = f(src[i]);
  return new Tensor(data, x.shape, dtype);
}

/** out = f(x, y) for two tensors of the same shape (used by backward rules such as relu's mask). */
export function zipSame(x: Tensor, y: Tensor, f: (a: number, b: number) => number, dtype: DType = x.dtype): Tensor {
  const data = arrayFor(dtype, x.size);
  const a = x.data, b = y.data;
  for (let i = 0; i < a.length; i++) data[i] = f(a[i], b[i]);
  return new Tensor(data, x.shape, dtype);
}

/** A 0-d tensor holding value. */
export function scalarTensor(value: number, dtype: DType): Tensor {
  const data = arrayFor(dtype, 1);
  data[0] = value;
  return new Tensor(data, [], dtype);
}

/** A copy of x converted to dtype. */
export function cast(x: Tensor, dtype: DType): Tensor {
  if (x.dtype === dtype) return new Tensor(x.data.slice(), x.shape, dtype);
  return unary(x, dtype === 'bool' ? (v) => (v !== 0 ? 1 : 0) : (v) => v, dtype);
}
