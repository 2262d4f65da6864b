// Shape ops. Primitives: reshape, permute, slice (and unslice, its adjoint), cat, indexSelect (and
// indexAdd, its adjoint), to. Each gradient undoes the rearrangement or scatters back what was
// picked. transpose, T, squeeze, unsqueeze, flatten, stack, split, clone are composed of them.
import { Tensor, noteView } from '../../tensor/tensor.js';
import { promoteTypes, type DType } from '../../tensor/dtype.js';
import * as raw from '../../tensor/raw.js';
import { fmt, normalizeDim, sizeOf, stridesOf } from '../../tensor/shape.js';
import { markAccumulator, record } from '../engine.js';
import { asTensor, type TensorLike } from './operands.js';
import { where } from './compare.js';

export type ShapeArgs = (number | readonly number[])[];

/** reshape(2, 3) or reshape([2, 3]). */
export function shapeFromArgs(args: ShapeArgs): number[] {
  return args.length === 1 && Array.isArray(args[0]) ? [...(args[0] as number[])] : (args as number[]);
}

/** The same values with a new shape (one −1 is inferred); shares storage, as a view. */
export function reshape(a: TensorLike, ...shapeArgs: ShapeArgs): Tensor {
  const x = asTensor(a);
  const shape = shapeFromArgs(shapeArgs);
  const unknown = shape.filter((d) => d === -1).length;
  if (unknown > 1) throw new Error(`reshape: only one dim can be -1 (got ${fmt(shape)})`);
  if (shape.some((d) => !Number.isInteger(d) || d < -1)) throw new Error(`reshape: invalid shape ${fmt(shape)}`);
  const known = sizeOf(shape.filter((d) => d !== -1));
  const resolved = shape.map((d) => (d === -1 ? (known === 0 ? 0 : x.size / known) : d));
  if (sizeOf(resolved) !== x.size || resolved.some((d) => !Number.isInteger(d))) {
    throw new Error(`reshape: shape ${fmt(shape)} is invalid for input of shape ${fmt(x.shape)} (${x.size} elements)`);
  }
  return record(noteView(raw.view(x, resolved)), 'reshape', [x], [(g) => reshape(g, x.shape)]);
}

/** view is reshape: tsgrad tensors are always contiguous, so every reshape is a view (no copy). */
export const view = reshape;

/** flatten(start, end): merge dims start..end into one. */
export function flatten(a: TensorLike, startDim = 0, endDim = -1): Tensor {
  const x = asTensor(a);
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normalizeDim('flatten', startDim, x.ndim), e = normalizeDim('flatten', endDim, x.ndim);
  if (s > e) throw new Error(`flatten: startDim ${startDim} comes after endDim ${endDim}`);
  return reshape(x, [...x.shape.slice(0, s), sizeOf(x.shape.slice(s, e + 1)), ...x.shape.slice(e + 1)]);
}

export function permute(a: TensorLike, ...dimArgs: ShapeArgs): Tensor {
  const x = asTensor(a);
  const dims = shapeFromArgs(dimArgs).map((d) => normalizeDim('permute', d, x.ndim));
  if (dims.length !== x.ndim || new Set(dims).size !== dims.length) {
    throw new Error(`permute: dims ${fmt(dims)} are not a permutation of the ${x.ndim} dims of shape ${fmt(x.shape)}`);
  }
  const inverse = dims.map((_, i) => dims.indexOf(i));
  // the gradient is permuted back by the inverse permutation
  return record(raw.permute(x, dims), 'permute', [x], [(g) => permute(g, inverse)]);
}

export function transpose(a: TensorLike, dim0: number, dim1: number): Tensor {
  const x = asTensor(a);
  if (x.ndim < 2 && dim0 === dim1) return x;
  const d0 = normalizeDim('transpose', dim0, x.ndim), d1 = normalizeDim('transpose', dim1, x.ndim);
  const dims = x.shape.map((_, i) => i);
  [dims[d0], dims[d1]] = [dims[d1], dims[d0]];
  return permute(x, dims);
}

/** The 2-D transpose (t.T); a 1-D tensor is returned unchanged, as PyTorch. */
export function T(a: TensorLike): Tensor {
  const x = asTensor(a);
  if (x.ndim > 2) throw new Error(`T: expected a tensor of at most 2 dims, got shape ${fmt(x.shape)} (use permute or mT)`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

/** Remove dim (or every size-1 dim); squeezing a dim that is not 1 is a no-op. */
export function squeeze(a: TensorLike, dim?: number): Tensor {
  const x = asTensor(a);
  if (dim === undefined) return reshape(x, x.shape.filter((d) => d !== 1));
  const d = normalizeDim('squeeze', dim, x.ndim);
  if (x.ndim === 0 || x.shape[d] !== 1) return x;
  return reshape(x, x.shape.filter((_, i) => i !== d));
}

export function unsqueeze(a: TensorLike, dim: number): Tensor {
  const x = asTensor(a);
  const d = normalizeDim('unsqueeze', dim, x.ndim + 1);
  return reshape(x, [...x.shape.slice(0, d), 1, ...x.shape.slice(d)]);
}

/** Offset and strides of the elements start, start+step, … of dim in a contiguous tensor of shape. */
function sliceLayout(shape: readonly number[], dim: number, start: number, step: number) {
  const strides = stridesOf(shape);
  const offset = start * strides[dim];
  strides[dim] *= step;
  return { offset, strides };
}

/** Elements start, start+step, … < end along dim; negative indices count from the end. */
export function slice(a: TensorLike, dim: number, start = 0, end?: number | null, step = 1): Tensor {
  const x = asTensor(a);
  const d = normalizeDim('slice', dim, x.ndim);
  if (!Number.isInteger(step) || step < 1) throw new Error(`slice: step must be a positive integer (got ${step})`);
  const n = x.shape[d];
  const clampIndex = (i: number) => Math.min(n, Math.max(0, i < 0 ? i + n : i));
  const s = clampIndex(start), e = clampIndex(end ?? n);
  const shape = [...x.shape];
  shape[d] = Math.max(0, Math.ceil((e - s) / step));
  const { offset, strides } = sliceLayout(x.shape, d, s, step);
  // the gradient lands back on the picked positions, zeros elsewhere
  return record(raw.stridedCopy(x, shape, strides, offset), 'slice', [x], [(g) => unslice(g, x.shape, d, s, step)]);
}

/** The adjoint of slice: g written at positions start, start+step, … of dim in zeros(shape). */
function unslice(g: Tensor, shape: readonly number[], dim: number, start: number, step: number): Tensor {
  const { offset, strides } = sliceLayout(shape, dim, start, step);
  const out = markAccumulator(raw.scatterInto([{ x: g, offset, strides }], shape, g.dtype)); // new zeros: the engine may add into it
  return record(out, 'unslice', [g], [(gg) => slice(gg, dim, start, start + (g.shape[dim] - 1) * step + 1, step)]);
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
  const shape = [...first.shape];
  shape[d] = list.reduce((s, t) => s + t.shape[d], 0);
  const starts: number[] = [];
  let at = 0;
  for (const t of list) {
    starts.push(at);
    at += t.shape[d];
  }
  const out = raw.scatterInto(list.map((t, i) => ({ x: t, ...sliceLayout(shape, d, starts[i], 1) })), shape, dtype);
  // each input's gradient is its own slab of the output's gradient
  return record(out, 'cat', list, list.map((t, i) => (g: Tensor) => slice(g, d, starts[i], starts[i] + t.shape[d])));
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
  const x = asTensor(a);
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
  const x = asTensor(a);
  const idx = asTensor(indices);
  if (idx.dtype !== 'int32') throw new Error(`indexSelect: indices must be an int32 tensor (got ${idx.dtype})`);
  if (idx.ndim > 1) throw new Error(`indexSelect: indices must be 1-D (got shape ${fmt(idx.shape)})`);
  const d = normalizeDim('indexSelect', dim, x.ndim);
  const len = x.shape[d];
  const index = new Int32Array(idx.size);
  for (let i = 0; i < idx.size; i++) {
    const v = idx.data[i];
    if (v < -len || v >= len) throw new Error(`indexSelect: index ${v} is out of range for dim ${d} of size ${len} (shape ${fmt(x.shape)})`);
    index[i] = v < 0 ? v + len : v;
  }
  return gather(x, d, index);
}

/** Rows index[r] of dim (indices already checked); rows whose index is `skip` get no gradient. */
export function gather(x: Tensor, dim: number, index: Int32Array, skip = -1): Tensor {
  return record(raw.gatherRows(x, dim, index), 'indexSelect', [x], [(g) => indexAdd(g, x.shape, dim, index, skip)]);
}

/** The adjoint of gather: zeros(shape) with g's rows added at index along dim. */
function indexAdd(g: Tensor, shape: readonly number[], dim: number, index: Int32Array, skip: number): Tensor {
  const out = raw.scatterAddRows(g, shape, dim, index, skip);
  const kept = skip < 0 ? null : raw.view(raw.unary('not', raw.binary('eq', new Tensor(index, [index.length], 'int32'), raw.scalar(skip, 'int32'))), g.shape.map((s, i) => (i === dim ? s : 1)));
  return record(out, 'indexAdd', [g], [(gg) => (kept ? where(kept, gather(gg, dim, index), 0) : gather(gg, dim, index))]);
}

/** A copy that is part of the graph (gradient passes through unchanged). */
export function clone(a: TensorLike): Tensor {
  const x = asTensor(a);
  return record(new Tensor(x.data.slice(), x.shape, x.dtype), 'clone', [x], [(g) => g]);
}

/** The same tensor as a new graph node (no copy): lets the engine tell one use of x apart. */
export function alias(x: Tensor): Tensor {
  return record(noteView(raw.view(x, x.shape)), 'alias', [x], [(g) => g]);
}

/** A converted copy; the gradient is converted back (float ↔ float only keeps the graph). */
export function to(a: TensorLike, dtype: DType): Tensor {
  const x = asTensor(a);
  if (x.dtype === dtype) return x;
  const out = raw.cast(x, dtype);
  if (dtype !== 'float32' && dtype !== 'float64') return out;
  return record(out, 'to', [x], [(g) => to(g, x.dtype)]);
}
