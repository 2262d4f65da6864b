// Small checkpoints for the deployment tests, written as `tsgrad train` writes a model folder
// (config.json + model.safetensors + tokenizer.json), from seeded random weights: a character GPT
// and a BERT classifier. Trained weights are not needed to check that int8 copies behave alike.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tg from '../../src/index.js';
import { GPT, BertForSequenceClassification, savePretrained, type GPTConfig } from '../../src/models/index.js';
import { CharTokenizer, WordPieceTokenizer, saveTokenizer } from '../../src/data/tokenizers/index.js';

export const TEXT = 'The whale swam under the ship. The sea was grey and the wind was cold. ';

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `tsgrad-${prefix}-`));
}

/** A GPT over TEXT's characters in dir (tieWeights: its head is the token embedding). */
export function gptCheckpoint(dir: string, config: Partial<GPTConfig> = {}, seed = 1): string {
  tg.manualSeed(seed);
  const tokenizer = CharTokenizer.fit(TEXT);
  const model = new GPT({ vocabSize: tokenizer.vocabSize, nPositions: 32, nEmbd: 32, nLayer: 2, nHead: 2, dropout: 0, tieWeights: false, ...config });
  savePretrained(model, dir);
  saveTokenizer(tokenizer, dir);
  return dir;
}

export const SPAM = ['win money now', 'free prize claim now', 'cheap pills online', 'you won a free cruise'];
export const HAM = ['lunch at noon', 'see you at the meeting', 'the report is attached', 'call me tomorrow'];

/** A two-label BERT classifier with a WordPiece vocabulary learnt from SPAM and HAM. */
export function bertCheckpoint(dir: string, seed = 2): string {
  tg.manualSeed(seed);
  const tokenizer = WordPieceTokenizer.train([...SPAM, ...HAM], 80);
  const model = new BertForSequenceClassification({ vocabSize: tokenizer.vocabSize, hiddenSize: 32, numHiddenLayers: 2, numAttentionHeads: 2, intermediateSize: 64, maxPositionEmbeddings: 64 }, 2);
  savePretrained(model, dir);
  saveTokenizer(tokenizer, dir);
  return dir;
}
