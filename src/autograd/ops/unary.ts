// Elementwise functions of one tensor, each with its derivative written beside it.
import type { Tensor } from '../../tensor/tensor.js';
import { isFloat, toFloat } from '../../tensor/dtype.js';
import { binary, unary, zipSame } from '../../tensor/kernels/js/elementwise.js';
import { record } from '../engine.js';
import { operands, type TensorLike } from './operands.js';
import { erf, erfFast, normalPdf } from './special.js';

const mulRaw = (x: Tensor, y: Tensor) => binary('mul', x, y);

/** A float-valued function: int and bool inputs give float32, as torch.exp does. */
function floatUnary(x: Tensor, f: (v: number) => number): Tensor {
  return unary(x, f, toFloat(x.dtype));
}

export function exp(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  const y = floatUnary(x, Math.exp);
  // d eˣ/dx = eˣ
  return record(y, 'exp', [x], (g) => [mulRaw(g, y)]);
}

export function log(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  // d ln x/dx = 1/x
  return record(floatUnary(x, Math.log), 'log', [x], (g) => [binary('div', g, x)]);
}

export function sqrt(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  const y = floatUnary(x, Math.sqrt);
  // d√x/dx = 1/(2√x)
  return record(y, 'sqrt', [x], (g) => [zipSame(g, y, (gv, yv) => gv / (2 * yv))]);
}

export function abs(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  // d|x|/dx = sign(x) (0 at 0)
  return record(unary(x, Math.abs), 'abs', [x], (g) => [zipSame(g, x, (gv, xv) => gv * Math.sign(xv))]);
}

export function tanh(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  const y = floatUnary(x, Math.tanh);
  // d tanh x/dx = 1 − tanh²x
  return record(y, 'tanh', [x], (g) => [zipSame(g, y, (gv, yv) => gv * (1 - yv * yv))]);
}

export function sigmoid(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  // σ(x) = 1/(1+e⁻ˣ), written so that large |x| never overflows
  const y = floatUnary(x, (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));
  // dσ/dx = σ(1 − σ)
  return record(y, 'sigmoid', [x], (g) => [zipSame(g, y, (gv, yv) => gv * yv * (1 - yv))]);
}

export function relu(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  // d max(0,x)/dx = 1 if x > 0 else 0
  return record(unary(x, (v) => (v > 0 ? v : 0)), 'relu', [x], (g) => [zipSame(g, x, (gv, xv) => (xv > 0 ? gv : 0))]);
}

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export interface GeluOptions {
  approximate?: 'none' | 'tanh';
}

/** GELU: exact x·Φ(x) by default (PyTorch, BERT); 'tanh' is GPT-2's approximation. */
export function gelu(a: TensorLike, opts: GeluOptions = {}): Tensor {
  const [x] = operands(a, 0);
  const approximate = opts.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') throw new Error(`gelu: approximate must be 'none' or 'tanh' (got '${approximate}')`);
  if (approximate === 'tanh') {
    // y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³)
    const y = floatUnary(x, (v) => 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v))));
    // dy/dx = ½(1 + tanh u) + ½x(1 − tanh²u)·√(2/π)(1 + 3·0.044715x²)
    return record(y, 'gelu', [x], (g) => [zipSame(g, x, (gv, v) => {
      const t = Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v));
      return gv * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v));
    })]);
  }
  const erfFn = x.dtype === 'float64' ? erf : erfFast;
  // y = x·Φ(x), Φ(x) = ½(1 + erf(x/√2))
  const y = floatUnary(x, (v) => 0.5 * v * (1 + erfFn(v / Math.SQRT2)));
  // dy/dx = Φ(x) + x·φ(x)
  return record(y, 'gelu', [x], (g) => [zipSame(g, x, (gv, v) => gv * (0.5 * (1 + erfFn(v / Math.SQRT2)) + v * normalPdf(v)))]);
}

/** clamp(min?, max?): either bound may be null; the gradient passes where min ≤ x ≤ max. */
export function clamp(a: TensorLike, min?: number | null, max?: number | null): Tensor {
  const [x] = operands(a, 0);
  const lo = min ?? -Infinity, hi = max ?? Infinity;
  if (min == null && max == null) throw new Error('clamp: at least one of min and max must be given');
  const dtype = isFloat(x.dtype) || (Number.isInteger(lo) || lo === -Infinity) && (Number.isInteger(hi) || hi === Infinity) ? x.dtype : 'float32';
  const y = unary(x, (v) => (v < lo ? lo : v > hi ? hi : v), dtype);
  return record(y, 'clamp', [x], (g) => [zipSame(g, x, (gv, v) => (v >= lo && v <= hi ? gv : 0))]);
}
