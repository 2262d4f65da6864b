// Elementwise functions of one tensor, each with its derivative written beside it.
import { isFloat, toFloat } from '../../tensor/dtype.js';
import { binary, unary, zipSame } from '../../tensor/kernels/js/elementwise.js';
import { record } from '../engine.js';
import { operands, type TensorLike } from './operands.js';
import { erf } from './special.js';
import { Tensor } from '../../tensor/tensor.js';
import { arrayFor } from '../../tensor/dtype.js';
import { cast } from '../../tensor/kernels/js/elementwise.js';
import { geluForward, geluBackward } from '../../tensor/kernels/js/gelu.js';

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
  const src = x.data, out = arrayFor(x.dtype, x.size);
  for (let i = 0; i < src.length; i++) out[i] = src[i] > 0 ? src[i] : 0; // a plain loop: relu is hot in CNNs and MLPs
  // d max(0,x)/dx = 1 if x > 0 else 0
  return record(new Tensor(out, x.shape, x.dtype), 'relu', [x], (g) => {
    const dx = arrayFor(g.dtype, g.size), gd = g.data;
    for (let i = 0; i < src.length; i++) dx[i] = src[i] > 0 ? gd[i] : 0;
    return [new Tensor(dx, x.shape, g.dtype)];
  });
}

export interface GeluOptions {
  approximate?: 'none' | 'tanh';
}

/** GELU: exact x·Φ(x) by default (PyTorch, BERT); 'tanh' is GPT-2's approximation. Formulas in kernels/js/gelu.ts. */
export function gelu(a: TensorLike, opts: GeluOptions = {}): Tensor {
  const [x0] = operands(a, 0);
  const approximate = opts.approximate ?? 'none';
  if (approximate !== 'none' && approximate !== 'tanh') throw new Error(`gelu: approximate must be 'none' or 'tanh' (got '${approximate}')`);
  const x = isFloat(x0.dtype) ? x0 : cast(x0, 'float32');
  const tanhForm = approximate === 'tanh';
  const preciseErf = x.dtype === 'float64' ? erf : null; // float32 uses a fast erf accurate to float32
  const y = new Tensor(arrayFor(x.dtype, x.size), x.shape, x.dtype);
  geluForward(x.data, y.data, tanhForm, preciseErf);
  // y = x·Φ(x): dy/dx = Φ(x) + x·φ(x)
  return record(y, 'gelu', [x0], (g) => {
    const dx = new Tensor(arrayFor(x.dtype, x.size), x.shape, x.dtype);
    geluBackward(x.data, g.data, dx.data, tanhForm, preciseErf);
    return [dx];
  });
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
