// Hugging Face directories: savePretrained → fromPretrained round trips (GPT tied and untied, the
// three BERT classes), HF's layouts in the written files, refusals that name every bad key, and
// the names real hub files use.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import {
  GPT, BertModel, BertForMaskedLM, BertForSequenceClassification, fromPretrained, savePretrained, preset,
  type BertConfig, type GPTConfig,
} from '../../src/models/index.js';
import { assertClose } from '../helpers.js';

const gptConfig = (c: Partial<GPTConfig> = {}): Partial<GPTConfig> => ({ ...preset('gpt-nano'), vocabSize: 30, nPositions: 16, nEmbd: 16, dropout: 0.1, ...c });
const bertConfig: Partial<BertConfig> = {
  vocabSize: 30, hiddenSize: 16, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 32, maxPositionEmbeddings: 16,
};
const ids = () => tg.tensor([[1, 4, 9, 2, 7, 3], [5, 5, 0, 8, 1, 0]], { dtype: 'int32' });
const mask = () => tg.tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0]], { dtype: 'int32' });
const types = () => tg.tensor([[0, 0, 0, 1, 1, 1], [0, 0, 1, 1, 0, 0]], { dtype: 'int32' });

/** Rewrite model.safetensors through edit (tensors by name). */
function editWeights(dir: string, edit: (t: Record<string, Tensor>) => void): void {
  const tensors = tg.io.load(join(dir, 'model.safetensors'));
  edit(tensors);
  tg.io.save(join(dir, 'model.safetensors'), tensors, { format: 'pt' });
}

/** A safetensors file written by hand, so it can hold I64 as hub files do. */
function writeRaw(path: string, entries: { name: string; dtype: 'F32' | 'I64'; shape: number[]; bytes: Uint8Array }[]): void {
  const header: Record<string, unknown> = { __metadata__: { format: 'pt' } };
  let offset = 0;
  for (const e of entries) {
    header[e.name] = { dtype: e.dtype, shape: e.shape, data_offsets: [offset, offset + e.bytes.length] };
    offset += e.bytes.length;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  fs.writeFileSync(path, Buffer.concat([length, Buffer.from(json), ...entries.map((e) => Buffer.from(e.bytes))]));
}

const f32 = (t: Tensor) => new Uint8Array(Float32Array.from(t.data).buffer);

describe('Hugging Face directories', () => {
  let root: string;
  let n = 0;
  const dir = () => join(root, `model-${n++}`);
  before(() => { root = fs.mkdtempSync(join(os.tmpdir(), 'tsgrad-hf-')); });
  after(() => fs.rmSync(root, { recursive: true, force: true }));
  beforeEach(() => tg.manualSeed(11));

  it('GPT with tied embeddings: round trip, Conv1D weights stored [in, out], no lm_head.weight, GPT-2 config fields', async () => {
    const model = new GPT(gptConfig({ tieWeights: true, gelu: 'tanh' })).eval();
    const d = dir();
    model.savePretrained(d);
    const stored = tg.io.load(join(d, 'model.safetensors'));
    expect(stored['transformer.h.0.attn.c_attn.weight'].shape).to.deep.equal([16, 48]);
    expect(stored['transformer.h.1.mlp.c_fc.weight'].shape).to.deep.equal([16, 64]);
    expect(stored['transformer.h.1.mlp.c_proj.weight'].shape).to.deep.equal([64, 16]);
    expect(stored['transformer.h.0.attn.c_attn.weight'].data[1]).to.equal(model.transformer.h[0].attn.c_attn.weight.data[16]); // W[out=1, in=0] at [in=0, out=1]
    expect(stored).to.not.have.property('lm_head.weight');
    expect(stored).to.have.property('transformer.wte.weight');
    const config = JSON.parse(fs.readFileSync(join(d, 'config.json'), 'utf8'));
    expect(config).to.include({ model_type: 'gpt2', n_embd: 16, n_layer: 2, n_head: 2, n_positions: 16, vocab_size: 30, activation_function: 'gelu_new', tie_word_embeddings: true, resid_pdrop: 0.1 });
    expect(config.architectures).to.deep.equal(['GPT2LMHeadModel']);

    const loaded = await GPT.fromPretrained(d);
    expect(loaded).to.be.instanceOf(GPT);
    expect(loaded.training).to.equal(false);
    expect(loaded.config).to.deep.equal(model.config);
    expect(loaded.lm_head.weight).to.equal(loaded.transformer.wte.weight);
    expect(loaded.forward(ids()).logits.data).to.deep.equal(model.forward(ids()).logits.data);
  });

  it('GPT untied with a biased head (W5) and GPT without biases round trip through tsgrad fields', async () => {
    for (const c of [gptConfig({ tieWeights: false, gelu: 'none' }), gptConfig({ tieWeights: false, bias: false })]) {
      const model = new GPT(c).eval();
      const d = dir();
      savePretrained(model, d);
      const stored = tg.io.load(join(d, 'model.safetensors'));
      expect(stored).to.have.property('lm_head.weight');
      expect('lm_head.bias' in stored).to.equal(model.config.bias);
      const config = JSON.parse(fs.readFileSync(join(d, 'config.json'), 'utf8'));
      expect(config.tie_word_embeddings).to.equal(false);
      expect(config.activation_function).to.equal(model.config.gelu === 'none' ? 'gelu' : 'gelu_new');
      const loaded = await fromPretrained(d) as GPT;
      expect(loaded.config).to.deep.equal(model.config);
      expect(loaded.forward(ids()).logits.data).to.deep.equal(model.forward(ids()).logits.data);
    }
  });

  it('GPT loads hub-style files: no `transformer.` prefix, attn.bias / attn.masked_bias buffers, a tied lm_head copy', async () => {
    const model = new GPT(gptConfig({ tieWeights: true })).eval();
    const d = dir();
    model.savePretrained(d);
    editWeights(d, (t) => {
      for (const key of Object.keys(t)) {
        t[key.replace(/^transformer\./, '')] = t[key];
        delete t[key];
      }
      for (let i = 0; i < 2; i++) {
        t[`h.${i}.attn.bias`] = tg.ones([1, 1, 16, 16]);
        t[`h.${i}.attn.masked_bias`] = tg.tensor(-1e4);
      }
      t['lm_head.weight'] = t['wte.weight'];
    });
    const loaded = await GPT.fromPretrained(d);
    expect(loaded.forward(ids()).logits.data).to.deep.equal(model.forward(ids()).logits.data);
  });

  it('an untied GPT-2 file without lm_head.bias (as Hugging Face writes it) loads with a zero bias', async () => {
    const model = new GPT(gptConfig({ tieWeights: false })).eval();
    model.lm_head.bias!.data.fill(0);
    const d = dir();
    model.savePretrained(d);
    const config = JSON.parse(fs.readFileSync(join(d, 'config.json'), 'utf8'));
    delete config.tsgrad_lm_head_bias;
    fs.writeFileSync(join(d, 'config.json'), JSON.stringify(config));
    editWeights(d, (t) => { delete t['lm_head.bias']; });
    const loaded = await GPT.fromPretrained(d);
    expect(loaded.forward(ids()).logits.data).to.deep.equal(model.forward(ids()).logits.data);
  });

  it('BertModel, BertForMaskedLM and BertForSequenceClassification round trip with identical outputs', async () => {
    const base = new BertModel(bertConfig).eval();
    const mlm = new BertForMaskedLM(bertConfig).eval();
    const clf = new BertForSequenceClassification(bertConfig, 3).eval();
    const inputs = () => ({ attentionMask: mask(), tokenTypeIds: types() });

    const d1 = dir(), d2 = dir(), d3 = dir();
    base.savePretrained(d1);
    mlm.savePretrained(d2);
    clf.savePretrained(d3);
    expect(Object.keys(tg.io.load(join(d1, 'model.safetensors')))).to.include('embeddings.word_embeddings.weight').and.include('pooler.dense.weight');
    const mlmFile = tg.io.load(join(d2, 'model.safetensors'));
    expect(mlmFile).to.have.property('cls.predictions.bias');
    expect(mlmFile).to.not.have.property('cls.predictions.decoder.weight'); // tied: stored once
    expect(Object.keys(mlmFile).some((k) => k.startsWith('bert.pooler'))).to.equal(false);
    const clfConfig = JSON.parse(fs.readFileSync(join(d3, 'config.json'), 'utf8'));
    expect(clfConfig).to.include({ model_type: 'bert', hidden_size: 16, num_hidden_layers: 2, intermediate_size: 32, hidden_act: 'gelu', layer_norm_eps: 1e-12 });
    expect(Object.keys(clfConfig.id2label)).to.have.length(3);

    const b = await BertModel.fromPretrained(d1);
    const m = await BertForMaskedLM.fromPretrained(d2);
    const c = await fromPretrained(d3);
    expect(c).to.be.instanceOf(BertForSequenceClassification);
    const c3 = c as BertForSequenceClassification;
    expect(c3.numLabels).to.equal(3);
    expect([b.training, m.training, c3.training]).to.deep.equal([false, false, false]);
    const want = base.forward(ids(), inputs()), got = b.forward(ids(), inputs());
    expect(got.lastHiddenState.data).to.deep.equal(want.lastHiddenState.data);
    expect(got.pooledOutput!.data).to.deep.equal(want.pooledOutput!.data);
    expect(m.forward(ids(), inputs()).logits.data).to.deep.equal(mlm.forward(ids(), inputs()).logits.data);
    expect(m.cls.predictions.decoder.weight).to.equal(m.bert.embeddings.word_embeddings.weight);
    expect(c3.forward(ids(), inputs()).logits.data).to.deep.equal(clf.forward(ids(), inputs()).logits.data);
  });

  it('refuses a wrong shape, missing keys and unexpected keys, naming every one', async () => {
    const d = dir();
    new GPT(gptConfig()).savePretrained(d);
    editWeights(d, (t) => {
      t['transformer.h.0.attn.c_attn.weight'] = tg.zeros([16, 47]);
      delete t['transformer.h.1.ln_2.bias'];
      delete t['transformer.wpe.weight'];
      t['transformer.h.7.mlp.c_fc.weight'] = tg.zeros([2, 2]);
    });
    const error = await GPT.fromPretrained(d).then(() => null, (e: Error) => e);
    expect(error).to.be.instanceOf(Error);
    expect(error!.message).to.match(/model\.safetensors does not fit GPT2LMHeadModel/);
    expect(error!.message).to.match(/transformer\.h\.0\.attn\.c_attn\.weight: shape \[16, 47\] in the file, \[16, 48\] expected/);
    expect(error!.message).to.match(/missing keys: .*transformer\.wpe\.weight.*transformer\.h\.1\.ln_2\.bias|missing keys: .*transformer\.h\.1\.ln_2\.bias.*transformer\.wpe\.weight/);
    expect(error!.message).to.match(/unexpected keys: transformer\.h\.7\.mlp\.c_fc\.weight/);

    const b = dir();
    new BertForMaskedLM(bertConfig).savePretrained(b);
    editWeights(b, (t) => { delete t['bert.encoder.layer.1.output.dense.weight']; });
    await BertForMaskedLM.fromPretrained(b).then(() => expect.fail('loaded'), (e: Error) => expect(e.message).to.match(/missing keys: bert\.encoder\.layer\.1\.output\.dense\.weight/));
  });

  it('a BERT directory loaded as GPT (and the reverse) fails clearly', async () => {
    const b = dir(), g = dir();
    new BertForMaskedLM(bertConfig).savePretrained(b);
    new GPT(gptConfig()).savePretrained(g);
    await GPT.fromPretrained(b).then(() => expect.fail('loaded'), (e: Error) => expect(e.message).to.equal(`fromPretrained: ${join(b, 'config.json')} declares BertForMaskedLM, not GPT2LMHeadModel`));
    await BertModel.fromPretrained(g).then(() => expect.fail('loaded'), (e: Error) => expect(e.message).to.match(/declares GPT2LMHeadModel, not BertModel/));
    await fromPretrained(join(root, 'nowhere')).then(() => expect.fail('loaded'), (e: Error) => expect(e.message).to.match(/cannot read .*nowhere.*config\.json/));
  });

  it('BERT loads hub-style files: I64 position_ids, next-sentence head, pooler, decoder copies, gamma/beta names, BertModel keys with `bert.`', async () => {
    const mlm = new BertForMaskedLM(bertConfig).eval();
    const d = dir();
    mlm.savePretrained(d);
    const t = tg.io.load(join(d, 'model.safetensors'));
    const entries: Parameters<typeof writeRaw>[1] = Object.entries(t).map(([name, v]) => ({
      name: name.replace(/LayerNorm\.weight$/, 'LayerNorm.gamma').replace(/LayerNorm\.bias$/, 'LayerNorm.beta'), dtype: 'F32' as const, shape: [...v.shape], bytes: f32(v),
    }));
    const extra = (name: string, v: Tensor) => entries.push({ name, dtype: 'F32', shape: [...v.shape], bytes: f32(v) });
    entries.push({ name: 'bert.embeddings.position_ids', dtype: 'I64', shape: [1, 16], bytes: new Uint8Array(BigInt64Array.from({ length: 16 }, (_, i) => BigInt(i)).buffer) });
    extra('cls.seq_relationship.weight', tg.zeros([2, 16]));
    extra('cls.seq_relationship.bias', tg.zeros([2]));
    extra('bert.pooler.dense.weight', tg.zeros([16, 16]));
    extra('bert.pooler.dense.bias', tg.zeros([16]));
    extra('cls.predictions.decoder.weight', t['bert.embeddings.word_embeddings.weight']);
    extra('cls.predictions.decoder.bias', t['cls.predictions.bias']);
    writeRaw(join(d, 'model.safetensors'), entries);
    const loaded = await BertForMaskedLM.fromPretrained(d);
    expect(loaded.forward(ids(), { attentionMask: mask() }).logits.data).to.deep.equal(mlm.forward(ids(), { attentionMask: mask() }).logits.data);

    const base = new BertModel(bertConfig).eval();
    const e = dir();
    base.savePretrained(e);
    editWeights(e, (w) => {
      for (const key of Object.keys(w)) {
        w[`bert.${key}`] = w[key];
        delete w[key];
      }
    });
    const b = await BertModel.fromPretrained(e);
    expect(b.forward(ids()).lastHiddenState.data).to.deep.equal(base.forward(ids()).lastHiddenState.data);
  });

  it('loads directories written by transformers 5.17 (save_pretrained) and reproduces its outputs', async () => {
    const root = join(import.meta.dirname, 'fixtures', 'from-transformers');
    const want = JSON.parse(fs.readFileSync(join(root, 'outputs.json'), 'utf8'));
    const ids = tg.tensor(want.ids, { dtype: 'int32' });
    const inputs = { attentionMask: tg.tensor(want.mask, { dtype: 'int32' }), tokenTypeIds: tg.tensor(want.types, { dtype: 'int32' }) };
    const close = (got: Tensor, expected: unknown, what: string) => assertClose(got.data, (expected as number[]).flat(3), 1e-5, 1e-4, what);
    const gpt = await GPT.fromPretrained(join(root, 'gpt2'));
    expect(gpt.config).to.include({ vocabSize: 30, nEmbd: 16, gelu: 'tanh', tieWeights: true });
    close(gpt.forward(ids).logits, want.gpt2, 'gpt2 logits');
    const bert = (await fromPretrained(join(root, 'bert'))) as BertModel;
    const out = bert.forward(ids, inputs);
    close(out.lastHiddenState, want.bert.last, 'bert lastHiddenState');
    close(out.pooledOutput!, want.bert.pooled, 'bert pooledOutput');
    close((await BertForMaskedLM.fromPretrained(join(root, 'mlm'))).forward(ids, inputs).logits, want.mlm, 'mlm logits');
    const clf = await BertForSequenceClassification.fromPretrained(join(root, 'clf'));
    expect(clf.numLabels).to.equal(3);
    close(clf.forward(ids, inputs).logits, want.clf, 'classifier logits');
  });

  it('fine-tuning start: a classifier from an MLM checkpoint keeps the encoder and reports its new weights', async () => {
    const mlm = new BertForMaskedLM(bertConfig).eval();
    const d = dir();
    mlm.savePretrained(d);
    const notes: string[] = [];
    const clf = await BertForSequenceClassification.fromPretrained(d, { numLabels: 4, warn: (m) => notes.push(m) });
    expect(clf.numLabels).to.equal(4);
    expect(clf.bert.encoder.layer[1].output.dense.weight.data).to.deep.equal(mlm.bert.encoder.layer[1].output.dense.weight.data);
    expect(notes).to.have.length(1);
    expect(notes[0]).to.match(/BertForMaskedLM checkpoint.*newly initialised.*bert\.pooler\.dense\.weight.*classifier\.weight/);
    const body = await BertModel.fromPretrained(d, { warn: (m) => notes.push(m) });
    expect(body.forward(ids()).lastHiddenState.data).to.deep.equal(mlm.bert.forward(ids()).lastHiddenState.data);
  });
});
