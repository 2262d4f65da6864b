// Linear, the affine map of a layer and a neuron (D1, D2) and of the output layer (D7): y = x·Wᵀ + b with W of shape [out, in], as PyTorch; and Identity.
import type { Tensor } from '../tensor/tensor.js';
import { empty } from './helpers.js';
import { Module, Parameter } from './module.js';
import * as init from './init.js';
import { linear } from './functional.js';

export interface LinearOptions {
  bias?: boolean;
}

export class Linear extends Module {
  readonly inFeatures: number;
  readonly outFeatures: number;
  weight: Parameter;
  bias: Parameter | null;

  /** PyTorch's init: kaiming_uniform(a=√5) → W, b ~ U(−1/√in, 1/√in). */
  constructor(inFeatures: number, outFeatures: number, { bias = true }: LinearOptions = {}) {
    super();
    this.inFeatures = inFeatures;
    this.outFeatures = outFeatures;
    this.weight = new Parameter(init.kaimingUniform(empty([outFeatures, inFeatures]), Math.sqrt(5)));
    const bound = inFeatures > 0 ? 1 / Math.sqrt(inFeatures) : 0;
    this.bias = bias ? new Parameter(init.uniform(empty([outFeatures]), -bound, bound)) : null;
  }

  /** [..., in] → [..., out] */
  override forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias ?? undefined);
  }

  override extraRepr(): string {
    return `in_features=${this.inFeatures}, out_features=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}

/** Returns its input unchanged (a placeholder, e.g. for an optional layer). */
export class Identity extends Module {
  override forward(x: Tensor): Tensor {
    return x;
  }
}
