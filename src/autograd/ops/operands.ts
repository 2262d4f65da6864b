// Turning op arguments into tensors: numbers are "weak" scalars that adopt the other operand's dtype.
import { Tensor } from '../../tensor/tensor.js';
import { promoteWithScalar, isFloat, type DType } from '../../tensor/dtype.js';
import { scalar as scalarTensor } from '../../tensor/raw.js';

export type TensorLike = Tensor | number | boolean;

/** x as a tensor; a number becomes a 0-d tensor (of like's dtype family when like is given). */
export function asTensor(x: TensorLike, like?: Tensor): Tensor {
  if (x instanceof Tensor) return x;
  const value = typeof x === 'boolean' ? (x ? 1 : 0) : x;
  if (typeof value !== 'number') throw new Error(`expected a Tensor or a number, got ${typeof x}`);
  const dtype: DType = like ? promoteWithScalar(like.dtype, value) : Number.isInteger(value) && typeof x === 'boolean' ? 'bool' : 'float32';
  return scalarTensor(value, dtype);
}

/** Both operands as tensors; a number takes its dtype from the tensor beside it. */
export function operands(a: TensorLike, b: TensorLike): [Tensor, Tensor] {
  if (a instanceof Tensor) return [a, asTensor(b, a)];
  if (b instanceof Tensor) return [asTensor(a, b), b];
  return [asTensor(a), asTensor(b)];
}

/** Ops whose result must be a float (exp, log, softmax, ...) need a float input or promote it. */
export function requireFloat(op: string, arg: string, t: Tensor): void {
  if (!isFloat(t.dtype)) throw new Error(`${op}: ${arg} must be a float tensor (got ${t.dtype})`);
}
