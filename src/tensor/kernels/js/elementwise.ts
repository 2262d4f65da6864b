// Elementwise kernels: binary ops with NumPy broadcasting, unary maps and their derivatives, where.
import type { TypedArray } from '../../dtype.js';
import { broadcastStrides } from '../../shape.js';
import type { BinaryOp, UnaryGradOp, UnaryOp } from '../types.js';
import { erf, geluGrad, geluTanh, geluTanhGrad, phi } from './gelu.js';

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

/** The hot same-shape cases as plain loops (no per-element callback). */
function sameShape(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray): boolean {
  const n = out.length;
  switch (op) {
    case 'add': for (let i = 0; i < n; i++) out[i] = a[i] + b[i]; return true;
    case 'sub': for (let i = 0; i < n; i++) out[i] = a[i] - b[i]; return true;
    case 'mul': for (let i = 0; i < n; i++) out[i] = a[i] * b[i]; return true;
    case 'div': for (let i = 0; i < n; i++) out[i] = a[i] / b[i]; return true;
    default: return false;
  }
}

/**
 * out[i] = f(a[ia], b[ib]) over the broadcast shape; out may be a itself (an in-place update). Same-shape and scalar operands take a straight
 * loop; otherwise an odometer walks the outer dims and the last dim is an inner loop with strides.
 */
export function binary(op: BinaryOp, a: TypedArray, aShape: readonly number[], b: TypedArray, bShape: readonly number[], out: TypedArray, outShape: readonly number[]): void {
  const n = out.length;
  if (n === 0) return;
  if (a.length === n && b.length === n && sameShape(op, a, b, out)) return;
  const f = binaryFns[op];
  if (a.length === n && b.length === n) {
    for (let i = 0; i < n; i++) out[i] = f(a[i], b[i]);
    return;
  }
  if (a.length === n && b.length === 1) {
    const y = b[0];
    if (op === 'mul') for (let i = 0; i < n; i++) out[i] = a[i] * y;
    else if (op === 'add') for (let i = 0; i < n; i++) out[i] = a[i] + y;
    else for (let i = 0; i < n; i++) out[i] = f(a[i], y);
    return;
  }
  if (a.length === 1 && b.length === n) {
    const x = a[0];
    for (let i = 0; i < n; i++) out[i] = f(x, b[i]);
    return;
  }
  if (a.length === n && rowBroadcast(bShape, outShape) && rowLoop(op, a, b, out)) return;
  const nd = outShape.length;
  const sa = broadcastStrides(aShape, outShape);
  const sb = broadcastStrides(bShape, outShape);
  const inner = outShape[nd - 1];
  const ia = sa[nd - 1], ib = sb[nd - 1];
  const run = stridedRun(op, f);
  const idx = new Array<number>(nd).fill(0);
  let ao = 0, bo = 0;
  for (let o = 0; o < n; o += inner) {
    run(a, ao, ia, b, bo, ib, out, o, inner);
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

/** Is shape a row (its last dim equal to the output's, every other 1 or absent), as a bias is? */
function rowBroadcast(shape: readonly number[], outShape: readonly number[]): boolean {
  const d = shape.length;
  return d > 0 && shape[d - 1] === outShape[outShape.length - 1] && shape.every((s, i) => i === d - 1 || s === 1);
}

/** out[r, j] = a[r, j] ∘ b[j]: the bias add and the row scale as plain loops. */
function rowLoop(op: BinaryOp, a: TypedArray, b: TypedArray, out: TypedArray): boolean {
  const cols = b.length, n = out.length;
  switch (op) {
    case 'add': for (let o = 0; o < n; o += cols) for (let j = 0; j < cols; j++) out[o + j] = a[o + j] + b[j]; return true;
    case 'sub': for (let o = 0; o < n; o += cols) for (let j = 0; j < cols; j++) out[o + j] = a[o + j] - b[j]; return true;
    case 'mul': for (let o = 0; o < n; o += cols) for (let j = 0; j < cols; j++) out[o + j] = a[o + j] * b[j]; return true;
    case 'div': for (let o = 0; o < n; o += cols) for (let j = 0; j < cols; j++) out[o + j] = a[o + j] / b[j]; return true;
    default: return false;
  }
}

type Run = (a: TypedArray, ao: number, ia: number, b: TypedArray, bo: number, ib: number, out: TypedArray, o: number, inner: number) => void;

/** One last-dim run of a broadcast op; the hot ops as plain loops (a bias add, a row or column scale). */
function stridedRun(op: BinaryOp, f: (x: number, y: number) => number): Run {
  switch (op) {
    case 'add': return (a, ao, ia, b, bo, ib, out, o, inner) => { for (let j = 0; j < inner; j++) out[o + j] = a[ao + j * ia] + b[bo + j * ib]; };
    case 'sub': return (a, ao, ia, b, bo, ib, out, o, inner) => { for (let j = 0; j < inner; j++) out[o + j] = a[ao + j * ia] - b[bo + j * ib]; };
    case 'mul': return (a, ao, ia, b, bo, ib, out, o, inner) => { for (let j = 0; j < inner; j++) out[o + j] = a[ao + j * ia] * b[bo + j * ib]; };
    case 'div': return (a, ao, ia, b, bo, ib, out, o, inner) => { for (let j = 0; j < inner; j++) out[o + j] = a[ao + j * ia] / b[bo + j * ib]; };
    default: return (a, ao, ia, b, bo, ib, out, o, inner) => { for (let j = 0; j < inner; j++) out[o + j] = f(a[ao + j * ia], b[bo + j * ib]); };
  }
}

/** σ(x) = 1/(1+e⁻ˣ), written so that large |x| never overflows. */
const sigmoid = (v: number) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v)));

export function unary(op: UnaryOp, x: TypedArray, out: TypedArray): void {
  const n = x.length;
  const precise = x instanceof Float64Array; // float64 gets the precise erf; float32 a fast one accurate to float32
  switch (op) {
    case 'neg': for (let i = 0; i < n; i++) out[i] = -x[i]; return;
    case 'exp': for (let i = 0; i < n; i++) out[i] = Math.exp(x[i]); return;
    case 'log': for (let i = 0; i < n; i++) out[i] = Math.log(x[i]); return;
    case 'sqrt': for (let i = 0; i < n; i++) out[i] = Math.sqrt(x[i]); return;
    case 'abs': for (let i = 0; i < n; i++) out[i] = Math.abs(x[i]); return;
    case 'sign': for (let i = 0; i < n; i++) out[i] = Math.sign(x[i]); return;
    case 'tanh': for (let i = 0; i < n; i++) out[i] = Math.tanh(x[i]); return;
    case 'sigmoid': for (let i = 0; i < n; i++) out[i] = sigmoid(x[i]); return;
    case 'erf': for (let i = 0; i < n; i++) out[i] = erf(x[i]); return;
    case 'relu': for (let i = 0; i < n; i++) out[i] = x[i] > 0 ? x[i] : 0; return;
    case 'gelu': for (let i = 0; i < n; i++) out[i] = x[i] * phi(x[i], precise); return;
    case 'geluTanh': for (let i = 0; i < n; i++) out[i] = geluTanh(x[i]); return;
    case 'not': for (let i = 0; i < n; i++) out[i] = x[i] === 0 ? 1 : 0; return;
    case 'copy':
      if (out instanceof Uint8Array) for (let i = 0; i < n; i++) out[i] = x[i] !== 0 ? 1 : 0;
      else out.set(x); // typed-array set converts element by element (float → int32 truncates)
      return;
  }
}

export function unaryGrad(op: UnaryGradOp, x: TypedArray, g: TypedArray, dx: TypedArray): void {
  const n = x.length;
  const precise = x instanceof Float64Array;
  switch (op) {
    case 'relu': for (let i = 0; i < n; i++) dx[i] = x[i] > 0 ? g[i] : 0; return;
    case 'gelu': for (let i = 0; i < n; i++) dx[i] = g[i] * geluGrad(x[i], precise); return;
    case 'geluTanh': for (let i = 0; i < n; i++) dx[i] = g[i] * geluTanhGrad(x[i]); return;
  }
}

export function where(cond: TypedArray, a: TypedArray, b: TypedArray, out: TypedArray): void {
  for (let i = 0; i < out.length; i++) out[i] = cond[i] !== 0 ? a[i] : b[i];
}
