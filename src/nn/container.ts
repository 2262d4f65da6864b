// Containers: Sequential (calls its modules in order) and ModuleList (holds modules, no forward).
// Children live under the keys '0', '1', …, so their parameters are named `0.weight`, `h.3.attn…`.
import { Module } from './module.js';
import type { Tensor } from '../tensor/tensor.js';

/** Modules held under '0', '1', …: indexing `list[i]`, `get(i)` (negative counts from the end), iteration. */
abstract class IndexedModules<T extends Module> extends Module {
  [index: number]: T;
  #length = 0;

  constructor(modules: Iterable<T>) {
    super();
    for (const m of modules) this.append(m);
  }

  get length(): number {
    return this.#length;
  }

  append(m: T): this {
    if (!(m instanceof Module)) throw new Error(`${this.constructor.name}.append: expected a Module, got ${typeof m}`);
    this[this.#length++] = m;
    return this;
  }

  extend(modules: Iterable<T>): this {
    for (const m of modules) this.append(m);
    return this;
  }

  get(i: number): T {
    const j = i < 0 ? i + this.#length : i;
    if (!Number.isInteger(j) || j < 0 || j >= this.#length) throw new Error(`${this.constructor.name}: index ${i} is out of range for ${this.#length} modules`);
    return this[j];
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = 0; i < this.#length; i++) yield this[i];
  }
}

/** Calls its modules in order: forward(x) = mₙ(…m₁(x)). */
export class Sequential extends IndexedModules<Module> {
  constructor(...modules: Module[]) {
    super(modules);
  }

  /** A tensor in, a tensor out (the usual stack of layers); any other input as its first module takes. */
  override forward(x: Tensor): Tensor;
  override forward(x: any): any;
  override forward(x: any): any {
    for (const m of this) x = m.forward(x);
    return x;
  }
}

/** A list of modules whose parameters are registered (a plain array is not discovered). */
export class ModuleList<T extends Module = Module> extends IndexedModules<T> {
  constructor(modules: Iterable<T> = []) {
    super(modules);
  }

  override forward(): never {
    throw new Error('ModuleList: has no forward; iterate over it and call its modules');
  }
}
