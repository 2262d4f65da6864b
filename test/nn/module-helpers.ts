// Helpers for layer tests: set weights by hand, and gradcheck a module's parameters in float64.
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import type { Module } from '../../src/nn/module.js';

/** Overwrite a parameter's values in place (shape must match). */
export function setValues(t: Tensor, values: number[] | number[][] | number[][][] | number[][][][]): void {
  const flat = (values as unknown[]).flat(Infinity) as number[];
  if (flat.length !== t.size) throw new Error(`setValues: ${flat.length} values for shape [${t.shape.join(', ')}]`);
  t.data.set(flat);
}

/** float64 tensor from nested arrays. */
export const f64 = (data: tg.TensorData, requiresGrad = false): Tensor => tg.tensor(data, { dtype: 'float64', requiresGrad });

/**
 * Cast m to float64 and check the gradients of fn(m, inputs) with respect to the inputs that
 * require grad and to every parameter of m.
 */
export function gradcheckModule(m: Module, inputs: Tensor[], fn: (...xs: Tensor[]) => Tensor, opts: tg.GradcheckOptions = {}): boolean {
  m.double();
  const params = m.parameters();
  return tg.gradcheck((...all: Tensor[]) => fn(...all.slice(0, inputs.length)), [...inputs, ...params], { atol: 1e-5, rtol: 1e-4, ...opts });
}
