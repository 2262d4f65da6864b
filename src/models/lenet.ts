// LeNet-5 (D21: convolution with local connectivity and shared weights, then pooling), the layout of the LeNet bench workload W4:
// conv 1→6 5×5 pad 2, ReLU, max-pool 2; conv 6→16 5×5, ReLU, max-pool 2; 400 → 120 → 84 → 10.
import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Conv2d, MaxPool2d, Flatten } from '../nn/conv.js';
import { Sequential } from '../nn/container.js';
import { ReLU } from '../nn/activation.js';
import { fmt } from '../tensor/shape.js';
import * as F from '../nn/functional.js';

export class LeNet5 extends Module {
  features: Sequential;
  classifier: Sequential;

  constructor({ numClasses = 10 }: { numClasses?: number } = {}) {
    super();
    this.features = new Sequential(
      new Conv2d(1, 6, 5, { padding: 2 }), new ReLU(), new MaxPool2d(2), // (N, 6, 14, 14)
      new Conv2d(6, 16, 5), new ReLU(), new MaxPool2d(2), // (N, 16, 5, 5)
    );
    this.classifier = new Sequential(
      new Flatten(), // (N, 400)
      new Linear(400, 120), new ReLU(),
      new Linear(120, 84), new ReLU(),
      new Linear(84, numClasses), // (N, 10)
    );
  }

  /** images (N, 1, 28, 28) → logits (N, 10); with labels (N), the mean cross-entropy. */
  override forward(x: Tensor, targets?: Tensor | null): { logits: Tensor; loss: Tensor | null } {
    if (x.ndim !== 4 || x.shape[1] !== 1 || x.shape[2] !== 28 || x.shape[3] !== 28) {
      throw new Error(`LeNet5.forward: expected images of shape [N, 1, 28, 28], got ${fmt(x.shape)}`);
    }
    const logits = this.classifier.forward(this.features.forward(x));
    return { logits, loss: targets ? F.crossEntropy(logits, targets) : null };
  }
}
