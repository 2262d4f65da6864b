// PyTorch-like printing: tensor([[1.0000, 2.0000], ...]) with a dtype suffix when not the default.
import type { Tensor } from './tensor.js';

const EDGE = 3; // elements shown at each end of a summarised dim
const SUMMARIZE_ABOVE = 1000;

function formatter(t: Tensor): (v: number) => string {
  if (t.dtype === 'bool') return (v) => (v ? 'True' : 'False');
  if (t.dtype === 'int32') return (v) => String(v);
  let allInts = true;
  let maxAbs = 0;
  for (let i = 0; i < t.size; i++) {
    const v = t.data[i];
    if (!Number.isFinite(v)) continue;
    if (!Number.isInteger(v)) allInts = false;
    maxAbs = Math.max(maxAbs, Math.abs(v));
  }
  if (maxAbs >= 1e8 || (maxAbs > 0 && maxAbs < 1e-4)) return (v) => v.toExponential(4);
  if (allInts) return (v) => (Number.isFinite(v) ? `${v}.` : String(v));
  return (v) => (Number.isFinite(v) ? v.toFixed(4) : String(v));
}

export function formatTensor(t: Tensor): string {
  const fmtValue = formatter(t);
  const summarize = t.size > SUMMARIZE_ABOVE;
  const strings = Array.from(t.data, (v) => fmtValue(v));
  const width = strings.reduce((w, s) => Math.max(w, s.length), 0);
  const pad = (s: string) => s.padStart(width);
  const shape = t.shape;
  const strides: number[] = [];
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[i] = s;
    s *= shape[i];
  }
  const indent = 'tensor('.length;
  const render = (dim: number, offset: number): string => {
    const n = shape[dim];
    const picks = summarize && n > 2 * EDGE ? [...Array(EDGE).keys(), -1, ...Array.from({ length: EDGE }, (_, i) => n - EDGE + i)] : [...Array(n).keys()];
    if (dim === shape.length - 1) {
      return `[${picks.map((i) => (i < 0 ? '...' : pad(strings[offset + i]))).join(', ')}]`;
    }
    const sep = ',' + '\n'.repeat(shape.length - dim - 1) + ' '.repeat(indent + dim + 1);
    return `[${picks.map((i) => (i < 0 ? '...' : render(dim + 1, offset + i * strides[dim]))).join(sep)}]`;
  };
  const body = shape.length === 0 ? strings[0] : render(0, 0);
  const extras: string[] = [];
  if (t.dtype === 'float64' || t.dtype === 'int32') extras.push(`dtype=${t.dtype}`); // float32 and bool show by their values
  if (t.gradFn) extras.push(`grad_fn=<${t.gradFn.op}>`);
  else if (t.requiresGrad) extras.push('requires_grad=True');
  return `tensor(${body}${extras.map((e) => ', ' + e).join('')})`;
}
