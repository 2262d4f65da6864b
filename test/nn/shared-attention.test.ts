// One attention computation: nn.MultiheadAttention, GPT's CausalSelfAttention and BERT's
// BertSelfAttention all run nn.multiHeadAttention. With the same weights (MultiheadAttention's fused
// inProj copied into GPT's c_attn and split row-wise into BERT's query, key, value) the three agree
// with each other and with a per-head reference written with plain ops.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { nn, models } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';

const C = 8, H = 2, D = C / H, T = 5;

/** softmax(QKᵀ/√d + additive)·V per head, then the output projection, with plain ops. */
function reference(mha: nn.MultiheadAttention, x: Tensor, additive?: Tensor): Tensor {
  const qkv = x.matmul(mha.inProj.weight.T).add(mha.inProj.bias!);
  const heads: Tensor[] = [];
  for (let h = 0; h < H; h++) {
    const part = (i: number) => qkv.slice(-1, i * C + h * D, i * C + (h + 1) * D);
    let scores = part(0).matmul(part(1).transpose(-1, -2)).div(Math.sqrt(D));
    if (additive) scores = scores.add(additive);
    heads.push(scores.softmax(-1).matmul(part(2)));
  }
  return tg.cat(heads, -1).matmul(mha.outProj.weight.T).add(mha.outProj.bias!);
}

function randomMha(causal: boolean): nn.MultiheadAttention {
  const mha = new nn.MultiheadAttention(C, H, { causal }).double();
  for (const p of [mha.inProj.bias!, mha.outProj.bias!]) tg.nn.init.uniform(p, -0.5, 0.5);
  return mha.eval();
}

const copy = (to: Tensor, from: Tensor) => to.data.set(from.data);

describe('nn.multiHeadAttention: the one attention of MultiheadAttention, GPT and BERT', () => {
  beforeEach(() => tg.manualSeed(11));

  it('GPT\'s causal self-attention equals MultiheadAttention({ causal: true }) and the reference', () => {
    const mha = randomMha(true);
    const gpt = new models.GPT({ vocabSize: 10, nPositions: 8, nEmbd: C, nLayer: 1, nHead: H, dropout: 0 }).double().eval();
    const attn = gpt.transformer.h.get(0).attn;
    copy(attn.c_attn.weight, mha.inProj.weight); copy(attn.c_attn.bias!, mha.inProj.bias!);
    copy(attn.c_proj.weight, mha.outProj.weight); copy(attn.c_proj.bias!, mha.outProj.bias!);
    const x = tg.randn([2, T, C], { dtype: 'float64' });
    const causal = tg.where(tg.tensor(Array.from({ length: T }, (_, i) => Array.from({ length: T }, (_, j) => j <= i))), 0, -Infinity).to('float64');
    const want = reference(mha, x, causal).data;
    assertClose(mha.forward(x).data, want, 1e-12);
    assertClose(attn.forward(x).data, want, 1e-12);
    assertClose(nn.multiHeadAttention(x, { qkv: mha.inProj }, mha.outProj, { numHeads: H, causal: true }).data, want, 1e-12);
  });

  it('BERT\'s self-attention (separate q, k, v; output dense in BertSelfOutput) equals MultiheadAttention with a key padding mask', () => {
    const mha = randomMha(false);
    const bert = new models.BertModel({ vocabSize: 10, hiddenSize: C, numHiddenLayers: 1, numAttentionHeads: H, intermediateSize: 16, maxPositionEmbeddings: 8 }).double().eval();
    const self = bert.encoder.layer.get(0).attention.self;
    const rows = (t: Tensor, i: number) => t.slice(0, i * C, (i + 1) * C);
    [self.query, self.key, self.value].forEach((lin, i) => { copy(lin.weight, rows(mha.inProj.weight, i)); copy(lin.bias!, rows(mha.inProj.bias!, i)); });
    const x = tg.randn([2, T, C], { dtype: 'float64' });
    const padding = tg.tensor([[false, false, false, false, false], [false, false, false, true, true]]); // MultiheadAttention: true = padding
    const allowed = tg.logicalNot(padding).reshape(2, 1, 1, T); // BERT: true = attend
    const merged = self.forward(x, allowed); // (B, T, C), before BertSelfOutput.dense
    const bertOut = merged.matmul(mha.outProj.weight.T).add(mha.outProj.bias!);
    const mhaOut = mha.forward(x, { keyPaddingMask: padding });
    assertClose(bertOut.data, mhaOut.data, 1e-12);
    for (let s = 0; s < 2; s++) {
      const additive = tg.tensor([[0, 0, 0, 0, 0], [0, 0, 0, -Infinity, -Infinity]][s], { dtype: 'float64' });
      assertClose(mhaOut.slice(0, s, s + 1).data, reference(mha, x.slice(0, s, s + 1), additive).data, 1e-12);
    }
    expect(nn.multiHeadAttention(x, { query: self.query, key: self.key, value: self.value }, null, { numHeads: H, mask: allowed }).data).to.deep.equal(merged.data);
  });
});
