// Seeded 2-D classification sets for the playground: points in about [-1.5, 1.5]², labels 0/1,
// drawn from tsgrad's random stream (manualSeed), so a seed gives the same picture every time.
import { random, fillNormal } from '../src/tensor/random.js';

export type DatasetName = 'moons' | 'spiral' | 'circles';
export const DATASETS: DatasetName[] = ['moons', 'spiral', 'circles'];

export interface Points {
  /** [n, 2] row-major coordinates */
  xy: Float32Array;
  labels: Int32Array;
  n: number;
}

function noisy(points: [number, number, number][], noise: number): Points {
  const n = points.length;
  const jitter = new Float32Array(2 * n);
  fillNormal(jitter, 0, noise);
  const xy = new Float32Array(2 * n), labels = new Int32Array(n);
  points.forEach(([x, y, label], i) => {
    xy[2 * i] = x + jitter[2 * i];
    xy[2 * i + 1] = y + jitter[2 * i + 1];
    labels[i] = label;
  });
  return { xy, labels, n };
}

/** n points of one of the sets, with Gaussian noise of standard deviation `noise`. */
export function makeDataset(name: DatasetName, n: number, noise: number): Points {
  const half = Math.floor(n / 2);
  const points: [number, number, number][] = [];
  for (let i = 0; i < n; i++) {
    const label = i < half ? 0 : 1;
    const u = random();
    if (name === 'moons') {
      // two interleaved half circles (scikit-learn's make_moons), centred
      const t = Math.PI * u;
      points.push(label === 0 ? [Math.cos(t) - 0.5, Math.sin(t) - 0.25, 0] : [0.5 - Math.cos(t), 0.25 - Math.sin(t), 1]);
    } else if (name === 'spiral') {
      // two arms turning 1.5 times around the centre
      const r = 0.15 + 1.2 * u, angle = 3 * Math.PI * u + label * Math.PI;
      points.push([r * Math.cos(angle), r * Math.sin(angle), label]);
    } else {
      // a disc inside a ring
      const angle = 2 * Math.PI * u, r = label === 0 ? 0.5 * random() : 0.9 + 0.3 * random();
      points.push([r * Math.cos(angle), r * Math.sin(angle), label]);
    }
  }
  return noisy(points, noise);
}
