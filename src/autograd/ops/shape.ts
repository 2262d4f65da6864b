// Shape ops: reshape, transpose, permute, squeeze/unsqueeze, expand, flatten, slice, cat, stack,
// split, indexSelect. Each gradient undoes the rearrangement (or scatters back what was picked).
import { Tensor } from '../../tensor/tensor.js';
import { arrayFor, promoteTypes, type DType, type TypedArray } from '../../tensor/dtype.js';
import { cast } from '../../tensor/kernels/js/elementwise.js';
import { catRaw, expandRaw, permuteRaw } from '../../tensor/kernels/js/layout.js';
import { sumTo } from '../../tensor/kernels/js/reduce.js';
import { fmt, normalizeDim, sizeOf } from '../../tensor/shape.js';
import { record } from '../engine.js';
import { operands, asTensor, type TensorLike } from './operands.js';

type ShapeArgs = (number | readonly number[])[];

/** reshape(2, 3) or reshape([2, 3]). */
function shapeFromArgs(args: ShapeArgs): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as number[])] : (args as number[]);
}

/** The same values with a new shape (one −1 is inferred); shares storage, as a view. */
export function reshape(a: TensorLike, ...shapeArgs: ShapeArgs): Tensor {
  const [x] = operands(a, 0);
  const shape = shapeFromArgs(shapeArgs);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new Error(`reshape: only one dim can be -1 (got ${fmt(shape)})`);
  if (shape.some((d) => !Number.isInteger(d) || d < -1)) throw new Error(`reshape: invalid shape ${fmt(shape)}`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  const resolved = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  if (sizeOf(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d))) {
    throw new Error(`reshape: shape ${fmt(shape)} is invalid for input of shape ${fmt(x.shape)} (${x.size} elements)`);
  }
  return record(new Tensor(x.data, resolved, x.dtype), 'reshape', [x], (g) => [new Tensor(g.data, x.shape, g.dtype)]);
}

export const view = reshape;

/** flatten(start, end): merge dims start..end into one. */
export function flatten(a: TensorLike, startDim = 0, endDim = -1): Tensor {
  const [x] = operands(a, 0);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim('flatten', startDim, x.ndim), e = normalizeDim('flatten', endDim, x.ndim);
  if (s > e) throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export function permute(a: TensorLike, ...dimArgs: ShapeArgs): Tensor {
  const [x] = operands(a, 0);
  const dims = shapeFromArgs(dimArgs).map((d) => normalizeDim('permute', d, x.ndim));
  if (dims.length !== x.ndim || new Set(dims).size !== dims.length) {
    throw new Error(`permute: dims ${fmt(dims)} are not a permutation of the ${x.ndim} dims of shape ${fmt(x.shape)}`);
  }
  const inverse = dims.map((_, i) => dims.indexOf(i));
  // the gradient is permuted back by the inverse permutation
  return record(permuteRaw(x, dims), 'permute', [x], (g) => [permuteRaw(g, inverse)]);
}

export function transpose(a: TensorLike, dim0: number, dim1: number): Tensor {
  const [x] = operands(a, 0);
  if (x.ndim < 2 && dim0 === dim1) return x;
  const d0 = normalizeDim('transpose', dim0, x.ndim), d1 = normalizeDim('transpose', dim1, x.ndim);
  const dims = x.shape.map((_, i) => i);
  [dims[d0], dims[d1]] = [dims[d1], dims[d0]];
  return permute(x, dims);
}

/** The 2-D transpose (t.T); a 1-D tensor is returned unchanged, as PyTorch. */
export function T(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  if (x.ndim > 2) throw new Error(`T: expected a tensor of at most 2 dims, got shape ${fmt(x.shape)} (use permute or mT)`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

/** Remove dim (or every size-1 dim); squeezing a dim that is not 1 is a no-op. */
export function squeeze(a: TensorLike, dim?: number): Tensor {
  const [x] = operands(a, 0);
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normalizeDim('squeeze', dim, x.ndim);
  if (x.ndim === 0 || x.shape[d] !== 1) return x;
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

export function unsqueeze(a: TensorLike, dim: number): Tensor {
  const [x] = operands(a, 0);
  const d = normalizeDim('unsqueeze', dim, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/** Broadcast to a larger shape (−1 keeps a dim); the gradient is summed back. */
export function expand(a: TensorLike, ...shapeArgs: ShapeArgs): Tensor {
  const [x] = operands(a, 0);
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
  return record(expandRaw(x, resolved), 'expand', [x], (g) => [sumTo(g, x.shape)]);
}

/** View x as [outer, len, inner] around dim. */
function around(shape: readonly number[], dim: number) {
  return { outer: sizeOf(shape.slice(0, dim)), len: shape[dim], inner: sizeOf(shape.slice(dim + 1)) };
}

interface SliceGeometry { outer: number; n: number; inner: number; start: number; count: number; step: number }

/**
 * Move the picked rows between a full [outer, n, inner] array and its slice [outer, count, inner]:
 * 'gather' copies full → slice, 'scatter' slice → full. With step 1 each outer row is one
 * contiguous run of count·inner numbers, copied at once (slicing the last dim would otherwise
 * copy one number at a time).
 */
function copySlice(full: TypedArray, part: TypedArray, g: SliceGeometry, direction: 'gather' | 'scatter'): void {
  const run = g.step === 1 ? g.count * g.inner : g.inner;
  const runs = g.step === 1 ? 1 : g.count;
  for (let o = 0; o < g.outer; o++) {
    for (let r = 0; r < runs; r++) {
      const f = (o * g.n + g.start + r * g.step) * g.inner;
      const p = (o * g.count + r) * g.inner;
      if (direction === 'gather') part.set(full.subarray(f, f + run), p);
      else full.set(part.subarray(p, p + run), f);
    }
  }
}

/** Elements start, start+step, … < end along dim; negative indices count from the end. */
export function slice(a: TensorLike, dim: number, start = 0, end?: number | null, step = 1): Tensor {
  const [x] = operands(a, 0);
  const d = normalizeDim('slice', dim, x.ndim);
  if (!Number.isInteger(step) || step < 1) throw new Error(`slice: step must be a positive integer (got ${step})`);
  const n = x.shape[d];
  const clampIndex = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const s = clampIndex(start), e = clampIndex(end ?? n);
  const count = Math.max(0, Math.ceil((e - s) / step));
  const { outer, inner } = around(x.shape, d);
  const shape = [...x.shape];
  shape[d] = count;
  const out = new Tensor(arrayFor(x.dtype, outer * count * inner), shape, x.dtype);
  copySlice(x.data, out.data, { outer, n, inner, start: s, count, step }, 'gather');
  // the gradient lands back on the picked positions, zeros elsewhere
  return record(out, 'slice', [x], (g) => {
    const dx = new Tensor(arrayFor(g.dtype, x.size), x.shape, g.dtype);
    copySlice(dx.data, g.data, { outer, n, inner, start: s, count, step }, 'scatter');
    return [dx];
  });
}

export function cat(tensors: readonly TensorLike[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('cat: expected a non-empty list of tensors');
  const list = tensors.map((t) => asTensor(t));
  const first = list[0];
  const d = normalizeDim('cat', dim, first.ndim);
  list.forEach((t, i) => {
    if (t.ndim !== first.ndim || t.shape.some((s, j) => j !== d && s !== first.shape[j])) {
      throw new Error(`cat: tensor ${i} has shape ${fmt(t.shape)}, which does not match ${fmt(first.shape)} except in dim ${d}`);
    }
  });
  const dtype = list.reduce((dt, t) => promoteTypes(dt, t.dtype), first.dtype);
  const same = list.map((t) => (t.dtype === dtype ? t : cast(t, dtype)));
  const out = catRaw(same, d);
  // each input's gradient is its own slab of the output's gradient
  return record(out, 'cat', list, (g) => {
    let at = 0;
    return list.map((t) => {
      const part = t.requiresGrad ? slice(g, d, at, at + t.shape[d]) : null;
      at += t.shape[d];
      return part;
    });
  });
}

export function stack(tensors: readonly TensorLike[], dim = 0): Tensor {
  if (tensors.length === 0) throw new Error('stack: expected a non-empty list of tensors');
  const list = tensors.map((t) => asTensor(t));
  list.forEach((t, i) => {
    if (t.ndim !== list[0].ndim || t.shape.some((s, j) => s !== list[0].shape[j])) {
      throw new Error(`stack: tensor ${i} has shape ${fmt(t.shape)}, expected ${fmt(list[0].shape)} like tensor 0`);
    }
  });
  const d = normalizeDim('stack', dim, list[0].ndim + 1);
  return cat(list.map((t) => unsqueeze(t, d)), d);
}

/** Split into chunks of `size` (the last may be smaller) or of the listed sizes. */
export function split(a: TensorLike, sizeOrSizes: number | readonly number[], dim = 0): Tensor[] {
  const [x] = operands(a, 0);
  const d = normalizeDim('split', dim, x.ndim);
  const n = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSizes === 'number') {
    if (!Number.isInteger(sizeOrSizes) || sizeOrSizes <= 0) throw new Error(`split: size must be a positive integer (got ${sizeOrSizes})`);
    sizes = [];
    for (let at = 0; at < n; at += sizeOrSizes) sizes.push(Math.min(sizeOrSizes, n - at));
  } else {
    sizes = [...sizeOrSizes];
    const total = sizes.reduce((p, q) => p + q, 0);
    if (total !== n) throw new Error(`split: sizes ${fmt(sizes)} sum to ${total}, but dim ${d} has size ${n}`);
  }
  let at = 0;
  return sizes.map((s) => slice(x, d, at, (at += s)));
}

/** Pick entries along dim by integer indices; the gradient scatter-adds back (repeats accumulate). */
export function indexSelect(a: TensorLike, dim: number, indices: TensorLike): Tensor {
  const [x] = operands(a, 0);
  const idx = asTensor(indices);
  if (idx.dtype !== 'int32') throw new Error(`indexSelect: indices must be an int32 tensor (got ${idx.dtype})`);
  if (idx.ndim > 1) throw new Error(`indexSelect: indices must be 1-D (got shape ${fmt(idx.shape)})`);
  const d = normalizeDim('indexSelect', dim, x.ndim);
  const { outer, len, inner } = around(x.shape, d);
  const count = idx.size;
  for (let i = 0; i < count; i++) {
    const v = idx.data[i];
    if (v < -len || v >= len) throw new Error(`indexSelect: index ${v} is out of range for dim ${d} of size ${len} (shape ${fmt(x.shape)})`);
  }
  const at = (i: number) => (idx.data[i] < 0 ? idx.data[i] + len : idx.data[i]);
  const shape = [...x.shape];
  shape[d] = count;
  const out = new Tensor(arrayFor(x.dtype, outer * count * inner), shape, x.dtype);
  for (let o = 0; o < outer; o++) {
    for (let r = 0; r < count; r++) {
      const src = (o * len + at(r)) * inner;
      out.data.set(x.data.subarray(src, src + inner), (o * count + r) * inner);
    }
  }
  return record(out, 'indexSelect', [x], (g) => {
    const dx = new Tensor(arrayFor(g.dtype, x.size), x.shape, g.dtype);
    for (let o = 0; o < outer; o++) {
      for (let r = 0; r < count; r++) {
        const dst = (o * len + at(r)) * inner, src = (o * count + r) * inner;
        for (let i = 0; i < inner; i++) dx.data[dst + i] += g.data[src + i];
      }
    }
    return [dx];
  });
}

/** A copy that is part of the graph (gradient passes through unchanged). */
export function clone(a: TensorLike): Tensor {
  const [x] = operands(a, 0);
  return record(new Tensor(x.data.slice(), x.shape, x.dtype), 'clone', [x], (g) => [g]);
}

/** A converted copy; the gradient is converted back (float ↔ float only keeps the graph). */
export function to(a: TensorLike, dtype: DType): Tensor {
  const [x] = operands(a, 0);
  if (x.dtype === dtype) return x;
  const out = cast(x, dtype);
  if (dtype !== 'float32' && dtype !== 'float64') return out;
  return record(out, 'to', [x], (g) => [g]);
}
