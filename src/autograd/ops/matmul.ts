// matmul with torch.matmul's rules: 1-D·1-D is a dot product, a 1-D operand gains and then loses a
// dim, and batch dims broadcast. C = A·B, dA = dC·Bᵀ, dB = Aᵀ·dC (transposes never materialised).
import type { Tensor } from '../../tensor/tensor.js';
import { matmulRaw } from '../../tensor/kernels/run.js';
import { sumTo } from '../../tensor/kernels/js/reduce.js';
import { broadcastShapes, fmt } from '../../tensor/shape.js';
import { record } from '../engine.js';
import { asTensor, type TensorLike } from './operands.js';
import { reshape, squeeze, unsqueeze } from './shape.js';

/** A [..., m, k] · B [..., k, n] → [..., m, n] with broadcast batch dims. */
function batchedMatmul(a: Tensor, b: Tensor): Tensor {
  const out = matmulRaw(a, b);
  return record(out, 'matmul', [a, b], (g) => [
    a.requiresGrad ? sumTo(matmulRaw(g, b, false, true), a.shape) : null, // dA = dC · Bᵀ
    b.requiresGrad ? sumTo(matmulRaw(a, g, true, false), b.shape) : null, // dB = Aᵀ · dC
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
  if (a.ndim === 1 && b.ndim === 1) return reshape(batchedMatmul(unsqueeze(a, 0), unsqueeze(b, 1)), []);
  if (a.ndim === 1) return squeeze(batchedMatmul(unsqueeze(a, 0), b), -2);
  if (b.ndim === 1) return squeeze(batchedMatmul(a, unsqueeze(b, 1)), -1);
  return batchedMatmul(a, b);
}
