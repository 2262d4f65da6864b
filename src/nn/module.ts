// Module: the base of every layer. Parameters, buffers and submodules are found BY ASSIGNMENT:
// `this.fc1 = new Linear(...)` in a constructor registers a submodule named 'fc1', and
// `this.weight = new Parameter(t)` a parameter named 'weight'. Discovery walks the module's own
// enumerable properties in insertion order (integer-like keys first, ascending, as JavaScript
// orders them; containers use only those). Buffers (tensors that are state but not trained, such
// as BatchNorm's running statistics) are plain tensors, so they are declared once with
// registerBuffer(name, t); after that `this[name] = t2` replaces the buffer. A plain array of
// modules is an error (use ModuleList). A null property (an absent bias) is skipped.
import { Tensor, dropGrad } from '../tensor/tensor.js';
import { type DType, castArray, isFloat } from '../tensor/dtype.js';
import { fmt, shapesEqual } from '../tensor/shape.js';

/** A tensor that a Module trains: requiresGrad by default, found by namedParameters(). */
export class Parameter extends Tensor {
  /** Wraps t's storage (no copy), as torch.nn.Parameter. */
  constructor(t: Tensor, requiresGrad = true) {
    if (!isFloat(t.dtype)) throw new Error(`Parameter: only float tensors can be parameters (got ${t.dtype})`);
    super(t.data, t.shape, t.dtype);
    this.requiresGrad = requiresGrad;
  }
}

export type StateDict = Record<string, Tensor>;

export interface LoadStateDictOptions {
  /** Every key of the module must be in dict and nothing else (default true). */
  strict?: boolean;
}

export interface LoadStateDictResult {
  missingKeys: string[];
  unexpectedKeys: string[];
}

/** Change a tensor's dtype in place, keeping its identity (what Module.to needs for parameters). */
function retypeInPlace(t: Tensor, dtype: DType): void {
  if (t.dtype === dtype) return;
  t.data = castArray(t.data, dtype);
  (t as { dtype: DType }).dtype = dtype;
  if (t.grad) retypeInPlace(t.grad, dtype);
}

export class Module {
  /** Training mode (dropout active, batch statistics in BatchNorm); switched by train()/eval(). */
  training = true;
  /** Names of own properties that hold buffers, with whether they go into stateDict. */
  readonly #buffers = new Map<string, boolean>();

  /** The computation; subclasses define it. `m.call(x)` is the same as `m.forward(x)`. */
  forward(..._args: any[]): any {
    throw new Error(`${this.constructor.name}: forward is not implemented`);
  }

  call(...args: Parameters<this['forward']>): ReturnType<this['forward']> {
    return this.forward(...args);
  }

  // ---- registration ----------------------------------------------------------------------

  /** The same as `this[name] = p` (a Tensor is wrapped as a Parameter; null records an absent one). */
  registerParameter(name: string, p: Tensor | null): Parameter | null {
    const param = p === null || p instanceof Parameter ? p : new Parameter(p);
    (this as any)[name] = param;
    return param;
  }

  /** Declare a buffer: state saved in stateDict (unless persistent is false) but not trained. */
  registerBuffer(name: string, t: Tensor | null, { persistent = true } = {}): Tensor | null {
    if (t instanceof Parameter) throw new Error(`registerBuffer: '${name}' is a Parameter; use registerParameter`);
    this.#buffers.set(name, persistent);
    (this as any)[name] = t;
    return t;
  }

  /** The same as `this[name] = m`. */
  registerModule<M extends Module | null>(name: string, m: M): M {
    (this as any)[name] = m;
    return m;
  }

  /** Own entries of each kind, in insertion order. */
  #own(): { params: [string, Parameter][]; buffers: [string, Tensor, boolean][]; children: [string, Module][] } {
    const params: [string, Parameter][] = [], buffers: [string, Tensor, boolean][] = [], children: [string, Module][] = [];
    for (const key of Object.keys(this)) {
      const value = (this as any)[key];
      if (value instanceof Parameter) params.push([key, value]);
      else if (value instanceof Module) children.push([key, value]);
      else if (value instanceof Tensor && this.#buffers.has(key)) buffers.push([key, value, this.#buffers.get(key)!]);
      else if (Array.isArray(value) && (value[0] instanceof Module || value[0] instanceof Parameter)) {
        // a silent miss would leave these weights untrained
        throw new Error(`${this.constructor.name}: property '${key}' is a plain array of ${value[0] instanceof Module ? 'modules' : 'parameters'}, which is not registered; use ModuleList (or register each one)`);
      }
    }
    return { params, buffers, children };
  }

  // ---- traversal --------------------------------------------------------------------------

  namedChildren(): [string, Module][] {
    return this.#own().children;
  }

  children(): Module[] {
    return this.namedChildren().map(([, m]) => m);
  }

  /** This module and every module below it, depth first, each once; names are dotted paths ('' for this). */
  namedModules(prefix = '', seen = new Set<Module>()): [string, Module][] {
    if (seen.has(this)) return [];
    seen.add(this);
    const out: [string, Module][] = [[prefix, this]];
    for (const [name, child] of this.namedChildren()) out.push(...child.namedModules(prefix ? `${prefix}.${name}` : name, seen));
    return out;
  }

  modules(): Module[] {
    return this.namedModules().map(([, m]) => m);
  }

  /** Every parameter with its dotted path (`h.0.attn.inProj.weight`); a shared one appears once. */
  namedParameters(): [string, Parameter][] {
    const out: [string, Parameter][] = [];
    const seen = new Set<Parameter>();
    for (const [path, m] of this.namedModules()) {
      for (const [name, p] of m.#own().params) {
        if (seen.has(p)) continue;
        seen.add(p);
        out.push([path ? `${path}.${name}` : name, p]);
      }
    }
    return out;
  }

  parameters(): Parameter[] {
    return this.namedParameters().map(([, p]) => p);
  }

  namedBuffers(): [string, Tensor][] {
    return this.#namedBuffers(false);
  }

  buffers(): Tensor[] {
    return this.namedBuffers().map(([, b]) => b);
  }

  #namedBuffers(persistentOnly: boolean): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [path, m] of this.namedModules()) {
      for (const [name, b, persistent] of m.#own().buffers) {
        if (!persistentOnly || persistent) out.push([path ? `${path}.${name}` : name, b]);
      }
    }
    return out;
  }

  /** Total element count of the (distinct) parameters. */
  numParameters({ trainableOnly = false } = {}): number {
    return this.parameters().reduce((n, p) => n + (trainableOnly && !p.requiresGrad ? 0 : p.size), 0);
  }

  // ---- modes and bulk operations ---------------------------------------------------------

  /** Call fn on every submodule (children first) and then on this module, as PyTorch. */
  apply(fn: (m: Module) => void): this {
    for (const child of this.children()) child.apply(fn);
    fn(this);
    return this;
  }

  train(mode = true): this {
    for (const m of this.modules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Freeze (false) or unfreeze every parameter, e.g. a pre-trained body while a new head trains (D22). */
  requiresGrad_(flag = true): this {
    for (const p of this.parameters()) p.requiresGrad = flag;
    return this;
  }

  /** Drop every parameter's gradient (set to null, as PyTorch's default set_to_none). */
  zeroGrad(): void {
    for (const p of this.parameters()) dropGrad(p);
  }

  /**
   * Convert float parameters and buffers to dtype IN PLACE: each keeps its identity, so an
   * optimizer built before still holds them (its state keeps its own dtype). Integer buffers stay.
   */
  to(dtype: DType): this {
    if (!isFloat(dtype)) throw new Error(`Module.to: dtype must be float32 or float64 (got ${dtype})`);
    for (const p of this.parameters()) retypeInPlace(p, dtype);
    for (const b of this.buffers()) if (isFloat(b.dtype)) retypeInPlace(b, dtype);
    return this;
  }

  double(): this {
    return this.to('float64');
  }

  float(): this {
    return this.to('float32');
  }

  // ---- state -----------------------------------------------------------------------------

  /**
   * Parameters and persistent buffers by dotted name, as detached tensors that SHARE storage
   * with the module (as PyTorch's state_dict): clone them to keep a snapshot. A tied parameter
   * appears under each of its names.
   */
  stateDict(): StateDict {
    const out: StateDict = {};
    for (const [path, m] of this.namedModules()) {
      const own = m.#own();
      const at = (name: string) => (path ? `${path}.${name}` : name);
      for (const [name, p] of own.params) out[at(name)] = p.detach();
      for (const [name, b, persistent] of own.buffers) if (persistent) out[at(name)] = b.detach();
    }
    return out;
  }

  /** Every stateDict entry's live tensor (tied parameters under each name). */
  #stateTargets(): Map<string, Tensor> {
    const out = new Map<string, Tensor>();
    for (const [path, m] of this.namedModules()) {
      const own = m.#own();
      const at = (name: string) => (path ? `${path}.${name}` : name);
      for (const [name, p] of own.params) out.set(at(name), p);
      for (const [name, b, persistent] of own.buffers) if (persistent) out.set(at(name), b);
    }
    return out;
  }

  /**
   * Copy values from dict into the parameters and buffers IN PLACE (identity kept, dtype of the
   * module kept). Shape mismatches are always an error; with strict (default) missing and
   * unexpected keys are too. One error lists every problem by name.
   */
  loadStateDict(dict: StateDict, { strict = true }: LoadStateDictOptions = {}): LoadStateDictResult {
    const targets = this.#stateTargets();
    const missingKeys = [...targets.keys()].filter((k) => !(k in dict));
    const unexpectedKeys = Object.keys(dict).filter((k) => !targets.has(k));
    const mismatched: string[] = [];
    for (const [key, t] of targets) {
      const source = dict[key];
      if (source === undefined) continue;
      if (!(source instanceof Tensor)) mismatched.push(`${key}: expected a Tensor, got ${typeof source}`);
      else if (!shapesEqual(source.shape, t.shape)) mismatched.push(`${key}: shape ${fmt(source.shape)} in the dict, ${fmt(t.shape)} in the model`);
    }
    const problems: string[] = [];
    if (strict && missingKeys.length) problems.push(`missing keys: ${missingKeys.join(', ')}`);
    if (strict && unexpectedKeys.length) problems.push(`unexpected keys: ${unexpectedKeys.join(', ')}`);
    if (mismatched.length) problems.push(`size mismatch: ${mismatched.join('; ')}`);
    if (problems.length) throw new Error(`loadStateDict: error(s) loading state into ${this.constructor.name}: ${problems.join('. ')}`);
    for (const [key, t] of targets) {
      const source = dict[key];
      if (source === undefined || source.data === t.data) continue;
      t.data.set(t.dtype === 'bool' && source.dtype !== 'bool' ? castArray(source.data, 'bool') : source.data); // set() converts float ↔ float
    }
    return { missingKeys, unexpectedKeys };
  }

  // ---- printing --------------------------------------------------------------------------

  /** The settings shown inside the parentheses of toString(), e.g. `in_features=2, out_features=3, bias=true`. */
  extraRepr(): string {
    return '';
  }

  /** A tree like PyTorch's repr: `Name(extra)` or `Name(\n  (child): ...\n)`. */
  toString(): string {
    const children = this.namedChildren();
    const name = this.constructor.name;
    const extra = this.extraRepr();
    if (children.length === 0) return `${name}(${extra})`;
    const lines = extra ? extra.split('\n') : [];
    for (const [key, child] of children) lines.push(`(${key}): ${child.toString().split('\n').join('\n  ')}`);
    return `${name}(\n  ${lines.join('\n  ')}\n)`;
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return this.toString();
  }
}
