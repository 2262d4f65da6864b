// Comparisons (no gradient: they return bool masks), where, maximum and minimum.
import { Tensor } from '../../tensor/tensor.js';
import { binary, unary, zipSame } from '../../tensor/kernels/js/elementwise.js';
import { expandRaw } from '../../tensor/kernels/js/layout.js';
import { sumTo } from '../../tensor/kernels/js/reduce.js';
import { broadcastShapes } from '../../tensor/shape.js';
import { arrayFor, promoteTypes } from '../../tensor/dtype.js';
import { record } from '../engine.js';
import { asTensor, operands, type TensorLike } from './operands.js';

export const eq = (a: TensorLike, b: TensorLike): Tensor => binary('eq', ...operands(a, b));
export const ne = (a: TensorLike, b: TensorLike): Tensor => binary('ne', ...operands(a, b));
export const gt = (a: TensorLike, b: TensorLike): Tensor => binary('gt', ...operands(a, b));
export const lt = (a: TensorLike, b: TensorLike): Tensor => binary('lt', ...operands(a, b));
export const ge = (a: TensorLike, b: TensorLike): Tensor => binary('ge', ...operands(a, b));
export const le = (a: TensorLike, b: TensorLike): Tensor => binary('le', ...operands(a, b));

/** out = cond ? a : b, broadcast; the gradient goes to a where cond holds and to b elsewhere. */
export function where(condition: TensorLike, a: TensorLike, b: TensorLike): Tensor {
  const cond = asTensor(condition);
  const [x, y] = operands(a, b);
  const shape = broadcastShapes('where', broadcastShapes('where', cond.shape, x.shape), y.shape);
  const c = expandRaw(cond, shape), xe = expandRaw(x, shape), ye = expandRaw(y, shape);
  const dtype = promoteTypes(x.dtype, y.dtype);
  const out = new Tensor(arrayFor(dtype, c.size), shape, dtype);
  for (let i = 0; i < out.size; i++) out.data[i] = c.data[i] !== 0 ? xe.data[i] : ye.data[i];
  return record(out, 'where', [x, y], (g) => [
    x.requiresGrad ? sumTo(zipSame(g, c, (gv, cv) => (cv !== 0 ? gv : 0)), x.shape) : null,
    y.requiresGrad ? sumTo(zipSame(g, c, (gv, cv) => (cv !== 0 ? 0 : gv)), y.shape) : null,
  ]);
}

/** Elementwise max/min: the gradient goes to the winner; ties split it in half, as PyTorch. */
function extremum(op: 'maximum' | 'minimum', a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = binary(op, x, y);
  const share = (mine: Tensor, other: Tensor) => {
    const m = expandRaw(mine, out.shape), o = expandRaw(other, out.shape);
    const wins = (p: number, q: number) => (op === 'maximum' ? p > q : p < q);
    return zipSame(m, o, (p, q) => (p === q ? 0.5 : wins(p, q) ? 1 : 0), out.dtype);
  };
  return record(out, op, [x, y], (g) => [
    x.requiresGrad ? sumTo(binary('mul', g, share(x, y)), x.shape) : null,
    y.requiresGrad ? sumTo(binary('mul', g, share(y, x)), y.shape) : null,
  ]);
}

export const maximum = (a: TensorLike, b: TensorLike): Tensor => extremum('maximum', a, b);
export const minimum = (a: TensorLike, b: TensorLike): Tensor => extremum('minimum', a, b);

/** The logical not of a mask (bool). */
export const logicalNot = (a: TensorLike): Tensor => unary(asTensor(a), (v) => (v === 0 ? 1 : 0), 'bool');
