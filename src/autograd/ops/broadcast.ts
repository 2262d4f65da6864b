// expand and sum: each is the other's gradient. sumTo (sum a broadcast gradient back to an
// operand's shape) is composed of them and is what the engine applies to every op's gradient.
import type { Tensor } from '../../tensor/tensor.js';
import * as raw from '../../tensor/raw.js';
import { fmt, normalizeDims, shapesEqual } from '../../tensor/shape.js';
import { record } from '../engine.js';
import { asTensor, type TensorLike } from './operands.js';
import { reshape, shapeFromArgs, type ShapeArgs } from './shape.js';

export type Dims = number | readonly number[] | null | undefined;

/** Broadcast to a larger shape (−1 keeps a dim); the gradient is summed back. */
export function expand(a: TensorLike, ...shapeArgs: ShapeArgs): Tensor {
  const x = asTensor(a);
  const shape = shapeFromArgs(shapeArgs);
  if (shape.length < x.ndim) throw new Error(`expand: shape ${fmt(shape)} has fewer dims than the tensor's ${fmt(x.shape)}`);
  const lead = shape.length - x.ndim;
  const resolved = shape.map((d, i) => {
    const own = i < lead ? 1 : x.shape[i - lead];
    if (d === -1) {
      if (i < lead) throw new Error(`expand: -1 is not allowed for a new leading dim (shape ${fmt(shape)})`);
      return own;
    }
    if (own !== 1 && own !== d) throw new Error(`expand: the tensor's shape ${fmt(x.shape)} cannot be expanded to ${fmt(shape)} (dim ${i}: ${own} vs ${d})`);
    return d;
  });
  if (shapesEqual(resolved, x.shape)) return x;
  // the engine sums the gradient back to x's shape
  return record(raw.expand(x, resolved), 'expand', [x], [(g) => g]);
}

export function sum(a: TensorLike, dim?: Dims, keepdim = false): Tensor {
  const x = asTensor(a);
  const dims = normalizeDims('sum', dim, x.ndim);
  const kept = x.shape.map((d, i) => (dims.includes(i) ? 1 : d));
  // ∂(Σx)/∂xᵢ = 1: the gradient is broadcast back over the summed dims
  return record(raw.reduce(x, dims, 'sum', keepdim), 'sum', [x], [(g) => expand(reshape(g, kept), x.shape)]);
}

/** Sum a broadcast gradient back to shape: over leading dims and dims that were 1. */
export function sumTo(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  return reshape(sum(g, raw.sumToDims(g.shape, shape), true), shape);
}
