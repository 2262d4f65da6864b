// Configs read from files are checked before a model is built: every field's type and range (a
// string epsilon, the string "false", 1e308, a number that overflows a double), then the sizes
// against the weights file's header. Hostile sizes (n_layer 1e9 or 1000, vocab_size 4e8 or 1.6e7,
// a quantized folder's nLayer) are loaded in a child process bounded in time and memory.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fromPretrained } from '../../src/models/index.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { loadAnyCheckpoint, quantizeCheckpoint } from '../../src/deploy/quantized.js';
import { createInferenceServer } from '../../src/deploy/server.js';
import { CharTokenizer } from '../../src/data/tokenizers/index.js';
import { bertCheckpoint, gptCheckpoint, tempDir, TEXT } from '../deploy/fixtures.js';
import { runBounded } from '../helpers.js';

/** Copy a model folder, then rewrite its config.json text through edit. */
function variant(src: string, dst: string, edit: (text: string) => string): string {
  fs.cpSync(src, dst, { recursive: true });
  const file = path.join(dst, 'config.json');
  fs.writeFileSync(file, edit(fs.readFileSync(file, 'utf8')));
  return dst;
}
const setField = (key: string, raw: string) => (text: string) => text.replace(new RegExp(`"${key}": [^,\\n]+`), `"${key}": ${raw}`);

/** load-child.ts on dirs, bounded to 20 s and 1 GB resident: its JSON lines, the peak RSS, and why it was killed, if it was. */
async function loadInChild(dirs: string[]) {
  const run = await runBounded(['test/models/load-child.ts', ...dirs]);
  const lines: { dir: string; error: string | null; ms: number }[] = run.stdout.split('\n').filter(Boolean).map((l) => JSON.parse(l));
  return { lines, peakMb: run.peakMb, killed: run.killed ?? (lines.length < dirs.length ? `exited early: ${run.stderr.slice(-300)}` : null) };
}

describe('model configs from files: types, ranges, and the weights file', function () {
  this.timeout(30_000);
  const work = tempDir('config-validate');
  const gpt = gptCheckpoint(path.join(work, 'gpt'));
  after(() => fs.rmSync(work, { recursive: true, force: true }));
  let n = 0;
  const refused = async (edit: (text: string) => string) => {
    const dir = variant(gpt, path.join(work, `v${n++}`), edit);
    return fromPretrained(dir).then(() => 'loaded', (e: Error) => e.message.replaceAll(dir + path.sep, ''));
  };

  it('a field of the wrong type or out of range is refused, naming the file, the field and the value', async () => {
    expect(await refused(setField('layer_norm_epsilon', '"abc"'))).to.equal(`config.json: field 'layer_norm_epsilon' must be a number in (0, 1] (got "abc")`);
    expect(await refused(setField('tie_word_embeddings', '"false"'))).to.equal(`config.json: field 'tie_word_embeddings' must be true or false (got "false")`);
    expect(await refused(setField('n_embd', '1e308'))).to.equal(`config.json: field 'n_embd' must be an integer in [1, 65536] (got 1e+308)`);
    expect(await refused(setField('n_embd', '1e400'))).to.equal(`config.json: field 'n_embd' must be an integer in [1, 65536] (got Infinity (a number too large for a double))`);
    expect(await refused(setField('n_layer', `${'['.repeat(10_000)}${']'.repeat(10_000)}`))).to.equal(`config.json: field 'n_layer' must be an integer in [1, 1024] (got [[[[…]]]])`);
    expect(await refused(setField('n_head', '3'))).to.equal(`config.json: field 'n_head' (3) must divide 'n_embd' (32)`);
    expect(await refused(setField('resid_pdrop', '-0.5'))).to.equal(`config.json: field 'resid_pdrop' must be a number in [0, 1] (got -0.5)`);
  });

  it('sizes the weights file does not back are refused from its header', async () => {
    expect(await refused(setField('n_layer', '3'))).to.equal(`config.json: field 'n_layer' is 3, but model.safetensors holds 2 layers`);
    expect(await refused(setField('vocab_size', '31'))).to.equal(`config.json: 'vocab_size' 31 and 'n_embd' 32 disagree with transformer.wte.weight in model.safetensors: shape [${CharTokenizer.fit(TEXT).vocabSize}, 32] in the file, [31, 32] from the config`);
  });

  it('a file with one tiny tensor under layer 1023 does not back n_layer 1024: refused by its element count', async () => {
    const dir = variant(gpt, path.join(work, 'sparse'), setField('n_layer', '1024'));
    const weights = path.join(dir, 'model.safetensors');
    const kept = Object.fromEntries(Object.entries(tg.io.load(weights)).filter(([name]) => !/\.h\.\d+\./.test(name)));
    tg.io.save(weights, { ...kept, 'transformer.h.1023.ln_1.weight': tg.ones([32]) });
    const message = await fromPretrained(dir).then(() => 'loaded', (e: Error) => e.message.replaceAll(dir + path.sep, ''));
    expect(message).to.match(/^config\.json describes a model of at least 12\d{6} weights, more than twice the \d{4,5} that model\.safetensors holds$/);
  });

  it("serve: trainer_state.json's options.blockSize of the wrong type is refused (was a NaN maxLength)", async () => {
    const dir = bertCheckpoint(path.join(work, 'bert'));
    const state = { format: 'tsgrad-trainer-state', version: 1, step: 0, rng: { c: 0, s0: 0, s1: 0, s2: 0 }, optimizer: { paramGroups: [] }, task: 'classify', options: { blockSize: 'abc' } };
    fs.writeFileSync(path.join(dir, 'trainer_state.json'), JSON.stringify(state));
    const ck = await loadAnyCheckpoint(dir);
    expect(() => createInferenceServer(ck)).to.throw(`serve: ${dir}/trainer_state.json: field 'options.blockSize' must be a positive integer (got "abc")`);
  });

  it('architectures and model_type that disagree are named as such (was "declares BertModel, not BertModel")', async () => {
    const message = await refused((text) => text.replace('"GPT2LMHeadModel"', '"BertModel"'));
    expect(message).to.equal(`fromPretrained: config.json: field 'architectures' says BertModel (a bert model) but field 'model_type' says "gpt2"`);
  });

  it('n_layer 1e9, vocab_size 4e8, a quantized nLayer 1e9: refused in a child process within 20 s and 1 GB', async () => {
    const int8 = path.join(work, 'int8');
    quantizeCheckpoint(await loadCheckpoint(gpt), int8);
    const dirs = [
      variant(gpt, path.join(work, 'layers'), setField('n_layer', '1000000000')),
      variant(gpt, path.join(work, 'vocab'), setField('vocab_size', '400000000')),
      variant(int8, path.join(work, 'int8-layers'), (text) => text.replace(/"nLayer": \d+/, '"nLayer": 1000000000')),
      variant(gpt, path.join(work, 'layers-1000'), setField('n_layer', '1000')),
      variant(gpt, path.join(work, 'vocab-16m'), setField('vocab_size', '16000000')),
      variant(int8, path.join(work, 'int8-layers-1000'), (text) => text.replace(/"nLayer": \d+/, '"nLayer": 1000')),
    ];
    const { lines, peakMb, killed } = await loadInChild(dirs);
    console.log(`      ${lines.length} hostile configs: ${lines.map((l) => `${l.ms} ms`).join(', ')}; peak RSS ${peakMb} MB${killed ? `; killed: ${killed}` : ''}`);
    expect(killed).to.equal(null);
    expect(lines[0].error).to.match(/config\.json: field 'n_layer' must be an integer in \[1, 1024\] \(got 1000000000\)/);
    expect(lines[1].error).to.match(/config\.json: field 'vocab_size' must be an integer in \[1, 16777216\] \(got 400000000\)/);
    expect(lines[2].error).to.match(/config\.json: quantization_config\.model\.config: field 'nLayer' must be an integer in \[1, 1024\] \(got 1000000000\)/);
    expect(lines[3].error).to.match(/config\.json: field 'n_layer' is 1000, but .*model\.safetensors holds 2 layers/);
    expect(lines[4].error).to.match(/config\.json: 'vocab_size' 16000000 and 'n_embd' 32 disagree with transformer\.wte\.weight in .*: shape \[\d+, 32\] in the file, \[16000000, 32\] from the config/);
    expect(lines[5].error).to.match(/config\.json: quantization_config\.model: field 'nLayer' is 1000, but .*model\.safetensors holds 2 layers/);
  });
});
