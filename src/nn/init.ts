// tg.nn.init: fill a tensor in place from tsgrad's one seeded random stream (src/tensor/random.ts),
// so that manualSeed(s) makes every initialisation reproducible. Each returns the tensor.
import type { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { fillNormal, fillUniform } from '../tensor/random.js';

type FloatData = Float32Array | Float64Array;

function floatData(op: string, t: Tensor): FloatData {
  if (t.dtype !== 'float32' && t.dtype !== 'float64') throw new Error(`init.${op}: expected a float tensor (got ${t.dtype})`);
  return t.data as FloatData;
}

export function uniform<T extends Tensor>(t: T, low = 0, high = 1): T {
  fillUniform(floatData('uniform', t), low, high);
  return t;
}

export function normal<T extends Tensor>(t: T, mean = 0, std = 1): T {
  fillNormal(floatData('normal', t), mean, std);
  return t;
}

export function constant<T extends Tensor>(t: T, value: number): T {
  floatData('constant', t).fill(value);
  return t;
}

export const zeros = <T extends Tensor>(t: T): T => constant(t, 0);
export const ones = <T extends Tensor>(t: T): T => constant(t, 1);

/** fan_in of a weight [out, in, ...kernel]: in · Π kernel (PyTorch's rule). */
export function fanIn(t: Tensor): number {
  if (t.ndim < 2) throw new Error(`init.fanIn: a weight needs at least 2 dims (got shape ${fmt(t.shape)})`);
  return t.shape.slice(1).reduce((n, d) => n * d, 1);
}

/**
 * Kaiming (He) uniform: U(−b, b) with b = gain·√(3/fan_in), gain = √(2/(1 + a²)). PyTorch's
 * default for Linear and Conv uses a = √5, which gives b = 1/√fan_in.
 */
export function kaimingUniform<T extends Tensor>(t: T, a = 0): T {
  const gain = Math.sqrt(2 / (1 + a * a));
  const bound = gain * Math.sqrt(3 / fanIn(t));
  return uniform(t, -bound, bound);
}

/** Xavier (Glorot) uniform: U(−b, b), b = gain·√(6/(fan_in + fan_out)) for a 2-D weight [out, in]. */
export function xavierUniform<T extends Tensor>(t: T, gain = 1): T {
  const fanOut = t.shape[0] * (t.ndim > 2 ? t.shape.slice(2).reduce((n, d) => n * d, 1) : 1);
  const bound = gain * Math.sqrt(6 / (fanIn(t) + fanOut));
  return uniform(t, -bound, bound);
}
