// GPT: a decoder-only Transformer (GPT-2's layout) in one file, read top to bottom like minGPT.
// Token + position embeddings → nLayer pre-LN blocks (causal self-attention, GELU MLP) → final
// LayerNorm → logits. Module names are Hugging Face's GPT-2 names, so weights map one to one.
import { Tensor } from '../tensor/tensor.js';
import { arange } from '../tensor/creation.js';
import { random, withSeed } from '../tensor/random.js';
import { fmt } from '../tensor/shape.js';
import { noGrad } from '../autograd/engine.js';
import { cat } from '../autograd/ops/shape.js';
import { Module, Parameter } from '../nn/module.js';
import { Linear } from '../nn/linear.js';
import { Embedding } from '../nn/embedding.js';
import { LayerNorm } from '../nn/normalization.js';
import { Dropout } from '../nn/dropout.js';
import { ModuleList } from '../nn/container.js';
import { multiHeadAttention } from '../nn/attention.js';
import * as init from '../nn/init.js';
import * as F from '../nn/functional.js';

export interface GPTConfig {
  vocabSize: number;
  /** The block size: the longest context the model sees. */
  nPositions: number;
  nEmbd: number;
  nLayer: number;
  nHead: number;
  /** Dropout after embeddings, on attention weights and on residual branches (GPT-2: 0.1). */
  dropout: number;
  /** Biases in Linear layers and LayerNorms (GPT-2: true). */
  bias: boolean;
  /** Share the token embedding with the output layer (GPT-2: true). */
  tieWeights: boolean;
  /** 'tanh' is GPT-2's approximate GELU ('gelu_new'); 'none' the exact erf form. */
  gelu: 'tanh' | 'none';
  layerNormEpsilon: number;
}

export const defaultGPTConfig: GPTConfig = {
  vocabSize: 50257, nPositions: 1024, nEmbd: 768, nLayer: 12, nHead: 12,
  dropout: 0.1, bias: true, tieWeights: true, gelu: 'tanh', layerNormEpsilon: 1e-5,
};

export interface ModelOutput {
  logits: Tensor;
  loss: Tensor | null;
}

/** What forward returns when it is given targets (labels): the loss is there. */
export interface LossOutput extends ModelOutput {
  loss: Tensor;
}

/** Multi-head causal self-attention with one fused projection to queries, keys and values. */
class CausalSelfAttention extends Module {
  c_attn: Linear;
  c_proj: Linear;
  resid_dropout: Dropout;

  constructor(readonly config: GPTConfig) {
    super();
    if (config.nEmbd % config.nHead !== 0) throw new Error(`GPT: nEmbd ${config.nEmbd} is not divisible by nHead ${config.nHead}`);
    this.c_attn = new Linear(config.nEmbd, 3 * config.nEmbd, { bias: config.bias });
    this.c_proj = new Linear(config.nEmbd, config.nEmbd, { bias: config.bias });
    this.resid_dropout = new Dropout(config.dropout);
  }

  override forward(x: Tensor): Tensor {
    // softmax(QKᵀ/√hs) V with the causal mask (D21), heads split from the fused c_attn
    const y = multiHeadAttention(x, { qkv: this.c_attn }, this.c_proj, { numHeads: this.config.nHead, causal: true, dropout: this.training ? this.config.dropout : 0 }); // (B, T, C)
    return this.resid_dropout.forward(y);
  }
}

/** The position-wise MLP: C → 4C → GELU → C. */
class MLP extends Module {
  c_fc: Linear;
  c_proj: Linear;
  dropout: Dropout;

  constructor(readonly config: GPTConfig) {
    super();
    this.c_fc = new Linear(config.nEmbd, 4 * config.nEmbd, { bias: config.bias });
    this.c_proj = new Linear(4 * config.nEmbd, config.nEmbd, { bias: config.bias });
    this.dropout = new Dropout(config.dropout);
  }

  override forward(x: Tensor): Tensor {
    const h = F.gelu(this.c_fc.forward(x), { approximate: this.config.gelu }); // (B, T, 4C)
    return this.dropout.forward(this.c_proj.forward(h)); // (B, T, C)
  }
}

/** A pre-LN decoder block: x + attn(LN(x)), then x + mlp(LN(x)). */
class Block extends Module {
  ln_1: LayerNorm;
  attn: CausalSelfAttention;
  ln_2: LayerNorm;
  mlp: MLP;

  constructor(config: GPTConfig) {
    super();
    this.ln_1 = new LayerNorm(config.nEmbd, { eps: config.layerNormEpsilon, bias: config.bias });
    this.attn = new CausalSelfAttention(config);
    this.ln_2 = new LayerNorm(config.nEmbd, { eps: config.layerNormEpsilon, bias: config.bias });
    this.mlp = new MLP(config);
  }

  override forward(x: Tensor): Tensor {
    x = x.add(this.attn.forward(this.ln_1.forward(x)));
    return x.add(this.mlp.forward(this.ln_2.forward(x)));
  }
}

/** The body, under the name `transformer` as in Hugging Face's GPT2LMHeadModel. */
class GPTBody extends Module {
  wte: Embedding;
  wpe: Embedding;
  drop: Dropout;
  h: ModuleList<Block>;
  ln_f: LayerNorm;

  constructor(config: GPTConfig) {
    super();
    this.wte = new Embedding(config.vocabSize, config.nEmbd);
    this.wpe = new Embedding(config.nPositions, config.nEmbd);
    this.drop = new Dropout(config.dropout);
    this.h = new ModuleList(Array.from({ length: config.nLayer }, () => new Block(config)));
    this.ln_f = new LayerNorm(config.nEmbd, { eps: config.layerNormEpsilon, bias: config.bias });
  }
}

export interface GenerateOptions {
  temperature?: number;
  topK?: number | null;
  greedy?: boolean;
  /**
   * Sample from this seed's own random stream, leaving tsgrad's global stream where it was (the
   * same seed gives the same tokens whatever ran before); without it, draws from the global stream.
   */
  seed?: number;
}

export class GPT extends Module {
  readonly config: GPTConfig;
  transformer: GPTBody;
  lm_head: Linear;

  constructor(config: Partial<GPTConfig> = {}) {
    super();
    this.config = { ...defaultGPTConfig, ...config };
    const c = this.config;
    for (const key of ['vocabSize', 'nPositions', 'nEmbd', 'nLayer', 'nHead'] as const) {
      if (!Number.isInteger(c[key]) || c[key] <= 0) throw new Error(`GPT: config.${key} must be a positive integer (got ${c[key]})`);
    }
    this.transformer = new GPTBody(c);
    // an untied head keeps a bias when the model has biases (the char-GPT bench workload W5); a tied one has none, as GPT-2
    this.lm_head = new Linear(c.nEmbd, c.vocabSize, { bias: c.bias && !c.tieWeights });
    this.initWeights();
    if (c.tieWeights) this.lm_head.weight = this.transformer.wte.weight; // one Parameter, two names
  }

  /** GPT-2's init: N(0, 0.02) for weights, zeros for biases, residual projections N(0, 0.02/√(2·nLayer)). */
  private initWeights(): void {
    for (const [name, p] of this.namedParameters()) {
      if (name.endsWith('.bias')) init.zeros(p);
      else if (name.includes('ln_')) init.ones(p);
      else if (name.endsWith('c_proj.weight')) init.normal(p, 0, 0.02 / Math.sqrt(2 * this.config.nLayer));
      else init.normal(p, 0, 0.02);
    }
  }

  /** Parameters, counting the tied embedding once (what GPT-2's 124M counts). */
  override numParameters(): number {
    return this.parameters().reduce((n, p) => n + p.size, 0);
  }

  /**
   * idx int32 (B, T) → logits (B, T, V). With targets (B, T) — already aligned with the logits,
   * targets[t] = idx[t+1], −100 ignored — loss is the mean next-token cross-entropy (D12).
   */
  override forward(idx: Tensor, targets: Tensor): LossOutput;
  override forward(idx: Tensor, targets?: Tensor | null): ModelOutput;
  override forward(idx: Tensor, targets?: Tensor | null): ModelOutput {
    if (idx.dtype !== 'int32' || idx.ndim !== 2) throw new Error(`GPT.forward: idx must be int32 of shape [B, T] (got ${idx.dtype} ${fmt(idx.shape)})`);
    const [B, T] = idx.shape;
    if (T > this.config.nPositions) throw new Error(`GPT.forward: sequence length ${T} exceeds the block size ${this.config.nPositions}`);
    const { wte, wpe, drop, h, ln_f } = this.transformer;
    const pos = arange(T); // (T)
    let x = drop.forward(wte.forward(idx).add(wpe.forward(pos))); // (B, T, C)
    for (const block of h) x = block.forward(x); // (B, T, C)
    x = ln_f.forward(x);
    const logits = this.lm_head.forward(x); // (B, T, V)
    if (!targets) return { logits, loss: null };
    if (targets.ndim !== 2 || targets.shape[0] !== B || targets.shape[1] !== T) {
      throw new Error(`GPT.forward: targets of shape ${fmt(targets.shape)} do not match idx ${fmt(idx.shape)}`);
    }
    const loss = F.crossEntropy(logits.reshape(B * T, this.config.vocabSize), targets.reshape(B * T), { ignoreIndex: -100 });
    return { logits, loss };
  }

  /**
   * Append maxNewTokens tokens to idx (B, T), each sampled from the last position's distribution:
   * logits / temperature, keep the topK largest, softmax, draw (seeded) — or argmax when greedy.
   */
  generate(idx: Tensor, maxNewTokens: number, options: GenerateOptions = {}): Tensor {
    const { seed, ...rest } = options;
    if (seed === undefined) return this.#generate(idx, maxNewTokens, rest);
    if (!Number.isInteger(seed) || seed < 0) throw new Error(`GPT.generate: seed must be a non-negative integer (got ${seed})`);
    return withSeed(seed, () => this.#generate(idx, maxNewTokens, rest));
  }

  #generate(idx: Tensor, maxNewTokens: number, { temperature = 1, topK = null, greedy = false }: GenerateOptions): Tensor {
    if (!(temperature > 0)) throw new Error(`GPT.generate: temperature must be > 0 (got ${temperature})`);
    if (topK !== null && topK !== undefined && !(Number.isInteger(topK) && topK >= 1)) throw new Error(`GPT.generate: topK must be a positive integer (got ${topK})`);
    const wasTraining = this.training;
    this.eval();
    try {
      return noGrad(() => {
        let out = idx;
        for (let step = 0; step < maxNewTokens; step++) {
          const T = out.shape[1];
          const context = T > this.config.nPositions ? out.slice(1, T - this.config.nPositions) : out; // crop to the block size
          const { logits } = this.forward(context);
          const last = logits.slice(1, -1).reshape(out.shape[0], this.config.vocabSize); // (B, V)
          const next = new Int32Array(out.shape[0]);
          for (let b = 0; b < out.shape[0]; b++) next[b] = pickToken(last.data.subarray(b * this.config.vocabSize, (b + 1) * this.config.vocabSize), temperature, topK ?? null, greedy);
          out = cat([out, new Tensor(next, [out.shape[0], 1], 'int32')], 1);
        }
        return out;
      });
    } finally {
      this.train(wasTraining);
    }
  }
}

/** Sample one token id from a row of logits. */
function pickToken(logits: ArrayLike<number>, temperature: number, topK: number | null, greedy: boolean): number {
  const V = logits.length;
  let best = 0;
  for (let j = 1; j < V; j++) if (logits[j] > logits[best]) best = j;
  if (greedy) return best;
  let cutoff = -Infinity;
  if (topK !== null && topK < V) cutoff = Array.from(logits).sort((a, b) => b - a)[topK - 1]; // the k-th largest
  const weights = new Float64Array(V);
  let total = 0;
  for (let j = 0; j < V; j++) {
    weights[j] = logits[j] < cutoff ? 0 : Math.exp((logits[j] - logits[best]) / temperature);
    total += weights[j];
  }
  let u = random() * total;
  for (let j = 0; j < V; j++) {
    u -= weights[j];
    if (u < 0 && weights[j] > 0) return j;
  }
  return best;
}

export { Parameter };
