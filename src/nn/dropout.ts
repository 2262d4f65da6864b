// Dropout (D19): in training, zero each element with probability p and scale the rest by 1/(1−p)
// (inverted dropout), so evaluation is the identity.
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { dropout } from './functional.js';

export class Dropout extends Module {
  constructor(readonly p = 0.5) {
    super();
    if (typeof p !== 'number' || !(p >= 0 && p <= 1)) throw new Error(`Dropout: probability p has to be between 0 and 1, but got ${p}`);
  }

  override forward(x: Tensor): Tensor {
    return dropout(x, this.p, this.training);
  }

  override extraRepr(): string {
    return `p=${this.p}`;
  }
}
