// MultiheadAttention and the Transformer layers: hand-computed values, a reference written with
// plain ops, causal and key-padding properties (fast-check), and gradcheck of every parameter.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import { nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { f64, gradcheckModule, setValues } from './module-helpers.js';

/** softmax(QKᵀ/√d + mask)·V per head, from the module's weights, with plain ops. */
function reference(mha: nn.MultiheadAttention, x: Tensor, additiveMask?: Tensor): Tensor {
  const C = mha.embedDim, D = mha.headDim;
  const qkv = x.matmul(mha.inProj.weight.T).add(mha.inProj.bias!);
  const heads: Tensor[] = [];
  for (let h = 0; h < mha.numHeads; h++) {
    const part = (i: number) => qkv.slice(-1, i * C + h * D, i * C + (h + 1) * D);
    let scores = part(0).matmul(part(1).transpose(-1, -2)).div(Math.sqrt(D));
    if (additiveMask) scores = scores.add(additiveMask);
    heads.push(scores.softmax(-1).matmul(part(2)));
  }
  return tg.cat(heads, -1).matmul(mha.outProj.weight.T).add(mha.outProj.bias!);
}

const identityAttention = (C: number) => {
  const mha = new nn.MultiheadAttention(C, 1).double();
  const eye = tg.eye(C, { dtype: 'float64' });
  mha.inProj.weight.data.set(tg.cat([eye, eye, eye], 0).data);
  mha.outProj.weight.data.set(eye.data);
  return mha;
};

describe('nn.MultiheadAttention', () => {
  beforeEach(() => tg.manualSeed(3));

  it('computes softmax(x·xᵀ/√d)·x with identity projections (hand computed), causal and not', () => {
    const mha = identityAttention(2);
    const a = 1 / Math.SQRT2, p = Math.exp(a) / (Math.exp(a) + 1);
    const x = f64([[[1, 0], [0, 1]]]);
    assertClose(mha.forward(x).data, [p, 1 - p, 1 - p, p], 1e-12);
    const causal = identityAttention(2);
    (causal as { causal: boolean }).causal = true;
    assertClose(causal.forward(x).data, [1, 0, 1 - p, p], 1e-12);
  });

  it('matches a per-head reference with random weights (fused qkv rows in order q, k, v)', () => {
    const mha = new nn.MultiheadAttention(6, 3).double();
    for (const p of [mha.inProj.bias!, mha.outProj.bias!]) tg.nn.init.uniform(p, -0.5, 0.5);
    const x = tg.randn([2, 4, 6], { dtype: 'float64' });
    assertClose(mha.forward(x).data, reference(mha, x).data, 1e-12);
    assertClose(mha.forward(x.slice(0, 1, 2).squeeze(0)).data, reference(mha, x.slice(0, 1, 2).squeeze(0)).data, 1e-12); // unbatched [T, C]
    expect(mha.inProj.weight.shape).to.deep.equal([18, 6]);
    expect(Array.from(mha.inProj.bias!.data).every((v) => Math.abs(v) <= 0.5)).to.equal(true);
    expect(new nn.MultiheadAttention(6, 3).inProj.bias!.data.every((v) => v === 0)).to.equal(true); // PyTorch's init
  });

  it('attnMask: bool is true where allowed, float is added; both agree', () => {
    const mha = new nn.MultiheadAttention(4, 2).double();
    const x = tg.randn([1, 3, 4], { dtype: 'float64' });
    const allowed = tg.tensor([[true, false, true], [true, true, false], [false, false, true]]);
    const additive = tg.where(allowed, 0, -Infinity).to('float64');
    const expected = reference(mha, x, additive).data;
    assertClose(mha.forward(x, { attnMask: allowed }).data, expected, 1e-12);
    assertClose(mha.forward(x, { attnMask: additive }).data, expected, 1e-12);
  });

  it('causal: outputs up to t do not change when later tokens change (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 6 }), fc.integer({ min: 0, max: 1e6 }), (T, seed) => {
      tg.manualSeed(seed);
      const mha = new nn.MultiheadAttention(4, 2, { causal: true }).double();
      const x = tg.randn([2, T, 4], { dtype: 'float64' });
      const t = seed % (T - 1); // keep 0..t, change t+1..T−1
      const changed = tg.cat([x.slice(1, 0, t + 1), tg.randn([2, T - t - 1, 4], { dtype: 'float64' })], 1);
      const a = mha.forward(x).slice(1, 0, t + 1), b = mha.forward(changed).slice(1, 0, t + 1);
      assertClose(b.data, a.data, 1e-12);
      // and later outputs do change
      return T === t + 1 || mha.forward(x).slice(1, t + 1).data.some((v, i) => v !== mha.forward(changed).slice(1, t + 1).data[i]);
    }), { numRuns: 30 });
  });

  it('keyPaddingMask: padded keys (true) do not change the outputs of the other positions (property)', () => {
    fc.assert(fc.property(fc.integer({ min: 2, max: 6 }), fc.boolean(), fc.integer({ min: 0, max: 1e6 }), (T, causal, seed) => {
      tg.manualSeed(seed);
      const mha = new nn.MultiheadAttention(4, 2, { causal }).double();
      const lengths = [T, 1 + (seed % T)]; // sequence 1 is padded after its length
      const pad = tg.tensor(lengths.map((n) => Array.from({ length: T }, (_, j) => j >= n)));
      const x = tg.randn([2, T, 4], { dtype: 'float64' });
      const noise = tg.randn([2, T, 4], { dtype: 'float64' }).mul(pad.unsqueeze(-1));
      const a = mha.forward(x, { keyPaddingMask: pad }), b = mha.forward(x.add(noise), { keyPaddingMask: pad });
      for (let s = 0; s < 2; s++) {
        const n = lengths[s];
        assertClose(b.slice(0, s, s + 1).slice(1, 0, n).data, a.slice(0, s, s + 1).slice(1, 0, n).data, 1e-12);
      }
      return true;
    }), { numRuns: 30 });
  });

  it('keyPaddingMask matches an additive −∞ mask on those keys; int32 masks count as bool', () => {
    const mha = new nn.MultiheadAttention(4, 1).double();
    const x = tg.randn([2, 3, 4], { dtype: 'float64' });
    const pad = tg.tensor([[0, 0, 1], [0, 1, 1]], { dtype: 'int32' });
    const y = mha.forward(x, { keyPaddingMask: pad });
    for (let s = 0; s < 2; s++) {
      const additive = tg.tensor([[0, 0, -Infinity], [0, -Infinity, -Infinity]][s], { dtype: 'float64' });
      assertClose(y.slice(0, s, s + 1).data, reference(mha, x.slice(0, s, s + 1), additive).data, 1e-12);
    }
    expect(() => mha.forward(x, { keyPaddingMask: tg.zeros([2, 4]) })).to.throw(/keyPaddingMask must have shape \[2, 3\]/);
  });

  it('passes gradcheck for input and parameters (plain, causal with padding)', () => {
    const x = tg.randn([2, 3, 4], { dtype: 'float64', requiresGrad: true });
    const mha = new nn.MultiheadAttention(4, 2);
    tg.nn.init.uniform(mha.inProj.bias!, -0.5, 0.5);
    expect(gradcheckModule(mha, [x], (x) => mha.forward(x))).to.equal(true);
    const causal = new nn.MultiheadAttention(4, 2, { causal: true });
    const pad = tg.tensor([[false, false, false], [false, false, true]]);
    expect(gradcheckModule(causal, [x], (x) => causal.forward(x, { keyPaddingMask: pad }))).to.equal(true);
  });

  it('rejects an embedDim not divisible by numHeads and a wrong input size', () => {
    expect(() => new nn.MultiheadAttention(6, 4)).to.throw(/divisible/);
    expect(() => new nn.MultiheadAttention(4, 2).forward(tg.zeros([1, 2, 3]))).to.throw(/expected input \[B, T, 4\]/);
  });
});

describe('Transformer layers', () => {
  beforeEach(() => tg.manualSeed(4));

  it("TransformerEncoderLayer's activation is ReLU by default, as PyTorch's", () => {
    const layer = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0 }).double();
    expect(layer.activation).to.be.instanceOf(nn.ReLU);
    const x = tg.randn([2, 3, 4], { dtype: 'float64' });
    const x1 = tg.F.layerNorm(x.add(reference(layer.selfAttn, x)), [4], layer.norm1.weight, layer.norm1.bias);
    const ffn = tg.F.linear(tg.F.linear(x1, layer.linear1.weight, layer.linear1.bias).relu(), layer.linear2.weight, layer.linear2.bias);
    assertClose(layer.forward(x).data, tg.F.layerNorm(x1.add(ffn), [4], layer.norm2.weight, layer.norm2.bias).data, 1e-12);
  });

  it("TransformerEncoderLayer is post-LN: x = LN(x + attn(x)); x = LN(x + FFN(x)), exact GELU with activation: 'gelu'", () => {
    const layer = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0.1, activation: 'gelu' }).double().eval();
    setValues(layer.norm2.weight!, [1, 2, 3, 4]);
    const x = tg.randn([2, 3, 4], { dtype: 'float64' });
    const x1 = tg.F.layerNorm(x.add(reference(layer.selfAttn, x)), [4], layer.norm1.weight, layer.norm1.bias);
    const ffn = tg.F.linear(tg.F.linear(x1, layer.linear1.weight, layer.linear1.bias).gelu(), layer.linear2.weight, layer.linear2.bias);
    const expected = tg.F.layerNorm(x1.add(ffn), [4], layer.norm2.weight, layer.norm2.bias);
    assertClose(layer.forward(x).data, expected.data, 1e-12);
    expect(layer.namedParameters().map(([k]) => k)).to.deep.equal([
      'selfAttn.inProj.weight', 'selfAttn.inProj.bias', 'selfAttn.outProj.weight', 'selfAttn.outProj.bias',
      'linear1.weight', 'linear1.bias', 'linear2.weight', 'linear2.bias', 'norm1.weight', 'norm1.bias', 'norm2.weight', 'norm2.bias',
    ]);
  });

  it('TransformerDecoderBlock is pre-LN and causal: x = x + attn(LN(x)); x = x + MLP(LN(x)), GELU tanh', () => {
    const block = new nn.TransformerDecoderBlock(4, 2).double();
    const x = tg.randn([1, 3, 4], { dtype: 'float64' });
    const causal = tg.tensor([[0, -Infinity, -Infinity], [0, 0, -Infinity], [0, 0, 0]], { dtype: 'float64' });
    const x1 = x.add(reference(block.attn, tg.F.layerNorm(x, [4], block.ln1.weight, block.ln1.bias), causal));
    const h = tg.F.linear(tg.F.layerNorm(x1, [4], block.ln2.weight, block.ln2.bias), block.mlp.fc.weight, block.mlp.fc.bias);
    const expected = x1.add(tg.F.linear(h.gelu({ approximate: 'tanh' }), block.mlp.proj.weight, block.mlp.proj.bias));
    assertClose(block.forward(x).data, expected.data, 1e-12);
    expect(block.mlp.fc.weight.shape).to.deep.equal([16, 4]);
    expect(block.namedParameters().map(([k]) => k)).to.deep.equal([
      'ln1.weight', 'ln1.bias', 'attn.inProj.weight', 'attn.inProj.bias', 'attn.outProj.weight', 'attn.outProj.bias',
      'ln2.weight', 'ln2.bias', 'mlp.fc.weight', 'mlp.fc.bias', 'mlp.proj.weight', 'mlp.proj.bias',
    ]);
  });

  it('both pass gradcheck for input and every parameter (dropout 0)', () => {
    const x = tg.randn([2, 3, 4], { dtype: 'float64', requiresGrad: true });
    const enc = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 6, dropout: 0 });
    expect(gradcheckModule(enc, [x], (x) => enc.forward(x, { keyPaddingMask: tg.tensor([[false, false, true], [false, false, false]]) }))).to.equal(true);
    const dec = new nn.TransformerDecoderBlock(4, 2, { bias: false });
    expect(dec.ln1.bias).to.equal(null);
    expect(gradcheckModule(dec, [x], (x) => dec.forward(x))).to.equal(true);
  });

  it('dropout is active in training only', () => {
    const layer = new nn.TransformerEncoderLayer(4, 2, { dimFeedforward: 8, dropout: 0.5 });
    const x = tg.randn([1, 3, 4]);
    expect(Array.from(layer.forward(x).data)).to.not.deep.equal(Array.from(layer.forward(x).data));
    layer.eval();
    expect(Array.from(layer.forward(x).data)).to.deep.equal(Array.from(layer.forward(x).data));
  });
});
