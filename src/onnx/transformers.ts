// GPT and BERT as ONNX graphs, built from each model's config and stateDict with the same math as
// src/models/gpt.ts and bert.ts. Inputs are int64 [batch, sequence] (what other exporters emit);
// the first output is `logits`.
import { GPT, BertModel, BertForMaskedLM, BertForSequenceClassification } from '../models/index.js';
import type { BertConfig } from '../models/bert.js';
import { GraphBuilder, int, ints } from './graph.js';
import { Params, activation, attention, firstRows, gelu, layerNorm, linear, mergeHeads, sequenceLength, splitHeads } from './layers.js';

const IDS: ['batch', 'sequence'] = ['batch', 'sequence'];

/** GPT-2: input_ids → logits [batch, sequence, vocab]. Pre-LN blocks, fused QKV, causal attention. */
export function gptGraph(model: GPT): GraphBuilder {
  const c = model.config;
  const p = new Params(model.stateDict(), 'onnx.exportModel(GPT)');
  const b = new GraphBuilder('tsgrad-gpt');
  const ids = b.input('input_ids', 'INT64', IDS);
  const T = sequenceLength(b, ids);
  const wte = b.weight('transformer.wte.weight', p.get('transformer.wte.weight'));
  const tokens = b.node('Gather', [wte, ids], { axis: int(0) }); // (B, T, C)
  const positions = firstRows(b, b.weight('transformer.wpe.weight', p.get('transformer.wpe.weight')), T.vector); // (T, C)
  let x = b.node('Add', [tokens, positions]);
  // causal mask (T, T): key j is allowed for query i when j ≤ i
  const r = b.node('Range', [b.constant(0, 'INT64'), T.scalar, b.constant(1, 'INT64')]);
  const allowed = b.node('GreaterOrEqual', [
    b.node('Unsqueeze', [r, b.constant([1], 'INT64')]), b.node('Unsqueeze', [r, b.constant([0], 'INT64')]),
  ]);
  const C = c.nEmbd, nh = c.nHead, hs = C / nh;
  for (let l = 0; l < c.nLayer; l++) {
    const at = `transformer.h.${l}`;
    const qkv = linear(b, layerNorm(b, x, p, `${at}.ln_1`, c.layerNormEpsilon), p, `${at}.attn.c_attn`); // (B, T, 3C)
    const [q, k, v] = b.nodeN('Split', [qkv, b.constant([C, C, C], 'INT64')], 3, { axis: int(2) }).map((t) => splitHeads(b, t, nh, hs));
    const y = mergeHeads(b, attention(b, q, k, v, hs, allowed), C);
    x = b.node('Add', [x, linear(b, y, p, `${at}.attn.c_proj`)]);
    const h = gelu(b, linear(b, layerNorm(b, x, p, `${at}.ln_2`, c.layerNormEpsilon), p, `${at}.mlp.c_fc`), c.gelu); // (B, T, 4C)
    x = b.node('Add', [x, linear(b, h, p, `${at}.mlp.c_proj`)]);
  }
  x = layerNorm(b, x, p, 'transformer.ln_f', c.layerNormEpsilon);
  linear(b, x, p, 'lm_head', { output: 'logits' }); // tied: lm_head.weight is stored once, as transformer.wte.weight
  b.output('logits', 'logits', 'FLOAT', [...IDS, c.vocabSize]);
  return b;
}

/** The encoder: embeddings → post-LN layers; returns the last hidden state (B, T, C). */
function bertEncoder(b: GraphBuilder, p: Params, c: BertConfig, prefix: string): string {
  const e = `${prefix}embeddings`;
  const ids = b.input('input_ids', 'INT64', IDS);
  const mask = b.input('attention_mask', 'INT64', IDS);
  const types = b.input('token_type_ids', 'INT64', IDS);
  const T = sequenceLength(b, ids);
  const words = b.node('Gather', [b.weight(`${e}.word_embeddings.weight`, p.get(`${e}.word_embeddings.weight`)), ids], { axis: int(0) });
  const positions = firstRows(b, b.weight(`${e}.position_embeddings.weight`, p.get(`${e}.position_embeddings.weight`)), T.vector);
  const segments = b.node('Gather', [b.weight(`${e}.token_type_embeddings.weight`, p.get(`${e}.token_type_embeddings.weight`)), types], { axis: int(0) });
  let x = layerNorm(b, b.node('Add', [b.node('Add', [words, positions]), segments]), p, `${e}.LayerNorm`, c.layerNormEps);
  // attention_mask (B, T), 1 = attend → a bool key mask (B, 1, 1, T) for every head and query
  const allowed = b.node('Unsqueeze', [b.node('Cast', [mask], { to: int(9) }), b.constant([1, 2], 'INT64')]);
  const C = c.hiddenSize, nh = c.numAttentionHeads, hs = C / nh;
  for (let l = 0; l < c.numHiddenLayers; l++) {
    const at = `${prefix}encoder.layer.${l}`;
    const heads = (name: string) => splitHeads(b, linear(b, x, p, `${at}.attention.self.${name}`), nh, hs);
    const y = mergeHeads(b, attention(b, heads('query'), heads('key'), heads('value'), hs, allowed, { zeroMaskedRows: true }), C);
    const a = layerNorm(b, b.node('Add', [x, linear(b, y, p, `${at}.attention.output.dense`)]), p, `${at}.attention.output.LayerNorm`, c.layerNormEps);
    const h = activation(b, linear(b, a, p, `${at}.intermediate.dense`), c.hiddenAct); // (B, T, intermediateSize)
    x = layerNorm(b, b.node('Add', [a, linear(b, h, p, `${at}.output.dense`)]), p, `${at}.output.LayerNorm`, c.layerNormEps);
  }
  return x;
}

/** tanh(dense(h[:, 0])): the pooled [CLS] (B, C). */
function bertPooler(b: GraphBuilder, p: Params, h: string, prefix: string): string {
  const cls = b.node('Gather', [h, b.constant(0, 'INT64')], { axis: int(1) });
  return b.node('Tanh', [linear(b, cls, p, `${prefix}pooler.dense`)]);
}

/** BERT with its head: MLM logits (B, T, V), class logits (B, numLabels), or the bare encoder's states. */
export function bertGraph(model: BertModel | BertForMaskedLM | BertForSequenceClassification): GraphBuilder {
  const c = model.config;
  const p = new Params(model.stateDict(), `onnx.exportModel(${model.constructor.name})`);
  const b = new GraphBuilder(`tsgrad-${model.constructor.name}`);
  if (model instanceof BertModel) {
    const h = bertEncoder(b, p, c, '');
    b.output(h, 'last_hidden_state', 'FLOAT', [...IDS, c.hiddenSize]);
    if (model.pooler) b.output(bertPooler(b, p, h, ''), 'pooler_output', 'FLOAT', ['batch', c.hiddenSize]);
  } else if (model instanceof BertForMaskedLM) {
    const h = bertEncoder(b, p, c, 'bert.');
    const t = 'cls.predictions.transform';
    const z = layerNorm(b, activation(b, linear(b, h, p, `${t}.dense`), c.hiddenAct), p, `${t}.LayerNorm`, c.layerNormEps);
    // decoder: the word embeddings (tied, stored once) and the head's own bias
    const w = b.weight('cls.predictions.decoder.weight', p.get('cls.predictions.decoder.weight'));
    const y = b.node('MatMul', [z, b.node('Transpose', [w], { perm: ints([1, 0]) })]);
    b.node('Add', [y, b.weight('cls.predictions.bias', p.get('cls.predictions.bias'))], {}, { output: 'logits' });
    b.output('logits', 'logits', 'FLOAT', [...IDS, c.vocabSize]);
  } else {
    const pooled = bertPooler(b, p, bertEncoder(b, p, c, 'bert.'), 'bert.');
    linear(b, pooled, p, 'classifier', { output: 'logits' });
    b.output('logits', 'logits', 'FLOAT', ['batch', model.numLabels]);
  }
  return b;
}
