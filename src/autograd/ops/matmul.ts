// matmul with torch.matmul's rules: 1-D·1-D is a dot product, a 1-D operand gains and then loses a
// dim, and batch dims broadcast. The primitive is C = op(A)·op(B) with op(X) = X or Xᵀ, so that
// its gradients are products of the same kind and no transpose is ever materialised.
import type { Tensor } from '../../tensor/tensor.js';
import * as raw from '../../tensor/raw.js';
import { broadcastShapes, fmt } from '../../tensor/shape.js';
import { record } from '../engine.js';
import { asTensor, type TensorLike } from './operands.js';
import { reshape, squeeze, unsqueeze } from './shape.js';

/**
 * op(A) [..., m, k] · op(B) [..., k, n] → [..., m, n], batch dims broadcast. For C = A·B:
 * dA = dC·Bᵀ, dB = Aᵀ·dC; the transposed cases follow from (XY)ᵀ = YᵀXᵀ.
 */
export function matmulT(a: Tensor, b: Tensor, transA: boolean, transB: boolean): Tensor {
  const out = raw.matmul(a, b, transA, transB);
  return record(out, 'matmul', [a, b], [
    (g) => (transA ? matmulT(b, g, transB, true) : matmulT(g, b, false, !transB)), // dA = (op(B)·dCᵀ)ᵀ or dC·op(B)ᵀ
    (g) => (transB ? matmulT(g, a, true, transA) : matmulT(a, g, !transA, false)), // dB = (dCᵀ·op(A))ᵀ or op(A)ᵀ·dC
  ]);
}

export function matmul(left: TensorLike, right: TensorLike): Tensor {
  const a = asTensor(left), b = asTensor(right);
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(`matmul: both arguments need at least 1 dim (got shapes ${fmt(a.shape)} and ${fmt(b.shape)}); use mul for scalars`);
  }
  const k1 = a.shape[a.ndim - 1];
  const k2 = b.ndim === 1 ? b.shape[0] : b.shape[b.ndim - 2];
  if (k1 !== k2) throw new Error(`matmul: shapes ${fmt(a.shape)} and ${fmt(b.shape)} cannot be multiplied (${k1} ≠ ${k2})`);
  broadcastShapes('matmul', a.shape.slice(0, -2), b.shape.slice(0, -2));
  if (a.ndim === 1 && b.ndim === 1) return reshape(matmulT(unsqueeze(a, 0), unsqueeze(b, 1), false, false), []);
  if (a.ndim === 1) return squeeze(matmulT(unsqueeze(a, 0), b, false, false), -2);
  if (b.ndim === 1) return squeeze(matmulT(a, unsqueeze(b, 1), false, false), -1);
  return matmulT(a, b, false, false);
}
