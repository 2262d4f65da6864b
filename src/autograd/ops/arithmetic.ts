// add, sub, mul, div, pow, neg: forward through the elementwise kernel, gradient right below.
// A broadcast operand's gradient is summed back to its shape by sumTo, the one shared helper.
import type { Tensor } from '../../tensor/tensor.js';
import { binary, scalarTensor, unary, zipSame } from '../../tensor/kernels/js/elementwise.js';
import { expandRaw } from '../../tensor/kernels/js/layout.js';
import { sumTo } from '../../tensor/kernels/js/reduce.js';
import { record } from '../engine.js';
import { operands, type TensorLike } from './operands.js';

const mulRaw = (x: Tensor, y: Tensor) => binary('mul', x, y);

export function add(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  // ∂(x+y)/∂x = 1, ∂(x+y)/∂y = 1
  return record(binary('add', x, y), 'add', [x, y], (g) => [sumTo(g, x.shape), sumTo(g, y.shape)]);
}

export function sub(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  // ∂(x−y)/∂x = 1, ∂(x−y)/∂y = −1
  return record(binary('sub', x, y), 'sub', [x, y], (g) => [sumTo(g, x.shape), y.requiresGrad ? sumTo(unary(g, (v) => -v), y.shape) : null]);
}

export function mul(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  // ∂(xy)/∂x = y, ∂(xy)/∂y = x
  return record(binary('mul', x, y), 'mul', [x, y], (g) => [
    x.requiresGrad ? sumTo(mulRaw(g, y), x.shape) : null,
    y.requiresGrad ? sumTo(mulRaw(g, x), y.shape) : null,
  ]);
}

export function div(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = binary('div', x, y);
  // ∂(x/y)/∂x = 1/y, ∂(x/y)/∂y = −x/y² = −out/y
  return record(out, 'div', [x, y], (g) => [
    x.requiresGrad ? sumTo(binary('div', g, y), x.shape) : null,
    y.requiresGrad ? sumTo(unary(binary('div', mulRaw(g, out), y), (v) => -v), y.shape) : null,
  ]);
}

export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = binary('pow', x, y);
  // ∂(xʸ)/∂x = y·xʸ⁻¹, ∂(xʸ)/∂y = xʸ·ln x (taken as 0 where x = 0, as PyTorch)
  return record(out, 'pow', [x, y], (g) => {
    const yMinus1 = binary('sub', y, scalarTensor(1, y.dtype));
    const dx = x.requiresGrad ? mulRaw(g, mulRaw(y, binary('pow', x, yMinus1))) : null;
    const outLnX = y.requiresGrad ? zipSame(out, expandRaw(x, out.shape), (o, xv) => (xv === 0 ? 0 : o * Math.log(xv))) : null;
    return [dx && sumTo(dx, x.shape), outLnX && sumTo(mulRaw(g, outLnX), y.shape)];
  });
}

export function neg(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  // ∂(−x)/∂x = −1
  return record(unary(x, (v) => -v), 'neg', [x], (g) => [unary(g, (v) => -v)]);
}
