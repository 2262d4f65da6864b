// Running an exported model in ONNX Runtime (onnxruntime-node, CPU) and comparing it with tsgrad.
import * as ort from 'onnxruntime-node';
import * as tg from '../../src/index.js';
import type { Tensor, nn } from '../../src/index.js';

/** A tsgrad tensor as an ONNX Runtime feed: int32 ids become int64 (the graph's type), floats float32. */
function feed(t: Tensor): ort.Tensor {
  if (t.dtype === 'int32' || t.dtype === 'bool') return new ort.Tensor('int64', BigInt64Array.from(Array.from(t.data, (v) => BigInt(v))), [...t.shape]);
  return new ort.Tensor('float32', Float32Array.from(t.data), [...t.shape]);
}

/** Run the ONNX bytes on named inputs; returns each output's values and dims. */
export async function runOnnx(model: Uint8Array | string, inputs: Record<string, Tensor>): Promise<Record<string, { data: Float32Array; dims: number[] }>> {
  const session = typeof model === 'string' ? await ort.InferenceSession.create(model) : await ort.InferenceSession.create(model);
  const feeds: Record<string, ort.Tensor> = {};
  for (const [name, t] of Object.entries(inputs)) feeds[name] = feed(t);
  const results = await session.run(feeds);
  const out: Record<string, { data: Float32Array; dims: number[] }> = {};
  for (const name of session.outputNames) out[name] = { data: results[name].data as Float32Array, dims: [...results[name].dims] };
  await session.release();
  return out;
}

/** max |a − b| over two arrays of one length (Infinity when the lengths differ, so that a check fails). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return Number.isNaN(m) ? Infinity : m;
}

/**
 * Every parameter redrawn from N(0, std²) (LayerNorm gains around 1): an initialised model's
 * 0.02-scale weights give near-zero outputs, which would let a wrong graph agree within 1e-4.
 */
export function scrambleWeights(model: nn.Module, std = 0.3): void {
  tg.noGrad(() => {
    for (const [name, p] of model.namedParameters()) {
      const r = tg.randn([...p.shape]).mul(std);
      const values = /LayerNorm|ln_/.test(name) && name.endsWith('.weight') ? r.add(1) : r;
      p.data.set(values.data);
    }
  });
}
