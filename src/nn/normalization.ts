// Normalisation layers (D19's batch normalization, and LayerNorm): x̂ = (x − μ)/√(σ² + ε),
// y = x̂·γ + β. LayerNorm takes μ, σ² over each sample's last dims; BatchNorm over the batch
// (and spatial dims) per channel, keeping running estimates for evaluation.
import { Tensor } from '../tensor/tensor.js';
import { Module, Parameter } from './module.js';
import * as init from './init.js';
import { checkInput, empty, tuple } from './helpers.js';
import { batchNorm, layerNorm } from './functional.js';

export interface LayerNormOptions {
  eps?: number;
  /** Learn γ (weight) and β (bias); default true. */
  elementwiseAffine?: boolean;
  /** Learn β; default true (GPT configs with bias=false turn it off). */
  bias?: boolean;
}

export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  weight: Parameter | null;
  bias: Parameter | null;

  constructor(normalizedShape: number | readonly number[], { eps = 1e-5, elementwiseAffine = true, bias = true }: LayerNormOptions = {}) {
    super();
    this.normalizedShape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
    this.eps = eps;
    this.weight = elementwiseAffine ? new Parameter(init.ones(empty(this.normalizedShape))) : null;
    this.bias = elementwiseAffine && bias ? new Parameter(init.zeros(empty(this.normalizedShape))) : null;
  }

  override forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, this.weight, this.bias, this.eps);
  }

  override extraRepr(): string {
    return `${tuple(this.normalizedShape)}, eps=${this.eps}, elementwise_affine=${this.weight !== null}${this.weight && !this.bias ? ', bias=false' : ''}`;
  }
}

export interface BatchNormOptions {
  eps?: number;
  /** Weight of the new batch in the running stats; null for a cumulative average (1/numBatchesTracked). */
  momentum?: number | null;
  /** Learn γ and β; default true. */
  affine?: boolean;
  /** Keep running stats for evaluation; without them evaluation uses the batch's statistics. */
  trackRunningStats?: boolean;
}

/**
 * Shared by BatchNorm1d and BatchNorm2d. Training: normalise with the batch mean and biased
 * variance, then running ← (1 − momentum)·running + momentum·batch (the variance unbiased).
 * Evaluation: normalise with the running stats. Buffers: runningMean, runningVar, numBatchesTracked.
 */
abstract class BatchNorm extends Module {
  readonly numFeatures: number;
  readonly eps: number;
  readonly momentum: number | null;
  weight: Parameter | null;
  bias: Parameter | null;
  declare runningMean: Tensor | null;
  declare runningVar: Tensor | null;
  declare numBatchesTracked: Tensor | null;

  constructor(numFeatures: number, { eps = 1e-5, momentum = 0.1, affine = true, trackRunningStats = true }: BatchNormOptions = {}) {
    super();
    this.numFeatures = numFeatures;
    this.eps = eps;
    this.momentum = momentum;
    this.weight = affine ? new Parameter(init.ones(empty([numFeatures]))) : null;
    this.bias = affine ? new Parameter(init.zeros(empty([numFeatures]))) : null;
    this.registerBuffer('runningMean', trackRunningStats ? init.zeros(empty([numFeatures])) : null);
    this.registerBuffer('runningVar', trackRunningStats ? init.ones(empty([numFeatures])) : null);
    this.registerBuffer('numBatchesTracked', trackRunningStats ? new Tensor(new Int32Array(1), [], 'int32') : null);
  }

  protected abstract checkShape(x: Tensor): void;

  override forward(x: Tensor): Tensor {
    this.checkShape(x);
    let momentum = this.momentum ?? 0;
    if (this.training && this.numBatchesTracked) {
      this.numBatchesTracked.data[0] += 1;
      if (this.momentum === null) momentum = 1 / this.numBatchesTracked.data[0]; // cumulative moving average
    }
    const useBatchStats = this.training || !this.runningMean;
    return batchNorm(x, this.runningMean, this.runningVar, this.weight, this.bias, useBatchStats, momentum, this.eps);
  }

  override extraRepr(): string {
    return `${this.numFeatures}, eps=${this.eps}, momentum=${this.momentum}, affine=${this.weight !== null}, track_running_stats=${this.runningMean !== null}`;
  }
}

/** Over [N, C] or [N, C, L]: statistics per feature C. */
export class BatchNorm1d extends BatchNorm {
  protected checkShape(x: Tensor): void {
    checkInput((x.ndim === 2 || x.ndim === 3) && x.shape[1] === this.numFeatures, 'BatchNorm1d', `[N, ${this.numFeatures}] or [N, ${this.numFeatures}, L]`, x);
  }
}

/** Over [N, C, H, W]: statistics per channel C. */
export class BatchNorm2d extends BatchNorm {
  protected checkShape(x: Tensor): void {
    checkInput(x.ndim === 4 && x.shape[1] === this.numFeatures, 'BatchNorm2d', `[N, ${this.numFeatures}, H, W]`, x);
  }
}
