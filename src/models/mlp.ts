// MLP (D1, D6): a stack of fully connected layers, h⁽ˡ⁾ = σ(W⁽ˡ⁾ h⁽ˡ⁻¹⁾ + b⁽ˡ⁾), no activation after the last.
import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Sequential } from '../nn/container.js';
import { ReLU, Sigmoid, Tanh, GELU } from '../nn/activation.js';
import * as F from '../nn/functional.js';

export type Activation = 'relu' | 'sigmoid' | 'tanh' | 'gelu';

export interface MLPOptions {
  activation?: Activation;
}

const activations: Record<Activation, () => Module> = {
  relu: () => new ReLU(),
  sigmoid: () => new Sigmoid(),
  tanh: () => new Tanh(),
  gelu: () => new GELU(),
};

export class MLP extends Module {
  layers: Sequential;

  /** sizes = [in, hidden…, out], e.g. MLP([784, 256, 10]) is the MLP bench workload W3's network. */
  constructor(readonly sizes: number[], { activation = 'relu' }: MLPOptions = {}) {
    super();
    if (sizes.length < 2) throw new Error(`MLP: sizes needs at least an input and an output size (got [${sizes.join(', ')}])`);
    if (!(activation in activations)) throw new Error(`MLP: unknown activation '${activation}' (expected ${Object.keys(activations).join(', ')})`);
    const modules: Module[] = [];
    for (let i = 0; i + 1 < sizes.length; i++) {
      modules.push(new Linear(sizes[i], sizes[i + 1]));
      if (i + 2 < sizes.length) modules.push(activations[activation]());
    }
    this.layers = new Sequential(...modules);
  }

  /** x (N, in) → logits (N, out); with integer targets (N), loss is the mean cross-entropy (D8). */
  override forward(x: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null } {
    const logits = this.layers.forward(x.ndim > 2 ? x.flatten(1) : x);
    return { logits, loss: targets ? F.crossEntropy(logits, targets) : null };
  }
}
