// Elementwise functions of one tensor (and pow), each with its derivative written beside it, in
// recorded ops so that it can be differentiated again. relu and gelu are fused: a fast kernel
// for their gradient, and their composite twin for higher orders.
import { isFloat, toFloat } from '../../tensor/dtype.js';
import type { Tensor } from '../../tensor/tensor.js';
import * as raw from '../../tensor/raw.js';
import type { UnaryOp } from '../../tensor/kernels/types.js';
import { record, recordFused } from '../engine.js';
import { add, div, mul, neg, sub } from './arithmetic.js';
import { eq, gt, where } from './compare.js';
import { asTensor, operands, type TensorLike } from './operands.js';

/** A float-valued function: int and bool inputs give float32, as torch.exp does. */
function floatUnary(op: UnaryOp, x: Tensor): Tensor {
  return raw.unary(op, x, toFloat(x.dtype));
}

export function exp(a: TensorLike): Tensor {
  const x = asTensor(a);
  const y = floatUnary('exp', x);
  // d eˣ/dx = eˣ
  return record(y, 'exp', [x], [(g) => mul(g, y)]);
}

export function log(a: TensorLike): Tensor {
  const x = asTensor(a);
  // d ln x/dx = 1/x
  return record(floatUnary('log', x), 'log', [x], [(g) => div(g, x)]);
}

export function pow(a: TensorLike, b: TensorLike): Tensor {
  const [x, y] = operands(a, b);
  const out = raw.binary('pow', x, y);
  // ∂(xʸ)/∂x = y·xʸ⁻¹, ∂(xʸ)/∂y = xʸ·ln x (taken as 0 where x = 0, as PyTorch)
  return record(out, 'pow', [x, y], [
    (g) => mul(g, mul(y, pow(x, sub(y, 1)))),
    (g) => mul(g, where(eq(x, 0), 0, mul(out, log(x)))),
  ]);
}

export function sqrt(a: TensorLike): Tensor {
  const x = asTensor(a);
  const y = floatUnary('sqrt', x);
  // d√x/dx = 1/(2√x)
  return record(y, 'sqrt', [x], [(g) => div(g, mul(y, 2))]);
}

export function abs(a: TensorLike): Tensor {
  const x = asTensor(a);
  // d|x|/dx = sign(x) (0 at 0), a constant
  return record(raw.unary('abs', x), 'abs', [x], [(g) => mul(g, raw.unary('sign', x))]);
}

export function tanh(a: TensorLike): Tensor {
  const x = asTensor(a);
  const y = floatUnary('tanh', x);
  // d tanh x/dx = 1 − tanh²x
  return record(y, 'tanh', [x], [(g) => mul(g, sub(1, mul(y, y)))]);
}

export function sigmoid(a: TensorLike): Tensor {
  const x = asTensor(a);
  const y = floatUnary('sigmoid', x);
  // dσ/dx = σ(1 − σ)
  return record(y, 'sigmoid', [x], [(g) => mul(g, mul(y, sub(1, y)))]);
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

export function erf(a: TensorLike): Tensor {
  const x = asTensor(a);
  // d erf(x)/dx = 2/√π · e^{−x²}
  return record(floatUnary('erf', x), 'erf', [x], [(g) => mul(g, mul(exp(neg(mul(x, x))), TWO_OVER_SQRT_PI))]);
}

/** relu(x) = max(0, x), fused: its composite is where(x > 0, x, 0). */
export function relu(a: TensorLike): Tensor {
  const x = asTensor(a);
  // d max(0,x)/dx = 1 if x > 0 else 0
  return recordFused(raw.unary('relu', x), 'relu', [x], (g) => [raw.unaryGrad('relu', x, g)], reluComposite);
}

export const reluComposite = (x: Tensor): Tensor => where(gt(x, 0), x, 0);

export interface GeluOptions {
  approximate?: 'none' | 'tanh';
}

/** GELU: exact x·Φ(x) by default (PyTorch, BERT); 'tanh' is GPT-2's approximation. Fused; formulas in kernels/js/gelu.ts. */
export function gelu(a: TensorLike, opts: GeluOptions = {}): Tensor {
  const x0 = asTensor(a);
  const approximate = opts.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') throw new Error(`gelu: approximate must be 'none' or 'tanh' (got '${approximate}')`);
  const x = isFloat(x0.dtype) ? x0 : raw.cast(x0, 'float32');
  const op = approximate === 'tanh' ? 'geluTanh' : 'gelu';
  // y = x·Φ(x): dy/dx = Φ(x) + x·φ(x)
  return recordFused(raw.unary(op, x), 'gelu', [x0], (g) => [raw.unaryGrad(op, x, g)], (t) => geluComposite(t, approximate));
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** GELU from recorded ops: ½x(1 + erf(x/√2)), or ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function geluComposite(x: Tensor, approximate: 'none' | 'tanh' = 'none'): Tensor {
  const inner = approximate === 'tanh' ? tanh(mul(add(x, mul(mul(mul(x, x), x), 0.044715)), SQRT_2_OVER_PI)) : erf(mul(x, Math.SQRT1_2));
  return mul(mul(x, 0.5), add(inner, 1));
}
