// How much memory a training run needs, said before the model is built, and a refusal with the
// flags to change when it cannot fit (rather than a crash deep inside a step, or swapping).
// Every figure is float32 (4 bytes):
//   parameters P, gradients P, optimizer state 2P (Adam/AdamW: m and v) or P (SGD momentum);
//   activations kept for backward ≈ B·T·[L·(40·C + 5·H·T) + 3·V] values: per layer and token the
//   block's intermediates (LayerNorms 2C each, qkv and its head split 6C, attention output and
//   projection 3C, the MLP's 4C input, GELU's pieces ≈ 20C, residuals 2C) plus the attention maps
//   (scores, scaled, masked, softmax, dropout: 5 of H·T); the logits, their softmax and gradient 3V.
// tsgrad's autograd keeps each intermediate until backward reaches it, hence the generous counts;
// plus RUNTIME_BYTES for Node, the wasm kernels and the code. Against measured peak RSS (GPT-2 small,
// AdamW, 2 cores): 1 × 1024 estimated 6.9 GiB, measured 5.4; 2 × 256 with grad-accum 2 estimated
// 3.4 GiB, measured 4.2 (V8 frees typed arrays lazily, so micro-batches' garbage overlaps): about ±25%.
import * as fs from 'node:fs';
import * as os from 'node:os';
import { humanBytes } from './progress.js';

/** Node itself, the wasm kernels and tsgrad's code: what an empty run's RSS shows. */
export const RUNTIME_BYTES = 256 * 2 ** 20;

/** A transformer's shape, enough to count its parameters and activations. */
export interface TransformerShape {
  layers: number;
  width: number;
  heads: number;
  /** The MLP's hidden size (GPT-2: 4·width). */
  ffn: number;
  vocab: number;
  positions: number;
  /** The output layer shares the token embedding. */
  tiedOutput: boolean;
}

export interface MemoryEstimate {
  parameters: number;
  gradients: number;
  optimizer: number;
  activations: number;
  /** All four and RUNTIME_BYTES, in bytes. */
  total: number;
  /** The parameter count the bytes come from. */
  parameterCount: number;
}

/** Parameters of a GPT-style stack (BERT's is close): per layer 4C² + 2·C·F (attention, MLP) + biases and LayerNorms, then the embeddings. */
export function transformerParameters(s: TransformerShape): number {
  const C = s.width, F = s.ffn;
  const perLayer = 4 * C * C + 4 * C + 2 * C * F + F + C + 4 * C;
  return s.layers * perLayer + (s.vocab + s.positions) * C + 2 * C + (s.tiedOutput ? 0 : s.vocab * C + s.vocab); // an untied head has a bias
}

/** Bytes a training step needs at micro-batch B × block T (grad-accum does not add: micro-batches run one after another). */
export function estimateTrainingMemory(s: TransformerShape, batch: number, block: number, optimizer: 'adam' | 'adamw' | 'sgd'): MemoryEstimate {
  const P = transformerParameters(s);
  const perToken = s.layers * (40 * s.width + 5 * s.heads * block) + 3 * s.vocab;
  const activations = 4 * batch * block * perToken;
  const parameters = 4 * P, gradients = 4 * P, optimizerBytes = 4 * P * (optimizer === 'sgd' ? 1 : 2);
  return { parameters, gradients, optimizer: optimizerBytes, activations, total: RUNTIME_BYTES + parameters + gradients + optimizerBytes + activations, parameterCount: P };
}

/** Memory this process may still take: Linux's MemAvailable (free + reclaimable cache), capped by a cgroup limit; else os.freemem(). */
export function availableMemory(): number {
  let available = os.freemem();
  try {
    const m = /^MemAvailable:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
    if (m) available = Number(m[1]) * 1024;
  } catch {
    // not Linux: os.freemem() it is
  }
  try {
    const max = fs.readFileSync('/sys/fs/cgroup/memory.max', 'utf8').trim();
    if (/^\d+$/.test(max)) available = Math.min(available, Number(max) - Number(fs.readFileSync('/sys/fs/cgroup/memory.current', 'utf8').trim()));
  } catch {
    // no cgroup v2 limit
  }
  return available;
}

export function describeEstimate(e: MemoryEstimate, optimizer: string, batch: number, block: number): string {
  const state = optimizer === 'sgd' ? 'SGD momentum' : `${optimizer === 'adamw' ? 'AdamW' : 'Adam'} moments`;
  return `about ${humanBytes(e.total)} (runtime ${humanBytes(RUNTIME_BYTES)}, parameters ${humanBytes(e.parameters)}, gradients ${humanBytes(e.gradients)}, ${state} ${humanBytes(e.optimizer)}, activations ${humanBytes(e.activations)} at batch ${batch} × ${block} tokens)`;
}

/** Throw when the estimate exceeds `available`, naming it and the flags that shrink it. */
export function checkMemory(e: MemoryEstimate, available: number, optimizer: string, batch: number, block: number, gradAccum: number): void {
  if (e.total <= available) return;
  const keep = batch > 1 ? ` (--batch-size ${Math.max(1, Math.floor(batch / 2))} --grad-accum ${gradAccum * 2} keeps the effective batch of ${batch * gradAccum})` : '';
  throw new Error(`memory: this run needs ${describeEstimate(e, optimizer, batch, block)}, more than the ${humanBytes(available)} this machine has free; `
    + `activations shrink with a smaller --batch-size${keep} and a smaller --block-size (attention grows with its square); a smaller --model shrinks everything`);
}
