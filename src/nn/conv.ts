// Convolution and pooling layers (D21's CNN: local connectivity, weight sharing, then pooling),
// and Flatten, on NCHW tensors (or unbatched CHW).
import type { Tensor } from '../tensor/tensor.js';
import { Module, Parameter } from './module.js';
import * as init from './init.js';
import { empty, pair, tuple } from './helpers.js';
import { avgPool2d, conv2d, maxPool2d } from './functional.js';

type Pair = number | readonly number[];

export interface Conv2dOptions {
  stride?: Pair;
  /** A number, [h, w], 'valid' (0) or 'same' (output H×W = input H×W, stride 1). */
  padding?: Pair | 'same' | 'valid';
  dilation?: Pair;
  groups?: number;
  bias?: boolean;
}

export class Conv2d extends Module {
  readonly inChannels: number;
  readonly outChannels: number;
  readonly kernelSize: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number] | 'same' | 'valid';
  readonly dilation: [number, number];
  readonly groups: number;
  weight: Parameter;
  bias: Parameter | null;

  /** weight [out, in/groups, kH, kW]; PyTorch's init: W, b ~ U(−1/√fanIn, 1/√fanIn), fanIn = in/groups·kH·kW. */
  constructor(inChannels: number, outChannels: number, kernelSize: Pair, opts: Conv2dOptions = {}) {
    super();
    const { stride = 1, padding = 0, dilation = 1, groups = 1, bias = true } = opts;
    if (!Number.isInteger(groups) || groups < 1 || inChannels % groups !== 0 || outChannels % groups !== 0) {
      throw new Error(`Conv2d: groups (${groups}) must divide inChannels (${inChannels}) and outChannels (${outChannels})`);
    }
    this.inChannels = inChannels;
    this.outChannels = outChannels;
    this.kernelSize = pair('Conv2d: kernelSize', kernelSize);
    this.stride = pair('Conv2d: stride', stride);
    this.padding = typeof padding === 'string' ? padding : pair('Conv2d: padding', padding);
    this.dilation = pair('Conv2d: dilation', dilation);
    this.groups = groups;
    this.weight = new Parameter(init.kaimingUniform(empty([outChannels, inChannels / groups, ...this.kernelSize]), Math.sqrt(5)));
    const fanIn = (inChannels / groups) * this.kernelSize[0] * this.kernelSize[1];
    const bound = fanIn > 0 ? 1 / Math.sqrt(fanIn) : 0;
    this.bias = bias ? new Parameter(init.uniform(empty([outChannels]), -bound, bound)) : null;
  }

  /** [N, inC, H, W] → [N, outC, H', W'], H' = ⌊(H + 2p − d(k − 1) − 1)/s⌋ + 1 */
  override forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation, groups: this.groups });
  }

  override extraRepr(): string {
    const parts = [`${this.inChannels}`, `${this.outChannels}`, `kernel_size=${tuple(this.kernelSize)}`, `stride=${tuple(this.stride)}`];
    if (typeof this.padding === 'string') parts.push(`padding='${this.padding}'`);
    else if (this.padding.some((p) => p !== 0)) parts.push(`padding=${tuple(this.padding)}`);
    if (this.dilation.some((d) => d !== 1)) parts.push(`dilation=${tuple(this.dilation)}`);
    if (this.groups !== 1) parts.push(`groups=${this.groups}`);
    if (!this.bias) parts.push('bias=false');
    return parts.join(', ');
  }
}

export interface Pool2dOptions {
  padding?: Pair;
  ceilMode?: boolean;
}

/** Max over each window (stride defaults to the kernel size). */
export class MaxPool2d extends Module {
  readonly stride: Pair;

  constructor(readonly kernelSize: Pair, stride?: Pair | null, readonly opts: Pool2dOptions & { dilation?: Pair } = {}) {
    super();
    this.stride = stride ?? kernelSize;
  }

  override forward(x: Tensor): Tensor {
    return maxPool2d(x, this.kernelSize, this.stride, this.opts);
  }

  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.stride}, padding=${this.opts.padding ?? 0}`;
  }
}

/** Mean over each window (stride defaults to the kernel size). */
export class AvgPool2d extends Module {
  readonly stride: Pair;

  constructor(readonly kernelSize: Pair, stride?: Pair | null, readonly opts: Pool2dOptions & { countIncludePad?: boolean } = {}) {
    super();
    this.stride = stride ?? kernelSize;
  }

  override forward(x: Tensor): Tensor {
    return avgPool2d(x, this.kernelSize, this.stride, this.opts);
  }

  override extraRepr(): string {
    return `kernel_size=${this.kernelSize}, stride=${this.stride}, padding=${this.opts.padding ?? 0}`;
  }
}

/** Merge dims startDim..endDim into one: [N, C, H, W] → [N, C·H·W] by default. */
export class Flatten extends Module {
  constructor(readonly startDim = 1, readonly endDim = -1) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return x.flatten(this.startDim, this.endDim);
  }

  override extraRepr(): string {
    return `start_dim=${this.startDim}, end_dim=${this.endDim}`;
  }
}
