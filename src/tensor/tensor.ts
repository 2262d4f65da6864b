// The Tensor: a contiguous row-major typed array, a shape and a dtype, plus the autograd fields.
// Ops are added as methods by src/autograd/methods.ts, so this layer knows nothing of gradients' rules.
import { type DType, type TypedArray, dtypeOfArray } from './dtype.js';
import { type Shape, sizeOf, fmt } from './shape.js';
import { formatTensor } from './print.js';
import { keepForBackward, storageOf } from './pool.js';

/** How a non-leaf tensor was made: its op, its inputs, and the rule that sends a gradient back. */
export interface GradFn {
  op: string;
  inputs: Tensor[];
  /**
   * Given ∂L/∂out, return ∂L/∂input for each input whose `needs` entry is true (null elsewhere).
   * A gradient may keep the broadcast shape of out: the engine sums it back to the input's shape.
   */
  backward(grad: Tensor, needs: readonly boolean[]): (Tensor | null)[];
  /** A fused op's twin composed of recorded ops: differentiated instead when gradients are recorded. */
  composite?: (...inputs: Tensor[]) => Tensor;
  /** Set once backward ran with retainGraph: false (or releaseGraph freed it); a second backward through it is an error. */
  released?: boolean;
  /** Tensors only the rule reads (not inputs, never handed out): releaseGraph recycles their storage. */
  saved?: Tensor[];
}

// Public views: tensors that reshape, alias or detach made over another tensor's buffer, counted
// per buffer. releaseGraph recycles a buffer only when every view of it is part of its graph.
const viewCounts = new WeakMap<object, number>();
const views = new WeakSet<Tensor>();

/** Record that t shares its buffer with the tensor it was made from (a view a user can hold). */
export function noteView(t: Tensor): Tensor {
  if (!views.has(t)) {
    views.add(t);
    const key = storageOf(t.data);
    viewCounts.set(key, (viewCounts.get(key) ?? 0) + 1);
  }
  return t;
}

export const isView = (t: Tensor): boolean => views.has(t);

/** How many public views were made over this buffer (since it was last recycled). */
export const viewsOf = (buffer: object): number => viewCounts.get(buffer) ?? 0;

/** The buffer is recycled: its old views are gone with it. */
export const forgetViews = (buffer: object): void => void viewCounts.delete(buffer);

// Tensors whose .grad only the engine holds: made by a backward walk and never read through .grad
// since. zeroGrad hands their storage to the pool for the next backward (its weight gradients
// have the same sizes), instead of leaving it to the collector.
const unseenGrads = new WeakSet<Tensor>();

export class Tensor {
  readonly shape: readonly number[];
  readonly dtype: DType;
  /** Contiguous row-major storage; length === size. */
  data: TypedArray;
  requiresGrad = false;
  private storedGrad: Tensor | null = null;
  gradFn: GradFn | null = null;
  /** Keep .grad on this non-leaf too (PyTorch's retain_grad), used by the graph picture. */
  retainsGrad = false;
  /** An optional label, shown in printed graphs. */
  label?: string;

  constructor(data: TypedArray, shape: Shape, dtype: DType = dtypeOfArray(data)) {
    if (data.length !== sizeOf(shape)) {
      throw new Error(`Tensor: data of length ${data.length} does not fit shape ${fmt(shape)} (${sizeOf(shape)} elements)`);
    }
    this.data = data;
    this.shape = Object.freeze([...shape]);
    this.dtype = dtype;
  }

  /** ∂L/∂this, accumulated by backward (a leaf's, or a non-leaf's that retainsGrad). Reading it hands it out: it is never recycled. */
  get grad(): Tensor | null {
    unseenGrads.delete(this);
    return this.storedGrad;
  }

  set grad(g: Tensor | null) {
    unseenGrads.delete(this);
    this.storedGrad = g;
  }

  get ndim(): number {
    return this.shape.length;
  }

  get size(): number {
    return this.data.length;
  }

  /** A leaf is a tensor no recorded op produced: gradients accumulate into its .grad. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  item(): number {
    if (this.size !== 1) throw new Error(`item: only a tensor with one element can be converted to a number (shape ${fmt(this.shape)})`);
    return this.data[0];
  }

  /** Nested JS arrays (booleans for a bool tensor). */
  toArray(): any {
    const { data, shape, dtype } = this;
    const value = (i: number) => (dtype === 'bool' ? data[i] !== 0 : data[i]);
    if (shape.length === 0) return value(0);
    const build = (dim: number, offset: number, stride: number): unknown[] => {
      const n = shape[dim];
      const inner = stride / Math.max(n, 1);
      const out = new Array(n);
      for (let i = 0; i < n; i++) out[i] = dim === shape.length - 1 ? value(offset + i) : build(dim + 1, offset + i * inner, inner);
      return out;
    };
    return build(0, 0, this.size);
  }

  toString(): string {
    return formatTensor(this);
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}

/** The engine's read of t.grad (optimizers, clipping, backward): it does not hand the gradient out. */
export function peekGrad(t: Tensor): Tensor | null {
  return t['storedGrad'];
}

/** Whether only the engine holds t.grad's storage (see unseenGrads). */
export function gradIsUnseen(t: Tensor): boolean {
  return unseenGrads.has(t);
}

/** Store g as t.grad; `unseen`: nothing outside the engine holds g's storage, so dropGrad may recycle it. */
export function storeGrad(t: Tensor, g: Tensor | null, unseen: boolean): void {
  t['storedGrad'] = g;
  if (unseen && g !== null) unseenGrads.add(t);
  else unseenGrads.delete(t);
}

/** zeroGrad (PyTorch's set_to_none): t.grad becomes null; storage only the engine held goes back to the pool. */
export function dropGrad(t: Tensor): void {
  const g = t['storedGrad'];
  if (g !== null && unseenGrads.has(t)) keepForBackward(g.dtype, g.data);
  storeGrad(t, null, false);
}
