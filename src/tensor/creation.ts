// Making tensors: from nested arrays or typed arrays, constants, ranges, and seeded random draws.
import { type DType, type TypedArray, arrayFor, castArray, dtypeOfArray, isDType, isFloat } from './dtype.js';
import { type Shape, checkShape, fmt, sizeOf } from './shape.js';
import { Tensor } from './tensor.js';
import { fillNormal, fillUniform, randomInt } from './random.js';

export interface TensorOptions {
  dtype?: DType;
  requiresGrad?: boolean;
  shape?: readonly number[];
}

type Nested = number | boolean | readonly Nested[];
export type TensorData = Nested | TypedArray | Tensor;

function checkDType(op: string, dtype: unknown): DType | undefined {
  if (dtype === undefined) return undefined;
  if (!isDType(dtype)) throw new Error(`${op}: unknown dtype '${String(dtype)}' (expected float32, float64, int32 or bool)`);
  return dtype;
}

/** Deepest nesting tensor() reads; the ragged check below recurses once per level, so a deeper one would overflow the stack. */
const MAX_NESTING = 64;

/** Walk nested arrays: infer the shape and reject ragged ones with the place they go wrong. */
function inferShape(data: Nested): number[] {
  const shape: number[] = [];
  let level: Nested = data;
  while (Array.isArray(level)) {
    if (shape.length === MAX_NESTING) throw new Error(`tensor: data is nested more than ${MAX_NESTING} arrays deep; a tensor has at most ${MAX_NESTING} dims`);
    shape.push(level.length);
    level = level[0] as Nested;
  }
  const check = (node: Nested, dim: number, path: string) => {
    if (dim === shape.length) {
      if (Array.isArray(node)) throw new Error(`tensor: ragged nested array: ${path} is an array, expected a number`);
      if (typeof node !== 'number' && typeof node !== 'boolean') throw new Error(`tensor: ${path} is ${typeof node}, expected a number`);
      return;
    }
    if (!Array.isArray(node)) throw new Error(`tensor: ragged nested array: ${path} is a number, expected an array of length ${shape[dim]}`);
    if (node.length !== shape[dim]) throw new Error(`tensor: ragged nested array: ${path} has length ${node.length}, expected ${shape[dim]}`);
    for (let i = 0; i < node.length; i++) check(node[i] as Nested, dim + 1, `${path}[${i}]`);
  };
  check(data, 0, 'data');
  return shape;
}

function hasBoolean(data: Nested): boolean {
  while (Array.isArray(data)) data = data[0] as Nested;
  return typeof data === 'boolean';
}

function finish(t: Tensor, opts?: TensorOptions): Tensor {
  if (opts?.requiresGrad) {
    if (!isFloat(t.dtype)) throw new Error(`tensor: only float tensors can require gradients (got ${t.dtype})`);
    t.requiresGrad = true;
  }
  return t;
}

/** A new tensor from a number, nested arrays, or a typed array (+ opts.shape). Always copies. */
export function tensor(data: TensorData, opts: TensorOptions = {}): Tensor {
  const dtype = checkDType('tensor', opts.dtype);
  if (data instanceof Tensor) return finish(new Tensor(castArray(data.data, dtype ?? data.dtype), data.shape, dtype ?? data.dtype), opts);
  if (ArrayBuffer.isView(data)) {
    const typed = data as TypedArray;
    const shape = opts.shape ?? [typed.length];
    checkShape('tensor', shape);
    if (sizeOf(shape) !== typed.length) throw new Error(`tensor: typed array of length ${typed.length} does not fit shape ${fmt(shape)}`);
    const dt = dtype ?? dtypeOfArray(typed);
    return finish(new Tensor(castArray(typed, dt), shape, dt), opts);
  }
  const shape = inferShape(data as Nested);
  const flat = (Array.isArray(data) ? (data as unknown[]).flat(Infinity) : [data]) as (number | boolean)[];
  const dt = dtype ?? (hasBoolean(data as Nested) ? 'bool' : 'float32');
  const out = arrayFor(dt, flat.length);
  for (let i = 0; i < flat.length; i++) out[i] = dt === 'bool' ? (flat[i] ? 1 : 0) : Number(flat[i]);
  if (opts.shape && sizeOf(opts.shape) !== out.length) throw new Error(`tensor: data with ${out.length} elements does not fit shape ${fmt(opts.shape)}`);
  return finish(new Tensor(out, opts.shape ?? shape, dt), opts);
}

/** Accept full(shape) as an array or as separate numbers: zeros([2, 3]) or zeros(2, 3). */
function shapeArg(op: string, shape: Shape | number): number[] {
  const s = typeof shape === 'number' ? [shape] : [...shape];
  checkShape(op, s);
  return s;
}

export function full(shape: Shape | number, value: number, opts: TensorOptions = {}): Tensor {
  const s = shapeArg('full', shape);
  const dtype = checkDType('full', opts.dtype) ?? 'float32';
  const data = arrayFor(dtype, sizeOf(s));
  data.fill(dtype === 'bool' ? (value ? 1 : 0) : value);
  return finish(new Tensor(data, s, dtype), opts);
}

export const zeros = (shape: Shape | number, opts?: TensorOptions) => full(shape, 0, opts);
export const ones = (shape: Shape | number, opts?: TensorOptions) => full(shape, 1, opts);
export const zerosLike = (t: Tensor, opts?: TensorOptions) => full(t.shape, 0, { dtype: t.dtype, ...opts });
export const onesLike = (t: Tensor, opts?: TensorOptions) => full(t.shape, 1, { dtype: t.dtype, ...opts });

/** arange(end) or arange(start, end, step): int32 when every argument is an integer, else float32. */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) [start, end] = [0, start];
  if (step === 0) throw new Error('arange: step must be nonzero');
  const n = Math.max(0, Math.ceil((end - start) / step));
  const dtype = checkDType('arange', opts.dtype) ?? ([start, end, step].every(Number.isInteger) ? 'int32' : 'float32');
  const data = arrayFor(dtype, n);
  for (let i = 0; i < n; i++) data[i] = start + i * step;
  return finish(new Tensor(data, [n], dtype), opts);
}

export function eye(n: number, opts: TensorOptions = {}): Tensor {
  const t = zeros([n, n], opts);
  for (let i = 0; i < n; i++) t.data[i * n + i] = 1;
  return t;
}

function floatDType(op: string, opts: TensorOptions): 'float32' | 'float64' {
  const dtype = checkDType(op, opts.dtype) ?? 'float32';
  if (!isFloat(dtype)) throw new Error(`${op}: dtype must be float32 or float64 (got ${dtype})`);
  return dtype;
}

/** Uniform in [0, 1). */
export function rand(shape: Shape | number, opts: TensorOptions = {}): Tensor {
  const s = shapeArg('rand', shape);
  const t = new Tensor(arrayFor(floatDType('rand', opts), sizeOf(s)), s);
  fillUniform(t.data as Float32Array);
  return finish(t, opts);
}

/** Standard normal. */
export function randn(shape: Shape | number, opts: TensorOptions = {}): Tensor {
  const s = shapeArg('randn', shape);
  const t = new Tensor(arrayFor(floatDType('randn', opts), sizeOf(s)), s);
  fillNormal(t.data as Float32Array);
  return finish(t, opts);
}

/** Integers uniform in [low, high), int32. */
export function randint(low: number, high: number, shape: Shape | number): Tensor {
  if (!(high > low)) throw new Error(`randint: high (${high}) must be greater than low (${low})`);
  const s = shapeArg('randint', shape);
  const data = new Int32Array(sizeOf(s));
  for (let i = 0; i < data.length; i++) data[i] = randomInt(low, high);
  return new Tensor(data, s, 'int32');
}
