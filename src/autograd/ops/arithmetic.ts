// add, mul, div: primitives, each rule right below its forward; sub and neg are composed of them.
// A rule may return a gradient of the broadcast shape: the engine sums it back to the operand's.
import type { Tensor } from '../../tensor/tensor.js';
import * as raw from '../../tensor/raw.js';
import { record } from '../engine.js';
import { operands, asTensor, type TensorLike } from './operands.js';

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  // ∂(x+y)/∂x = 1, ∂(x+y)/∂y = 1
  return record(raw.binary('add', x, y), 'add', [x, y], [(g) => g, (g) => g]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  // ∂(xy)/∂x = y, ∂(xy)/∂y = x
  return record(raw.binary('mul', x, y), 'mul', [x, y], [(g) => mul(g, y), (g) => mul(g, x)]);
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = raw.binary('div', x, y);
  // ∂(x/y)/∂x = 1/y, ∂(x/y)/∂y = −x/y² = −out/y
  return record(out, 'div', [x, y], [(g) => div(g, y), (g) => neg(div(mul(g, out), y))]);
}

/** x − y = x + (−1)·y (exact in floating point). */
export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  return add(x, neg(y));
}

/** −x = (−1)·x. */
export function neg(a: TensorLike): Tensor {
  return mul(asTensor(a), -1);
}
