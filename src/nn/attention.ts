// Multi-head self-attention (D21): softmax(Q·Kᵀ/√d + mask)·V in H heads of d = C/H, on x [B, T, C].
// multiHeadAttention() is the one computation that nn.MultiheadAttention, GPT's CausalSelfAttention
// and BERT's BertSelfAttention all call; each keeps its own projections under its own (Hugging Face
// or PyTorch) names, so state dicts are unchanged: a FUSED input projection C → 3C (rows q, k, v:
// PyTorch's in_proj_weight, GPT-2's c_attn transposed) or separate query/key/value ones (BERT).
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { logicalNot, ne, where } from '../autograd/index.js';
import { Module } from './module.js';
import { Linear } from './linear.js';
import * as init from './init.js';
import { checkInput } from './helpers.js';
import { packedAttention, scaledDotProductAttention } from './functional.js';

/** Where queries, keys and values come from: one fused C → 3C Linear, or three C → C ones. */
export type QKVProjection = { qkv: Linear } | { query: Linear; key: Linear; value: Linear };

export interface AttentionComputeOptions {
  numHeads: number;
  /** Broadcastable to [B, H, T, T], as scaledDotProductAttention's (bool: true = allowed; float: added). */
  mask?: Tensor | null;
  causal?: boolean;
  /** Dropout probability on the attention weights (the caller passes 0 in eval mode). */
  dropout?: number;
}

/**
 * x (B, T, C) → project to q, k, v → split into H heads → softmax(QKᵀ/√d + mask)·V → merge heads →
 * `out` (C → C). With out null the merged heads (B, T, C) are returned: BERT projects them in its
 * BertSelfOutput, next to the residual and LayerNorm.
 */
export function multiHeadAttention(x: Tensor, proj: QKVProjection, out: Linear | null, { numHeads, mask = null, causal = false, dropout = 0 }: AttentionComputeOptions): Tensor {
  const [B, T, C] = x.shape, H = numHeads, D = C / H;
  let merged: Tensor; // (B, T, C)
  if ('qkv' in proj) {
    merged = packedAttention(proj.qkv.forward(x), H, { mask, causal, dropout }); // the heads read in place from (B, T, 3C)
  } else {
    const heads = (t: Tensor) => t.reshape(B, T, H, D).transpose(1, 2); // (B, H, T, D)
    const [q, k, v] = [proj.query, proj.key, proj.value].map((p) => heads(p.forward(x)));
    merged = scaledDotProductAttention(q, k, v, { mask, causal, dropout }).transpose(1, 2).reshape(B, T, C);
  }
  return out ? out.forward(merged) : merged;
}

export interface MultiheadAttentionOptions {
  /** Biases in inProj and outProj (default true). */
  bias?: boolean;
  /** Dropout on the attention weights, in training. */
  dropout?: number;
  /** Mask every later key (position j > i) by default. */
  causal?: boolean;
}

export interface AttentionMasks {
  /**
   * Broadcastable to [B, H, T, T]. bool: TRUE WHERE ATTENTION IS ALLOWED (the convention of
   * tg's scaledDotProductAttention, the opposite of torch.nn.MultiheadAttention's attn_mask);
   * float: added to the scores.
   */
  attnMask?: Tensor | null;
  /** [B, T]. bool/int: TRUE (nonzero) MARKS A PADDING KEY, which is ignored (as PyTorch); float: added. */
  keyPaddingMask?: Tensor | null;
}

/** A bool mask as scores to add: 0 where allowed, −∞ where not. */
const additive = (m: Tensor): Tensor => (m.dtype === 'bool' ? where(m, 0, -Infinity) : m);
const asBool = (m: Tensor): Tensor => (m.dtype === 'int32' ? ne(m, 0) : m);

/** Both masks as one: logical and of bool masks, else the sum of additive ones. */
function combine(a: Tensor | null, b: Tensor | null): Tensor | null {
  if (!a || !b) return a ?? b;
  if (a.dtype === 'bool' && b.dtype === 'bool') return where(a, b, a);
  return additive(a).add(additive(b));
}

/** [T, T] bool, true where key j ≤ query i. */
function causalMask(t: number): Tensor {
  const data = new Uint8Array(t * t);
  for (let i = 0; i < t; i++) data.fill(1, i * t, i * t + i + 1);
  return new Tensor(data, [t, t], 'bool');
}

export class MultiheadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly dropout: number;
  readonly causal: boolean;
  inProj: Linear;
  outProj: Linear;

  /** PyTorch's init: inProj weight Xavier-uniform, biases 0; outProj weight as Linear. */
  constructor(embedDim: number, numHeads: number, { bias = true, dropout = 0, causal = false }: MultiheadAttentionOptions = {}) {
    super();
    if (!Number.isInteger(numHeads) || numHeads < 1 || embedDim % numHeads !== 0) {
      throw new Error(`MultiheadAttention: embedDim (${embedDim}) must be divisible by numHeads (${numHeads})`);
    }
    this.embedDim = embedDim;
    this.numHeads = numHeads;
    this.headDim = embedDim / numHeads;
    this.dropout = dropout;
    this.causal = causal;
    this.inProj = new Linear(embedDim, 3 * embedDim, { bias });
    this.outProj = new Linear(embedDim, embedDim, { bias });
    init.xavierUniform(this.inProj.weight);
    if (this.inProj.bias) init.zeros(this.inProj.bias);
    if (this.outProj.bias) init.zeros(this.outProj.bias);
  }

  /** x [B, T, C] (or [T, C]) → [B, T, C]. */
  override forward(x: Tensor, { attnMask = null, keyPaddingMask = null }: AttentionMasks = {}): Tensor {
    const unbatched = x.ndim === 2;
    if (unbatched) x = x.unsqueeze(0);
    checkInput(x.ndim === 3 && x.shape[2] === this.embedDim, 'MultiheadAttention', `[B, T, ${this.embedDim}]`, x);
    const [B, T] = x.shape;
    let mask = attnMask ? asBool(attnMask) : null;
    if (keyPaddingMask) {
      if (keyPaddingMask.ndim !== 2 || keyPaddingMask.shape[0] !== B || keyPaddingMask.shape[1] !== T) {
        throw new Error(`MultiheadAttention: keyPaddingMask must have shape [${B}, ${T}] (got ${fmt(keyPaddingMask.shape)})`);
      }
      const pad = asBool(keyPaddingMask).reshape(B, 1, 1, T);
      mask = combine(mask, pad.dtype === 'bool' ? logicalNot(pad) : pad);
    }
    // a causal flag alone goes to the op; with another mask it is folded into that mask
    const causal = this.causal && !mask;
    if (this.causal && mask) mask = combine(causalMask(T), mask);
    const out = multiHeadAttention(x, { qkv: this.inProj }, this.outProj, { numHeads: this.numHeads, mask, causal, dropout: this.training ? this.dropout : 0 }); // (B, T, C)
    return unbatched ? out.squeeze(0) : out;
  }

  override extraRepr(): string {
    return `embed_dim=${this.embedDim}, num_heads=${this.numHeads}${this.dropout ? `, dropout=${this.dropout}` : ''}${this.causal ? ', causal=true' : ''}`;
  }
}
