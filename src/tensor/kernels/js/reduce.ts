// Reductions along one dim of x viewed as [outer, len, inner]; loops o, r, i so both arrays are
// walked contiguously. The caller picks out's type: a Float64Array accumulates float32 sums wide.
import type { TypedArray } from '../../dtype.js';
import type { ReduceKind } from '../types.js';

const init: Record<ReduceKind, number> = { sum: 0, prod: 1, max: -Infinity, min: Infinity };

export function reduce(kind: ReduceKind, x: TypedArray, outer: number, len: number, inner: number, out: TypedArray): void {
  for (let o = 0; o < outer; o++) {
    const ob = o * inner;
    if (kind === 'sum' || kind === 'prod' || len === 0) out.fill(init[kind], ob, ob + inner);
    else for (let i = 0; i < inner; i++) out[ob + i] = x[o * len * inner + i];
    for (let r = kind === 'sum' || kind === 'prod' ? 0 : 1; r < len; r++) {
      const xb = (o * len + r) * inner;
      if (kind === 'sum') for (let i = 0; i < inner; i++) out[ob + i] += x[xb + i];
      else if (kind === 'prod') for (let i = 0; i < inner; i++) out[ob + i] *= x[xb + i];
      else if (kind === 'max') for (let i = 0; i < inner; i++) { const v = x[xb + i]; if (v > out[ob + i] || v !== v) out[ob + i] = v; }
      else for (let i = 0; i < inner; i++) { const v = x[xb + i]; if (v < out[ob + i] || v !== v) out[ob + i] = v; }
    }
  }
}

export function argReduce(largest: boolean, x: TypedArray, outer: number, len: number, inner: number, out: Int32Array): void {
  for (let o = 0; o < outer; o++) {
    for (let i = 0; i < inner; i++) {
      let best = x[o * len * inner + i];
      let at = 0;
      for (let r = 1; r < len && best === best; r++) {
        const v = x[(o * len + r) * inner + i];
        if (v !== v || (largest ? v > best : v < best)) { best = v; at = r; }
      }
      out[o * inner + i] = at;
    }
  }
}
