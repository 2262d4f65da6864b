// Tensor-level entry points to the kernel families: batch bookkeeping, dtype handling, choice.
import { arrayFor, promoteTypes } from '../dtype.js';
import { broadcastShapes, fmt, sizeOf, stridesOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { matmulKernel, softmaxKernel } from './index.js';
import type { FloatArray } from './types.js';
import { cast } from './js/elementwise.js';

/**
 * Batched matmul of a [..., m, k] (or [..., k, m] when transA) and b [..., k, n] (or [..., n, k]
 * when transB), batch dims broadcast. Both operands have ≥ 2 dims; shapes are checked by the op.
 */
export function matmulRaw(a: Tensor, b: Tensor, transA = false, transB = false): Tensor {
  let dtype = promoteTypes(a.dtype, b.dtype);
  const integer = dtype === 'int32' || dtype === 'bool';
  if (integer) dtype = 'float64'; // integer matmul runs in float64 (exact below 2^53) and is cast back
  const A = a.dtype === dtype ? a.data : cast(a, dtype).data;
  const B = b.dtype === dtype ? b.data : cast(b, dtype).data;
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const m = transA ? ac : ar, k = transA ? ar : ac;
  const n = transB ? br : bc;
  const batchShape = broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const batch = sizeOf(batchShape);
  const aOffsets = batchOffsets(a.shape.slice(0, -2), batchShape, ar * ac);
  const bOffsets = batchOffsets(b.shape.slice(0, -2), batchShape, br * bc);
  const out = arrayFor(dtype, batch * m * n) as FloatArray;
  const family = matmulKernel(dtype, 2 * batch * m * n * k);
  family.matmul({ a: A as FloatArray, b: B as FloatArray, out, batch, m, n, k, transA, transB, aOffsets, bOffsets });
  const shape = [...batchShape, m, n];
  if (integer) return new Tensor(Int32Array.from(out), shape, 'int32');
  return new Tensor(out, shape, dtype);
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

function rowsCols(x: Tensor, op: string): [number, number] {
  if (x.ndim === 0) throw new Error(`${op}: expected a tensor with at least 1 dim, got shape ${fmt(x.shape)}`);
  const cols = x.shape[x.ndim - 1];
  return [cols === 0 ? 0 : x.size / cols, cols];
}

/** Softmax over the last dim of a float tensor. */
export function softmaxRaw(x: Tensor): Tensor {
  const [rows, cols] = rowsCols(x, 'softmax');
  const out = new Tensor(arrayFor(x.dtype, x.size), x.shape, x.dtype);
  softmaxKernel(x.dtype, x.size).softmax(x.data as FloatArray, out.data as FloatArray, rows, cols);
  return out;
}

/** dx = y ⊙ (dy − Σ dy·y) over the last dim, y the softmax output. */
export function softmaxBackwardRaw(y: Tensor, dy: Tensor): Tensor {
  const [rows, cols] = rowsCols(y, 'softmax');
  const dx = new Tensor(arrayFor(y.dtype, y.size), y.shape, y.dtype);
  const g = dy.dtype === y.dtype ? dy.data : cast(dy, y.dtype).data;
  softmaxKernel(y.dtype, y.size).softmaxBackward(y.data as FloatArray, g as FloatArray, dx.data as FloatArray, rows, cols);
  return dx;
}
