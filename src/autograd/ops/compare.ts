// Comparisons (no gradient: they return bool masks), where (a primitive), and what is composed of
// it: maximum, minimum, clamp.
import type { Tensor } from '../../tensor/tensor.js';
import { isFloat } from '../../tensor/dtype.js';
import * as raw from '../../tensor/raw.js';
import { record } from '../engine.js';
import { add, mul } from './arithmetic.js';
import { asTensor, operands, type TensorLike } from './operands.js';

export const eq = (a: TensorLike, b: TensorLike): Tensor => raw.binary('eq', ...operands(a, b));
export const ne = (a: TensorLike, b: TensorLike): Tensor => raw.binary('ne', ...operands(a, b));
export const gt = (a: TensorLike, b: TensorLike): Tensor => raw.binary('gt', ...operands(a, b));
export const lt = (a: TensorLike, b: TensorLike): Tensor => raw.binary('lt', ...operands(a, b));
export const ge = (a: TensorLike, b: TensorLike): Tensor => raw.binary('ge', ...operands(a, b));
export const le = (a: TensorLike, b: TensorLike): Tensor => raw.binary('le', ...operands(a, b));

/** out = cond ? a : b, broadcast; the gradient goes to a where cond holds and to b elsewhere. */
export function where(condition: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const cond = asTensor(condition);
  const [x, y] = operands(a, b);
  return record(raw.where(cond, x, y), 'where', [x, y], [(g) => where(cond, g, 0), (g) => where(cond, 0, g)]);
}

/** Elementwise max/min: the gradient goes to the winner; ties split it in half, as PyTorch. */
function extremum(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const [wins, loses] = op === 'maximum' ? [gt(x, y), raw.binary('lt', x, y)] : [raw.binary('lt', x, y), gt(x, y)];
  const tie = add(mul(x, 0.5), mul(y, 0.5)); // = x = y on a tie, with half the gradient each
  // NaN wins, as PyTorch: neither comparison holds, and the tie value carries the NaN
  return where(wins, x, where(loses, y, tie));
}

export const maximum = (a: TensorLike, b: TensorLike): Tensor => extremum('maximum', a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => extremum('minimum', a, b);

/** clamp(min?, max?): either bound may be null; the gradient passes where min ≤ x ≤ max. */
export function clamp(a: TensorLike, min?: number | null, max?: number | null): Tensor {
  const x = asTensor(a);
  if (min == null && max == null) throw new Error('clamp: at least one of min and max must be given');
  const fractional = (v: number | null | undefined) => v != null && Number.isFinite(v) && !Number.isInteger(v);
  const y = !isFloat(x.dtype) && (fractional(min) || fractional(max)) ? raw.cast(x, 'float32') : x;
  let out = y; // an int tensor needs no gradient, so the cast is not recorded
  if (min != null) out = where(lt(out, min), min, out);
  if (max != null) out = where(gt(out, max), max, out);
  return out;
}

/** The logical not of a mask (bool). */
export const logicalNot = (a: TensorLike): Tensor => raw.unary('not', asTensor(a), 'bool');
