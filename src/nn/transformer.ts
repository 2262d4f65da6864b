// Transformer layers (D21). TransformerEncoderLayer is post-LayerNorm, as BERT and PyTorch's default:
//   x = LN₁(x + Dropout(SelfAttn(x)));  x = LN₂(x + Dropout(FFN(x))),  FFN = Linear → act → Dropout → Linear,
// act ReLU by default (PyTorch's nn.TransformerEncoderLayer), activation: 'gelu' for BERT's exact GELU.
// TransformerDecoderBlock is pre-LayerNorm and causal, as GPT-2:
//   x = x + Dropout(Attn(LN₁(x)));  x = x + Dropout(MLP(LN₂(x))),  MLP = Linear(C, 4C) → GELU(tanh) → Linear(4C, C).
import type { Tensor } from '../tensor/tensor.js';
import { Module } from './module.js';
import { Linear } from './linear.js';
import { GELU, ReLU } from './activation.js';
import { Dropout } from './dropout.js';
import { LayerNorm } from './normalization.js';
import { MultiheadAttention, type AttentionMasks } from './attention.js';

export interface TransformerEncoderLayerOptions {
  dimFeedforward?: number;
  dropout?: number;
  layerNormEps?: number;
  /** 'relu' (the default, as PyTorch's) or 'gelu' (exact, BERT's). */
  activation?: 'gelu' | 'relu';
  bias?: boolean;
}

/** BERT's layer (post-LN). Names follow PyTorch's TransformerEncoderLayer in camelCase. */
export class TransformerEncoderLayer extends Module {
  selfAttn: MultiheadAttention;
  linear1: Linear;
  activation: Module;
  dropout: Dropout;
  linear2: Linear;
  norm1: LayerNorm;
  norm2: LayerNorm;
  dropout1: Dropout;
  dropout2: Dropout;

  constructor(dModel: number, nHead: number, opts: TransformerEncoderLayerOptions = {}) {
    super();
    const { dimFeedforward = 2048, dropout = 0.1, layerNormEps = 1e-5, activation = 'relu', bias = true } = opts;
    if (activation !== 'gelu' && activation !== 'relu') throw new Error(`TransformerEncoderLayer: activation must be 'gelu' or 'relu' (got '${activation}')`);
    this.selfAttn = new MultiheadAttention(dModel, nHead, { bias, dropout });
    this.linear1 = new Linear(dModel, dimFeedforward, { bias });
    this.activation = activation === 'gelu' ? new GELU() : new ReLU();
    this.dropout = new Dropout(dropout);
    this.linear2 = new Linear(dimFeedforward, dModel, { bias });
    this.norm1 = new LayerNorm(dModel, { eps: layerNormEps, bias });
    this.norm2 = new LayerNorm(dModel, { eps: layerNormEps, bias });
    this.dropout1 = new Dropout(dropout);
    this.dropout2 = new Dropout(dropout);
  }

  /** x [B, T, C] → [B, T, C]; masks as MultiheadAttention's (keyPaddingMask: true marks padding). */
  override forward(x: Tensor, masks: AttentionMasks = {}): Tensor {
    x = this.norm1.forward(x.add(this.dropout1.forward(this.selfAttn.forward(x, masks))));
    const ffn = this.linear2.forward(this.dropout.forward(this.activation.forward(this.linear1.forward(x))));
    return this.norm2.forward(x.add(this.dropout2.forward(ffn)));
  }
}

/** Linear(C, hidden) → GELU → Linear(hidden, C): the position-wise MLP of a GPT block. */
export class FeedForward extends Module {
  fc: Linear;
  act: GELU;
  proj: Linear;

  constructor(dim: number, hidden: number, { bias = true, approximate = 'tanh' }: { bias?: boolean; approximate?: 'none' | 'tanh' } = {}) {
    super();
    this.fc = new Linear(dim, hidden, { bias });
    this.act = new GELU({ approximate });
    this.proj = new Linear(hidden, dim, { bias });
  }

  override forward(x: Tensor): Tensor {
    return this.proj.forward(this.act.forward(this.fc.forward(x)));
  }
}

export interface TransformerDecoderBlockOptions {
  /** Hidden size of the MLP (default 4·nEmbd). */
  dimFeedforward?: number;
  dropout?: number;
  layerNormEps?: number;
  bias?: boolean;
  /** 'tanh' (GPT-2, the default) or 'none' (exact). */
  geluApproximate?: 'none' | 'tanh';
  /** Causal self-attention (default true). */
  causal?: boolean;
}

/** GPT-2's block (pre-LN). Parameters: ln1, attn.inProj, attn.outProj, ln2, mlp.fc, mlp.proj. */
export class TransformerDecoderBlock extends Module {
  ln1: LayerNorm;
  attn: MultiheadAttention;
  ln2: LayerNorm;
  mlp: FeedForward;
  dropout: Dropout;

  constructor(nEmbd: number, nHead: number, opts: TransformerDecoderBlockOptions = {}) {
    super();
    const { dimFeedforward = 4 * nEmbd, dropout = 0, layerNormEps = 1e-5, bias = true, geluApproximate = 'tanh', causal = true } = opts;
    this.ln1 = new LayerNorm(nEmbd, { eps: layerNormEps, bias });
    this.attn = new MultiheadAttention(nEmbd, nHead, { bias, dropout, causal });
    this.ln2 = new LayerNorm(nEmbd, { eps: layerNormEps, bias });
    this.mlp = new FeedForward(nEmbd, dimFeedforward, { bias, approximate: geluApproximate });
    this.dropout = new Dropout(dropout);
  }

  /** x [B, T, C] → [B, T, C]. */
  override forward(x: Tensor, masks: AttentionMasks = {}): Tensor {
    x = x.add(this.dropout.forward(this.attn.forward(this.ln1.forward(x), masks)));
    return x.add(this.dropout.forward(this.mlp.forward(this.ln2.forward(x))));
  }
}
