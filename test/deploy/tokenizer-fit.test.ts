// A checkpoint's tokenizer and model are checked against each other at load: a tokenizer.json
// that can write ids past the model's vocabulary is refused with both sizes named, instead of an
// HTTP 500 `embedding: index 55 is out of range` on the first prompt that uses a new token, or a
// process that grows past a gigabyte (a BPE vocabulary with an id of 1e8, through `tsgrad generate`).
import { expect } from 'chai';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as tg from '../../src/index.js';
import { GPT, savePretrained } from '../../src/models/index.js';
import { BPETokenizer, CharTokenizer, saveTokenizer } from '../../src/data/tokenizers/index.js';
import { loadAnyCheckpoint, quantizeCheckpoint } from '../../src/deploy/quantized.js';
import { loadCheckpoint } from '../../src/train/checkpoint.js';
import { gptCheckpoint, tempDir, TEXT } from './fixtures.js';
import { runBounded } from '../helpers.js';

describe('deploy: the tokenizer must fit the model', function () {
  this.timeout(30_000);
  const work = tempDir('tokenizer-fit');
  after(() => fs.rmSync(work, { recursive: true, force: true }));
  const refusal = (dir: string) => loadAnyCheckpoint(dir).then(() => 'loaded', (e: Error) => e.message);

  it('two characters more in tokenizer.json than the model has rows: refused at load, float and int8', async () => {
    const float = gptCheckpoint(path.join(work, 'gpt'));
    const int8 = path.join(work, 'gpt-int8');
    quantizeCheckpoint(await loadCheckpoint(float), int8);
    const rows = CharTokenizer.fit(TEXT).vocabSize;
    for (const dir of [float, int8]) {
      saveTokenizer(CharTokenizer.fit(`${TEXT}Z@`), dir);
      expect(await refusal(dir)).to.equal(`checkpoint: ${dir}: tokenizer.json has ${rows + 2} tokens but the model's vocabulary (config.json vocab_size) has ${rows}: ids ${rows}–${rows + 1} would be out of range of its embedding; pair the model with the tokenizer it was trained with`);
    }
  });

  it('a model vocabulary padded past the tokenizer still loads', async () => {
    const dir = gptCheckpoint(path.join(work, 'padded'), { vocabSize: 64 });
    expect(await refusal(dir)).to.equal('loaded');
  });

  it('a BPE vocabulary with an id of 1e8: `tsgrad generate` refuses it in a child bounded to 20 s and 1 GB', async () => {
    const dir = path.join(work, 'bpe');
    tg.manualSeed(3);
    const tokenizer = BPETokenizer.train(TEXT, 270);
    savePretrained(new GPT({ vocabSize: tokenizer.vocabSize, nPositions: 16, nEmbd: 16, nLayer: 1, nHead: 2, dropout: 0 }), dir);
    const json = tokenizer.toJSON() as unknown as { vocab: Record<string, number> };
    json.vocab['hostile'] = 1e8;
    fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(json));
    const run = await runBounded(['src/cli/main.ts', 'generate', '--checkpoint', dir, '--prompt', 'The whale', '--max-new-tokens', '5']);
    console.log(`      id 1e8: exit ${run.code} after ${run.ms} ms (with node's start), peak RSS ${run.peakMb} MB${run.killed ? `, killed: ${run.killed}` : ''}`);
    expect(run.killed).to.equal(null);
    expect(run.code).to.equal(1);
    expect(run.stderr).to.include(`tokenizer.json has 100000001 tokens but the model's vocabulary (config.json vocab_size) has ${tokenizer.vocabSize}`);
  });
});
