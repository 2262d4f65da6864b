// The optimizer base: parameter groups (each with its own lr and options), per-parameter state,
// zeroGrad, and a state dict of plain data (numbers, arrays, Tensors) so a trainer can save it
// and a loaded optimizer continues the identical trajectory.
import { Tensor, dropGrad } from '../tensor/tensor.js';
import { arrayFor, type TypedArray } from '../tensor/dtype.js';
import { fmt } from '../tensor/shape.js';

/** Hyperparameters shared by every optimizer. */
export interface BaseOptions {
  lr: number;
}

/** A group as given to a constructor: its parameters and any options that differ from the defaults. */
export type ParamGroupInput<O> = Partial<O> & { params: Iterable<Tensor> };

/** A live group: its parameters and every option; schedulers add initialLr (the lr they start from). */
export type ParamGroup<O> = O & { params: Tensor[]; initialLr?: number };

/** Parameters as a list (one group) or as a list of groups. */
export type ParamsInput<O> = Iterable<Tensor> | ParamGroupInput<O>[];

/** One parameter's state: step counts and moment buffers (typed arrays with the parameter's size). */
export type ParamState = Record<string, number | TypedArray>;

export interface OptimizerStateDict {
  /** By parameter index (counting through the groups in order): numbers and Tensors (copies). */
  state: Record<string, Record<string, number | Tensor>>;
  /** Each group's options, with its parameters as indices. */
  paramGroups: (Record<string, unknown> & { params: number[] })[];
}

export abstract class Optimizer<O extends BaseOptions = BaseOptions> {
  readonly defaults: O;
  readonly paramGroups: ParamGroup<O>[] = [];
  /** Per-parameter state, created on the parameter's first step. */
  readonly state = new Map<Tensor, ParamState>();

  constructor(params: ParamsInput<O>, defaults: O) {
    this.defaults = defaults;
    const list = [...(params as Iterable<Tensor | ParamGroupInput<O>>)];
    if (list.length === 0) throw new Error(`${this.constructor.name}: got an empty parameter list`);
    const groups = list.every((p) => p instanceof Tensor) ? [{ params: list as Tensor[] } as unknown as ParamGroupInput<O>] : (list as ParamGroupInput<O>[]);
    for (const g of groups) this.addParamGroup(g);
  }

  /** Add a group (e.g. newly unfrozen layers); options it leaves out come from the defaults. */
  addParamGroup(group: ParamGroupInput<O>): void {
    const name = this.constructor.name;
    if (!group || typeof group !== 'object' || !('params' in group)) throw new Error(`${name}: a parameter group must be an object with params`);
    const params = [...group.params];
    const seen = new Set(this.paramGroups.flatMap((g) => g.params));
    params.forEach((p, i) => {
      if (!(p instanceof Tensor)) throw new Error(`${name}: parameter ${i} of a group is not a Tensor`);
      if (p.dtype !== 'float32' && p.dtype !== 'float64') throw new Error(`${name}: can only optimize float tensors (parameter ${i} is ${p.dtype})`);
      if (!p.isLeaf) throw new Error(`${name}: can't optimize a non-leaf tensor (parameter ${i}, shape ${fmt(p.shape)})`);
      if (seen.has(p)) throw new Error(`${name}: a parameter appears in more than one group (or twice in one)`);
      seen.add(p);
    });
    const full = { ...this.defaults, ...group, params } as ParamGroup<O>;
    this.validate(full);
    this.paramGroups.push(full);
  }

  /** Check a group's options; throw naming the option. */
  protected validate(group: O): void {
    if (!(group.lr >= 0)) throw new Error(`${this.constructor.name}: invalid learning rate ${group.lr} (must be ≥ 0)`);
  }

  /** Apply one update to every parameter that has a gradient. */
  abstract step(): void;

  /** Drop every parameter's gradient (set to null, as PyTorch's default set_to_none). */
  zeroGrad(): void {
    for (const g of this.paramGroups) for (const p of g.params) dropGrad(p);
  }

  /** A parameter's state, created by init on first use. */
  protected stateOf(p: Tensor, init: () => ParamState): ParamState {
    let s = this.state.get(p);
    if (!s) this.state.set(p, (s = init()));
    return s;
  }

  /** A zero-filled buffer like p (its dtype and size). */
  protected zerosLike(p: Tensor): TypedArray {
    return arrayFor(p.dtype, p.size);
  }

  /** Options, step counts and buffers as plain data; buffers are copied into Tensors of the parameter's shape. */
  stateDict(): OptimizerStateDict {
    const index = new Map<Tensor, number>();
    const paramGroups = this.paramGroups.map(({ params, ...options }) => {
      const ids = params.map((p) => {
        if (!index.has(p)) index.set(p, index.size);
        return index.get(p)!;
      });
      return { ...structuredClone(options), params: ids };
    });
    const state: OptimizerStateDict['state'] = {};
    for (const [p, s] of this.state) {
      const entry: Record<string, number | Tensor> = {};
      for (const [key, value] of Object.entries(s)) entry[key] = typeof value === 'number' ? value : new Tensor(value.slice(), p.shape);
      state[String(index.get(p))] = entry;
    }
    return { state, paramGroups };
  }

  /**
   * Restore options and state saved by stateDict() onto this optimizer's parameters (matched by
   * position). The group layout and every buffer's size must match; values are copied.
   */
  loadStateDict(dict: OptimizerStateDict): void {
    const name = `${this.constructor.name}.loadStateDict`;
    if (!dict || !Array.isArray(dict.paramGroups) || typeof dict.state !== 'object' || dict.state === null) {
      throw new Error(`${name}: expected { state, paramGroups } as returned by stateDict()`);
    }
    if (dict.paramGroups.length !== this.paramGroups.length) {
      throw new Error(`${name}: the saved state has ${dict.paramGroups.length} parameter groups, this optimizer has ${this.paramGroups.length}`);
    }
    const params: Tensor[] = [];
    dict.paramGroups.forEach((saved, i) => {
      const group = this.paramGroups[i];
      if (!Array.isArray(saved.params) || saved.params.length !== group.params.length) {
        throw new Error(`${name}: group ${i} has ${saved.params?.length} parameters in the saved state and ${group.params.length} here`);
      }
      saved.params.forEach((id, j) => (params[id] = group.params[j]));
    });
    const restored = new Map<Tensor, ParamState>();
    for (const [key, entry] of Object.entries(dict.state)) {
      const p = params[Number(key)];
      if (!p) throw new Error(`${name}: the saved state names parameter ${key}, which no group holds`);
      const s: ParamState = {};
      for (const [field, value] of Object.entries(entry)) {
        if (typeof value === 'number') s[field] = value;
        else {
          const data = value instanceof Tensor ? value.data : (value as ArrayLike<number>);
          if (data?.length !== p.size) throw new Error(`${name}: state '${field}' of parameter ${key} has ${data?.length} values, the parameter has ${p.size} (shape ${fmt(p.shape)})`);
          const copy = this.zerosLike(p);
          copy.set(data);
          s[field] = copy;
        }
      }
      restored.set(p, s);
    }
    dict.paramGroups.forEach(({ params: _ids, ...options }, i) => Object.assign(this.paramGroups[i], structuredClone(options)));
    this.state.clear();
    for (const [p, s] of restored) this.state.set(p, s);
  }
}
