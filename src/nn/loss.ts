// Loss modules: options fixed at construction, forward(input, target) → the loss. The formulas
// live in the functional forms (D8 cross-entropy, D10 MSE as a mean, binary cross-entropy).
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { binaryCrossEntropy, bceWithLogits, crossEntropy, mseLoss, nllLoss } from './functional.js';
import type { BceOptions, BceWithLogitsOptions, CrossEntropyOptions, NllLossOptions, ReductionOptions } from '../autograd/ops/losses.js';

export type { Reduction } from '../autograd/ops/losses.js';

/** D8: −Σ yᵢ log softmax(z)ᵢ on logits [N, C] and integer targets [N] (mean over the targets not ignored). */
export class CrossEntropyLoss extends Module {
  constructor(readonly opts: CrossEntropyOptions = {}) {
    super();
  }

  override forward(logits: Tensor, target: Tensor): Tensor {
    return crossEntropy(logits, target, this.opts);
  }

  override extraRepr(): string {
    return describe(this.opts);
  }
}

/** −log p[target] on log-probabilities [N, C] and integer targets [N]. */
export class NLLLoss extends Module {
  constructor(readonly opts: NllLossOptions = {}) {
    super();
  }

  override forward(logProbs: Tensor, target: Tensor): Tensor {
    return nllLoss(logProbs, target, this.opts);
  }

  override extraRepr(): string {
    return describe(this.opts);
  }
}

/** D10: 1/n Σ (yᵢ − ŷᵢ)² ('mean'); reduction 'sum' gives Σ, twice D9's ½ Σ. */
export class MSELoss extends Module {
  constructor(readonly opts: ReductionOptions = {}) {
    super();
  }

  override forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, this.opts);
  }

  override extraRepr(): string {
    return describe(this.opts);
  }
}

/** −(y log p + (1 − y) log(1 − p)) on probabilities p, optionally weighted. */
export class BCELoss extends Module {
  constructor(readonly opts: BceOptions = {}) {
    super();
  }

  override forward(p: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropy(p, target, this.opts);
  }

  override extraRepr(): string {
    return describe(this.opts);
  }
}

/** Binary cross-entropy on logits z (σ fused in, stable for large |z|); posWeight weighs the positives. */
export class BCEWithLogitsLoss extends Module {
  constructor(readonly opts: BceWithLogitsOptions = {}) {
    super();
  }

  override forward(logits: Tensor, target: Tensor): Tensor {
    return bceWithLogits(logits, target, this.opts);
  }

  override extraRepr(): string {
    return describe(this.opts);
  }
}

/** Only the options that were set, e.g. `reduction='sum'`. */
function describe(opts: object): string {
  return Object.entries(opts)
    .filter(([, v]) => v !== undefined && v !== null && typeof v !== 'object')
    .map(([k, v]) => `${k}=${typeof v === 'string' ? `'${v}'` : v}`)
    .join(', ');
}
