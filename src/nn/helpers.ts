// Small helpers shared by the layer files.
import { Tensor } from '../tensor/tensor.js';
import { arrayFor, type FloatDType } from '../tensor/dtype.js';
import { fmt } from '../tensor/shape.js';

/** A zero-filled float tensor to initialise in place. */
export function empty(shape: number[], dtype: FloatDType = 'float32'): Tensor {
  return new Tensor(arrayFor(dtype, shape.reduce((n, d) => n * d, 1)), shape, dtype);
}

/** A number or a pair, as PyTorch's `_pair`: 3 → [3, 3]. */
export function pair(name: string, v: number | readonly number[]): [number, number] {
  const p = typeof v === 'number' ? [v, v] : [...v];
  if (p.length !== 2 || p.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${name}: expected a non-negative integer or a pair of them (got ${JSON.stringify(v)})`);
  return p as [number, number];
}

/** Throw `Layer: expected input ... (got shape [..])` unless ok. */
export function checkInput(ok: boolean, layer: string, expected: string, x: Tensor): void {
  if (!ok) throw new Error(`${layer}: expected input ${expected} (got shape ${fmt(x.shape)})`);
}

/** Format a pair as PyTorch prints tuples: (3, 3). */
export const tuple = (p: readonly number[]): string => `(${p.join(', ')}${p.length === 1 ? ',' : ''})`;
