// tsgrad's layers as ONNX subgraphs, each the same formula as the layer's forward.
import type { Tensor } from '../tensor/tensor.js';
import { GraphBuilder, float, int, ints } from './graph.js';

/** The named parameters a subgraph reads, with an error that names a missing one. */
export class Params {
  constructor(private readonly dict: Record<string, Tensor>, private readonly where: string) {}

  get(name: string): Tensor {
    const t = this.dict[name];
    if (!t) throw new Error(`${this.where}: the model has no parameter '${name}'`);
    return t;
  }

  has(name: string): boolean {
    return name in this.dict;
  }
}

/** y = x·Wᵀ + b, W [out, in] stored as in the stateDict; the Transpose is folded by the runtime. */
export function linear(b: GraphBuilder, x: string, p: Params, prefix: string, { output, bias = true }: { output?: string; bias?: boolean } = {}): string {
  const w = b.weight(`${prefix}.weight`, p.get(`${prefix}.weight`));
  const wT = b.node('Transpose', [w], { perm: ints([1, 0]) });
  const biasName = `${prefix}.bias`;
  if (!bias || !p.has(biasName)) return b.node('MatMul', [x, wT], {}, { output });
  return b.node('Add', [b.node('MatMul', [x, wT]), b.weight(biasName, p.get(biasName))], {}, { output });
}

/** LayerNorm over the last dim: (x − μ)/√(σ² + eps)·γ + β (β omitted when the model has no biases). */
export function layerNorm(b: GraphBuilder, x: string, p: Params, prefix: string, eps: number): string {
  const inputs = [x, b.weight(`${prefix}.weight`, p.get(`${prefix}.weight`))];
  if (p.has(`${prefix}.bias`)) inputs.push(b.weight(`${prefix}.bias`, p.get(`${prefix}.bias`)));
  return b.node('LayerNormalization', inputs, { axis: int(-1), epsilon: float(eps) });
}

/** GELU at opset 17 (the Gelu op arrives in 20): x·Φ(x) = ½x(1 + erf(x/√2)), or ½x(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function gelu(b: GraphBuilder, x: string, approximate: 'none' | 'tanh'): string {
  const half = b.node('Mul', [x, b.constant(0.5)]);
  let inner: string;
  if (approximate === 'none') {
    inner = b.node('Erf', [b.node('Mul', [x, b.constant(Math.SQRT1_2)])]);
  } else {
    const cube = b.node('Mul', [b.node('Mul', [x, x]), x]);
    const arg = b.node('Add', [x, b.node('Mul', [cube, b.constant(0.044715)])]);
    inner = b.node('Tanh', [b.node('Mul', [arg, b.constant(Math.sqrt(2 / Math.PI))])]);
  }
  return b.node('Mul', [half, b.node('Add', [inner, b.constant(1)])]);
}

/** The activations tsgrad's models name, as ONNX nodes. */
export function activation(b: GraphBuilder, x: string, name: 'relu' | 'sigmoid' | 'tanh' | 'gelu' | 'gelu_new'): string {
  switch (name) {
    case 'relu': return b.node('Relu', [x]);
    case 'sigmoid': return b.node('Sigmoid', [x]);
    case 'tanh': return b.node('Tanh', [x]);
    case 'gelu': return gelu(b, x, 'none');
    case 'gelu_new': return gelu(b, x, 'tanh');
  }
}

/** (B, T, C) → (B, nh, T, hs): Reshape with 0 = "keep this dim", then swap T and the heads. */
export function splitHeads(b: GraphBuilder, x: string, nHead: number, headSize: number): string {
  const r = b.node('Reshape', [x, b.constant([0, 0, nHead, headSize], 'INT64')]);
  return b.node('Transpose', [r], { perm: ints([0, 2, 1, 3]) });
}

/** (B, nh, T, hs) → (B, T, C). */
export function mergeHeads(b: GraphBuilder, y: string, width: number): string {
  const t = b.node('Transpose', [y], { perm: ints([0, 2, 1, 3]) });
  return b.node('Reshape', [t, b.constant([0, 0, width], 'INT64')]);
}

/**
 * softmax(Q·Kᵀ/√hs, masked) · V on (B, nh, T, hs). `allowed` is a bool mask broadcastable to
 * (B, nh, T, T), true = attend; masked scores are −∞. As tsgrad's scaledDotProductAttention, a
 * row with no allowed key gets zero weights (softmax would give NaN): `zeroMaskedRows`.
 */
export function attention(b: GraphBuilder, q: string, k: string, v: string, headSize: number, allowed: string, { zeroMaskedRows = false } = {}): string {
  const kT = b.node('Transpose', [k], { perm: ints([0, 1, 3, 2]) }); // (B, nh, hs, T)
  const scores = b.node('Mul', [b.node('MatMul', [q, kT]), b.constant(1 / Math.sqrt(headSize))]); // (B, nh, T, T)
  const masked = b.node('Where', [allowed, scores, b.constant(-Infinity)]);
  let probs = b.node('Softmax', [masked], { axis: int(-1) });
  if (zeroMaskedRows) probs = b.node('Where', [allowed, probs, b.constant(0)]);
  return b.node('MatMul', [probs, v]); // (B, nh, T, hs)
}

/** The sequence length T of ids (B, T): as a scalar (for Range) and as a 1-element vector (for Slice). */
export function sequenceLength(b: GraphBuilder, ids: string): { scalar: string; vector: string } {
  const shape = b.node('Shape', [ids]);
  return {
    scalar: b.node('Gather', [shape, b.constant(1, 'INT64')], { axis: int(0) }),
    vector: b.node('Slice', [shape, b.constant([1], 'INT64'), b.constant([2], 'INT64')]),
  };
}

/** Rows 0..T−1 of a position-embedding table (P, C) → (T, C). */
export function firstRows(b: GraphBuilder, table: string, T: string): string {
  return b.node('Slice', [table, b.constant([0], 'INT64'), T, b.constant([0], 'INT64')]);
}
