// Data types and PyTorch's promotion rules: bool < int32 < float32 < float64.
import { noteMade, noteResident, residentWanted, takePooled } from './pool.js';
import { residentFloat32 } from './kernels/wasm/resident.js';

export type DType = 'float32' | 'float64' | 'int32' | 'bool';
export type TypedArray = Float32Array | Float64Array | Int32Array | Uint8Array;
export type FloatDType = 'float32' | 'float64';

const rank: Record<DType, number> = { bool: 0, int32: 1, float32: 2, float64: 3 };

export const DTYPES: readonly DType[] = ['float32', 'float64', 'int32', 'bool'];

export function isDType(value: unknown): value is DType {
  return typeof value === 'string' && (DTYPES as readonly string[]).includes(value);
}

export function isFloat(dtype: DType): dtype is FloatDType {
  return dtype === 'float32' || dtype === 'float64';
}

/** The dtype of a result whose operands have dtypes a and b (int32 + float32 → float32). */
export function promoteTypes(a: DType, b: DType): DType {
  return rank[a] >= rank[b] ? a : b;
}

/**
 * A plain JS number operand is "weak", as a Python scalar in PyTorch: it never widens a float
 * tensor (float32 * 2.5 stays float32), and a fractional number lifts an int or bool tensor to float32.
 */
export function promoteWithScalar(dtype: DType, value: number): DType {
  if (isFloat(dtype)) return dtype;
  if (!Number.isInteger(value)) return 'float32';
  return 'int32';
}

/** The default float for a result that must be a float (int32 / int32 → float32, like torch). */
export function toFloat(dtype: DType): FloatDType {
  return dtype === 'float64' ? 'float64' : 'float32';
}

/** Typed arrays made through arrayFor, and the time spent making them (zero-filled by the engine), while counted; reusedBytes came from the pool instead. */
export interface AllocationCount { calls: number; bytes: number; ms: number; reusedBytes: number }
let allocations: AllocationCount | null = null;

/** Start counting allocations (a fresh count) or stop (false); returns the count being filled. */
export function countAllocations(on: boolean): AllocationCount | null {
  allocations = on ? { calls: 0, bytes: 0, ms: 0, reusedBytes: 0 } : null;
  return allocations;
}

/**
 * A zero-filled array for `size` elements of `dtype`: a large float32 one in wasm memory when the
 * wasm kernels can use it there and tsgrad will see its end (pool.ts residentWanted,
 * kernels/wasm/resident.ts), else a recycled one when the pool has it (pool.ts), else a new one.
 */
export function arrayFor(dtype: DType, size: number): TypedArray {
  return makeArray(dtype, size, true);
}

/**
 * As arrayFor, but a recycled array keeps its old contents (torch.empty): only for a kernel that
 * writes every element of its output before reading any.
 */
export function emptyArrayFor(dtype: DType, size: number): TypedArray {
  return makeArray(dtype, size, false);
}

function makeArray(dtype: DType, size: number, zeroed: boolean): TypedArray {
  const started = allocations === null ? 0 : performance.now();
  // a resident block is counted as reused: no new JS array, and mostly a block freed before
  const resident = dtype === 'float32' && residentWanted() ? residentFloat32(size, zeroed) : null;
  if (resident) noteResident(resident.byteLength);
  const pooled = resident ?? takePooled(dtype, size, zeroed);
  const out = pooled ?? newArray(dtype, size);
  noteMade(out);
  if (allocations === null) return out;
  allocations.ms += performance.now() - started;
  if (pooled !== null) {
    allocations.reusedBytes += out.byteLength;
  } else {
    allocations.calls++;
    allocations.bytes += out.byteLength;
  }
  return out;
}

function newArray(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32': return new Float32Array(size);
    case 'float64': return new Float64Array(size);
    case 'int32': return new Int32Array(size);
    case 'bool': return new Uint8Array(size);
  }
}

export function dtypeOfArray(data: TypedArray): DType {
  if (data instanceof Float32Array) return 'float32';
  if (data instanceof Float64Array) return 'float64';
  if (data instanceof Int32Array) return 'int32';
  return 'bool';
}

/** Copy values into a new array of another dtype (bool: nonzero → 1; int32: truncation toward 0). */
export function castArray(data: TypedArray, dtype: DType): TypedArray {
  const out = arrayFor(dtype, data.length);
  if (dtype === 'bool') {
    for (let i = 0; i < data.length; i++) out[i] = data[i] !== 0 ? 1 : 0;
  } else {
    out.set(data); // typed-array set converts element by element (float → int32 truncates)
  }
  return out;
}
