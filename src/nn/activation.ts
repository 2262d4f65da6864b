// Activation layers (D3–D5, GELU, softmax): stateless wrappers of the functional forms.
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { gelu, logSoftmax, relu, sigmoid, softmax, tanh } from './functional.js';

/** D3: max(0, x). */
export class ReLU extends Module {
  override forward(x: Tensor): Tensor {
    return relu(x);
  }
}

/** D4: 1 / (1 + e⁻ˣ). */
export class Sigmoid extends Module {
  override forward(x: Tensor): Tensor {
    return sigmoid(x);
  }
}

/** D5: (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ). */
export class Tanh extends Module {
  override forward(x: Tensor): Tensor {
    return tanh(x);
  }
}

/** x·Φ(x) (approximate 'none', BERT) or its tanh approximation ('tanh', GPT-2). */
export class GELU extends Module {
  readonly approximate: 'none' | 'tanh';

  constructor({ approximate = 'none' }: { approximate?: 'none' | 'tanh' } = {}) {
    super();
    if (approximate !== 'none' && approximate !== 'tanh') throw new Error(`GELU: approximate must be 'none' or 'tanh' (got '${approximate}')`);
    this.approximate = approximate;
  }

  override forward(x: Tensor): Tensor {
    return gelu(x, { approximate: this.approximate });
  }

  override extraRepr(): string {
    return this.approximate === 'none' ? '' : `approximate='${this.approximate}'`;
  }
}

/** softmax along dim (D7): eᶻⁱ / Σⱼ eᶻʲ. */
export class Softmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return softmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}

/** log softmax along dim: zᵢ − log Σⱼ eᶻʲ. */
export class LogSoftmax extends Module {
  constructor(readonly dim = -1) {
    super();
  }

  override forward(x: Tensor): Tensor {
    return logSoftmax(x, this.dim);
  }

  override extraRepr(): string {
    return `dim=${this.dim}`;
  }
}
