// Task image: MNIST digits with an MLP (W3: 784 → 256 → 10) or LeNet-5 (D21), cross-entropy,
// the package's held-out digits for validation; optional seeded random shifts (D19) drawn when
// each batch is served, inside the step.
import type { Tensor } from '../../tensor/tensor.js';
import { MLP } from '../../models/mlp.js';
import { LeNet5 } from '../../models/lenet.js';
import { loadMnist, randomShift } from '../../data/mnist.js';
import { DataLoader, TensorDataset, type Dataset } from '../../data/loader.js';
import { epochBatches } from '../../train/batches.js';
import { classificationReport, type ClassificationReport } from '../../train/metrics.js';
import type { TrainOptions } from '../options.js';
import { reportLines } from './classify.js';
import { int, lossOf, startingPoint, type TaskContext, type TaskSetup } from './task.js';

const DIGITS = Array.from({ length: 10 }, (_, i) => String(i));

/** Images and labels, each batch shifted at random by up to `shift` pixels. */
class ShiftedImages implements Dataset<Tensor[]> {
  constructor(readonly base: TensorDataset, readonly shift: number) {}
  get length(): number {
    return this.base.length;
  }
  batch(indices: ArrayLike<number>): Tensor[] {
    const [x, y] = this.base.batch(indices);
    return [this.shift > 0 ? randomShift(x, this.shift) : x, y];
  }
}

export function imageMetrics(model: MLP | LeNet5, images: Tensor, labels: Tensor, batchSize = 500): { loss: number; report: ClassificationReport } {
  const data = new TensorDataset(images, labels);
  const predicted: number[] = [];
  let sum = 0;
  for (let start = 0; start < data.length; start += batchSize) {
    const idx = Array.from({ length: Math.min(batchSize, data.length - start) }, (_, i) => start + i);
    const [x, y] = data.batch(idx);
    const out = model.forward(x, y);
    sum += lossOf(out, 'task image').item() * idx.length;
    predicted.push(...Array.from(out.logits.argmax(1).data));
  }
  return { loss: sum / Math.max(1, data.length), report: classificationReport(Array.from(labels.data), predicted, 10) };
}

export async function setupImage(opts: TrainOptions, ctx: TaskContext): Promise<TaskSetup<Tensor[], MLP | LeNet5>> {
  const { train, test } = loadMnist();
  const start = await startingPoint(opts, ctx);
  let model: MLP | LeNet5;
  if (start.model) {
    if (!(start.model instanceof MLP || start.model instanceof LeNet5)) throw new Error(`task image needs an MLP or LeNet5 checkpoint; got a ${start.model.constructor.name}`);
    model = start.model;
  } else {
    model = opts.model === 'lenet5' ? new LeNet5() : new MLP([784, 256, 10]);
  }
  model.train();
  const loader = new DataLoader(new ShiftedImages(new TensorDataset(train.images, train.labels), opts.augment), { batchSize: opts.batchSize, shuffle: true });
  let last: ClassificationReport | null = null;
  return {
    model, modelName: opts.model === 'lenet5' ? 'LeNet5' : 'MLP [784, 256, 10]', tokenizer: null, labelNames: DIGITS,
    trainBatches: epochBatches(loader),
    batchesPerEpoch: loader.length,
    lossFn: (m, [x, y]) => lossOf(m.forward(x, y), 'task image'),
    evaluate: (m) => {
      const { loss, report } = imageMetrics(m, test.images, test.labels);
      last = report;
      return { val_loss: loss, val_accuracy: report.accuracy, val_precision: report.macro.precision, val_recall: report.macro.recall, val_f1: report.macro.f1 };
    },
    throughput: { unit: 'samples', count: (b) => b[0].shape[0] },
    summary: [
      `data      mnist: train ${int(train.labels.size)} · validation ${int(test.labels.size)} digits of 28×28${opts.augment > 0 ? `; random shifts of up to ${opts.augment} px` : ''}`,
    ],
    report: () => (last ? ['validation:', ...reportLines(last, DIGITS)] : []),
  };
}
