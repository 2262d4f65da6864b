// Raw tensor computations: Tensor in, Tensor out, no graph recorded. Each one checks nothing the op
// has not already checked, allocates its result, and calls its kernel through the one dispatch
// point (kernelFor). Ops use these as `raw.matmul(a, b)`; gradient rules use the recorded ops.
import { type DType, arrayFor, emptyArrayFor, promoteTypes, toFloat } from './dtype.js';
import { broadcastShapes, type Shape, shapesEqual, sizeOf, stridesOf } from './shape.js';
import { Tensor } from './tensor.js';
import { release } from './pool.js';
import { kernelFor } from './kernels/index.js';
import type { BinaryOp, FloatArray, MatmulArgs, ReduceKind, UnaryGradOp, UnaryOp } from './kernels/types.js';

const COMPARISONS = new Set<BinaryOp>(['eq', 'ne', 'gt', 'lt', 'ge', 'le']);

/** The result dtype: comparisons give bool, true division gives a float, the rest promote. */
export function binaryDType(op: BinaryOp, a: DType, b: DType): DType {
  if (COMPARISONS.has(op)) return 'bool';
  const promoted = promoteTypes(a, b);
  if (op === 'div') return toFloat(promoted);
  return promoted === 'bool' && op !== 'maximum' && op !== 'minimum' ? 'int32' : promoted;
}

/** a ∘ b with NumPy broadcasting; opName names the op in a shape error. */
export function binary(op: BinaryOp, a: Tensor, b: Tensor, opName: string = op): Tensor {
  const shape = broadcastShapes(opName, a.shape, b.shape);
  const dtype = binaryDType(op, a.dtype, b.dtype);
  const out = new Tensor(emptyArrayFor(dtype, sizeOf(shape)), shape, dtype);
  kernelFor('binary', dtype, out.size)(op, a.data, a.shape, b.data, b.shape, out.data, shape);
  return out;
}

/** f(x) elementwise into a new tensor of dtype (x's by default). */
export function unary(op: UnaryOp, x: Tensor, dtype: DType = x.dtype): Tensor {
  const out = new Tensor(emptyArrayFor(dtype, x.size), x.shape, dtype);
  kernelFor('unary', x.dtype, x.size)(op, x.data, out.data);
  return out;
}

/** g · f′(x) elementwise. */
export function unaryGrad(op: UnaryGradOp, x: Tensor, g: Tensor): Tensor {
  const dx = new Tensor(emptyArrayFor(x.dtype, x.size), x.shape, x.dtype);
  kernelFor('unaryGrad', x.dtype, x.size)(op, x.data, cast(g, x.dtype).data, dx.data);
  return dx;
}

/** x as dtype: x itself when it already is, else a converted copy. */
export function cast(x: Tensor, dtype: DType): Tensor {
  return x.dtype === dtype ? x : unary('copy', x, dtype);
}

/** A 0-d tensor holding value. */
export function scalar(value: number, dtype: DType): Tensor {
  const data = arrayFor(dtype, 1);
  data[0] = value;
  return new Tensor(data, [], dtype);
}

/** The same values seen with another shape of equal size (no copy). */
export function view(x: Tensor, shape: Shape): Tensor {
  return new Tensor(x.data, shape, x.dtype);
}

/** cond ? a : b, all broadcast to one shape. */
export function where(cond: Tensor, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, a.shape), b.shape);
  const dtype = promoteTypes(a.dtype, b.dtype);
  const out = new Tensor(arrayFor(dtype, sizeOf(shape)), shape, dtype);
  kernelFor('where', dtype, out.size)(expand(cond, shape).data, expand(cast(a, dtype), shape).data, expand(cast(b, dtype), shape).data, out.data);
  return out;
}

function around(shape: Shape, dim: number) {
  return { outer: sizeOf(shape.slice(0, dim)), len: shape[dim], inner: sizeOf(shape.slice(dim + 1)) };
}

/**
 * Reduce over the given (normalized, sorted) dims; keepdim keeps them as size 1. Sums of int32
 * or bool give int32, as PyTorch's integer sums; float32 sums accumulate in float64 then round.
 */
export function reduce(x: Tensor, dims: readonly number[], kind: ReduceKind, keepdim: boolean): Tensor {
  const dtype: DType = x.dtype === 'bool' ? (kind === 'sum' || kind === 'prod' ? 'int32' : 'bool') : x.dtype;
  const wide = x.dtype === 'float32' && (kind === 'sum' || kind === 'prod');
  let t = x;
  for (let k = 0; k < dims.length; ) {
    // a run of consecutive dims is one pass ([B, T, C] over 0, 1 as [B·T, C] over 0): a float32
    // sum then stays on the float32 kernels instead of summing its float64 partial sums again
    let last = k;
    while (last + 1 < dims.length && dims[last + 1] === dims[last] + 1) last++;
    const first = dims[k], end = dims[last] + 1;
    k = last + 1;
    const outer = sizeOf(t.shape.slice(0, first)), len = sizeOf(t.shape.slice(first, end)), inner = sizeOf(t.shape.slice(end));
    if (len === 0 && (kind === 'max' || kind === 'min')) {
      const d = dims.find((i) => i >= first && i < end && t.shape[i] === 0);
      throw new Error(`${kind}: cannot reduce over a dim of size 0 (shape [${x.shape.join(', ')}], dim ${d})`);
    }
    const shape = [...t.shape];
    shape.fill(1, first, end);
    const outType = wide ? 'float64' : dtype;
    const out = new Tensor(arrayFor(outType, outer * inner), shape, outType);
    kernelFor('reduce', t.dtype, t.size)(kind, t.data, outer, len, inner, out.data);
    t = out;
  }
  if (t === x) t = new Tensor(x.data.slice(), x.shape, dtype);
  else if (wide) t = new Tensor(Float32Array.from(t.data), t.shape, 'float32');
  return view(t, keepdim ? t.shape : t.shape.filter((_, i) => !dims.includes(i)));
}

/** Index of the largest (or smallest) value along dim. */
export function argReduce(x: Tensor, dim: number, largest: boolean, keepdim: boolean): Tensor {
  const { outer, len, inner } = around(x.shape, dim);
  if (len === 0) throw new Error(`${largest ? 'argmax' : 'argmin'}: cannot reduce over a dim of size 0`);
  const out = new Int32Array(outer * inner);
  kernelFor('argReduce', x.dtype, x.size)(largest, x.data, outer, len, inner, out);
  const shape = [...x.shape];
  if (keepdim) shape[dim] = 1;
  else shape.splice(dim, 1);
  return new Tensor(out, shape, 'int32');
}

/** Sum a broadcast gradient back to an operand's shape: over leading dims and dims that were 1. */
export function sumTo(grad: Tensor, shape: Shape): Tensor {
  if (shapesEqual(grad.shape, shape)) return grad;
  return view(reduce(grad, sumToDims(grad.shape, shape), 'sum', true), shape);
}

/** The dims of `from` that sumTo(·, to) sums over. */
export function sumToDims(from: Shape, to: Shape): number[] {
  const lead = from.length - to.length;
  const dims: number[] = [];
  for (let i = 0; i < from.length; i++) if (i < lead || (to[i - lead] === 1 && from[i] !== 1)) dims.push(i);
  return dims;
}

/** out[i…] = x[offset + Σ i_d·strides[d]] over outShape. */
export function stridedCopy(x: Tensor, outShape: Shape, strides: readonly number[], offset = 0): Tensor {
  const out = new Tensor(emptyArrayFor(x.dtype, sizeOf(outShape)), outShape, x.dtype);
  kernelFor('stridedCopy', x.dtype, out.size)(x.data, offset, strides, outShape, out.data);
  return out;
}

/** x with its dims reordered: out.shape[i] = x.shape[dims[i]]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  const st = stridesOf(x.shape);
  return stridedCopy(x, dims.map((d) => x.shape[d]), dims.map((d) => st[d]));
}

/** x materialised at a broadcast shape (x itself when the shape is its own). */
export function expand(x: Tensor, shape: Shape): Tensor {
  if (shapesEqual(x.shape, shape)) return x;
  const own = stridesOf(x.shape);
  const lead = shape.length - x.ndim;
  return stridedCopy(x, shape, shape.map((_, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : own[i - lead])));
}

/** A tensor of `shape` filled with `value` where `x` is written at `offset` with `strides` (pad, cat). */
export function scatterInto(parts: { x: Tensor; offset: number; strides: readonly number[] }[], shape: Shape, dtype: DType, value = 0): Tensor {
  const out = new Tensor(arrayFor(dtype, sizeOf(shape)), shape, dtype);
  if (value !== 0) out.data.fill(value);
  for (const { x, offset, strides } of parts) kernelFor('stridedScatter', dtype, x.size)(cast(x, dtype).data, x.shape, out.data, offset, strides);
  return out;
}

/** out[o, r, :] = x[o, index[r], :] around dim. */
export function gatherRows(x: Tensor, dim: number, index: Int32Array): Tensor {
  const { outer, len, inner } = around(x.shape, dim);
  const shape = [...x.shape];
  shape[dim] = index.length;
  const out = new Tensor(emptyArrayFor(x.dtype, outer * index.length * inner), shape, x.dtype);
  kernelFor('gatherRows', x.dtype, out.size)(x.data, outer, len, inner, index, out.data);
  return out;
}

/** zeros(shape) with g's rows added at index along dim (the adjoint of gatherRows); rows at `skip` dropped. */
export function scatterAddRows(g: Tensor, shape: Shape, dim: number, index: Int32Array, skip = -1): Tensor {
  const { outer, len, inner } = around(shape, dim);
  const out = new Tensor(arrayFor(g.dtype, sizeOf(shape)), shape, g.dtype);
  kernelFor('scatterAddRows', g.dtype, g.size)(g.data, outer, len, inner, index, out.data, skip);
  return out;
}

/**
 * Batched matmul of a [..., m, k] (or [..., k, m] when transA) and b [..., k, n] (or [..., n, k]
 * when transB), batch dims broadcast, plus an optional bias [n] on every row (float results only).
 * Both operands have ≥ 2 dims; shapes are checked by the op.
 */
export function matmul(a: Tensor, b: Tensor, transA = false, transB = false, bias: Tensor | null = null): Tensor {
  let dtype = promoteTypes(a.dtype, b.dtype);
  const integer = dtype === 'int32' || dtype === 'bool';
  if (integer) dtype = 'float64'; // integer matmul runs in float64 (exact below 2^53) and is cast back
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar, k = transA ? ar : ac;
  const n = transB ? br : bc;
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  const aOffsets = batchOffsets(a.shape.slice(0, -2), batchShape, ar * ac);
  const bOffsets = batchOffsets(b.shape.slice(0, -2), batchShape, br * bc);
  const out = emptyArrayFor(dtype, batch * m * n) as FloatArray;
  kernelFor('matmul', dtype, 2 * batch * m * n * k)({
    a: cast(a, dtype).data as FloatArray, b: cast(b, dtype).data as FloatArray, out, batch, m, n, k, transA, transB, aOffsets, bOffsets,
    bias: bias && (cast(bias, dtype).data as FloatArray),
  });
  const shape = [...batchShape, m, n];
  if (integer) return new Tensor(Int32Array.from(out), shape, 'int32');
  return new Tensor(out, shape, dtype);
}

/** Hands a gradient rule's private temporaries back to the pool (pool.ts): nothing else holds them, and the rule never reads them again. */
export function free(...temporaries: (Tensor | null)[]): void {
  for (const t of temporaries) if (t) release(t.dtype, t.data);
}

/** Where the matrices of a batched product sit in their arrays: the kernel's sizes and offsets, with the row strides required (matmulAt). */
export type MatricesAt = Omit<MatmulArgs, 'a' | 'b' | 'out' | 'bias'> & { lda: number; ldb: number };

/** [batch, m, n] = op(A_b) · op(B_b) over matrices read in place from a and b (attention's heads in a packed qkv). */
export function matmulAt(a: Tensor, b: Tensor, at: MatricesAt): Tensor {
  const dtype = promoteTypes(a.dtype, b.dtype);
  if (dtype !== 'float32' && dtype !== 'float64') throw new Error(`matmulAt: float operands only (got ${a.dtype} and ${b.dtype})`);
  const out = emptyArrayFor(dtype, at.batch * at.m * at.n) as FloatArray;
  kernelFor('matmul', dtype, 2 * at.batch * at.m * at.n * at.k)({
    ...at, a: cast(a, dtype).data as FloatArray, b: cast(b, dtype).data as FloatArray, out,
  });
  return new Tensor(out, [at.batch, at.m, at.n], dtype);
}

/** Element offset of each operand matrix for every entry of the broadcast batch. */
function batchOffsets(own: readonly number[], batchShape: readonly number[], matrixSize: number): Int32Array {
  const batch = sizeOf(batchShape);
  const offsets = new Int32Array(batch);
  const ownStrides = stridesOf(own);
  const lead = batchShape.length - own.length;
  for (let i = 0; i < batch; i++) {
    let rest = i, off = 0;
    for (let d = batchShape.length - 1; d >= 0; d--) {
      const idx = rest % batchShape[d];
      rest = Math.floor(rest / batchShape[d]);
      const od = d - lead;
      if (od >= 0 && own[od] !== 1) off += idx * ownStrides[od];
    }
    offsets[i] = off * matrixSize;
  }
  return offsets;
}

/** x viewed as [rows, cols] around its last dim. */
export function rowsCols(x: Tensor): [number, number] {
  const cols = x.ndim === 0 ? 1 : x.shape[x.ndim - 1];
  return [cols === 0 ? 0 : x.size / cols, cols];
}

/** Softmax over the last dim of a float tensor. */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = rowsCols(x);
  const out = new Tensor(emptyArrayFor(x.dtype, x.size), x.shape, x.dtype);
  kernelFor('softmax', x.dtype, x.size)(x.data as FloatArray, out.data as FloatArray, rows, cols);
  return out;
}

/** dx = y ⊙ (dy − Σ dy·y) over the last dim, y the softmax output. */
export function softmaxBackward(y: Tensor, dy: Tensor): Tensor {
  const [rows, cols] = rowsCols(y);
  const dx = new Tensor(emptyArrayFor(y.dtype, y.size), y.shape, y.dtype);
  kernelFor('softmaxBackward', y.dtype, y.size)(y.data as FloatArray, cast(dy, y.dtype).data as FloatArray, dx.data as FloatArray, rows, cols);
  return dx;
}
