// Tokenizers and their registry: save one next to a checkpoint as tokenizer.json, read it back
// by its `type` without knowing which kind it was.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BPETokenizer } from './bpe.js';
import { CharTokenizer } from './char.js';
import { WordPieceTokenizer } from './wordpiece.js';
import { WordTokenizer } from './word.js';
import type { Tokenizer, TokenizerJSON } from './tokenizer.js';
import { readJsonFile, writeFileAtomic } from '../files.js';

export type { Tokenizer, TokenizerJSON, TokenizerType } from './tokenizer.js';
export { CharTokenizer, type CharFitOptions } from './char.js';
export { WordTokenizer, padSequences, textToWordSequence, KERAS_FILTERS, type WordFitOptions, type PadOptions } from './word.js';
export { BPETokenizer, END_OF_TEXT, type BPEOptions } from './bpe.js';
export { BYTE_TO_UNICODE, UNICODE_TO_BYTE, GPT2_BYTE_ORDER, GPT2_PATTERN, pretokenize, toByteString } from './bytes.js';
export { WordPieceTokenizer, BERT_SPECIAL_TOKENS, type WordPieceOptions, type WordPieceTrainOptions, type EncodedPair } from './wordpiece.js';
export { basicTokenize, type BasicOptions } from './bert-basic.js';

export const TOKENIZER_FILE = 'tokenizer.json';

const readers: Record<string, (json: Record<string, unknown>) => Tokenizer> = {
  char: CharTokenizer.fromJSON,
  word: WordTokenizer.fromJSON,
  bpe: BPETokenizer.fromJSON,
  wordpiece: WordPieceTokenizer.fromJSON,
};

/** A tokenizer from its JSON form (what toJSON() gave). */
export function tokenizerFromJSON(json: unknown): Tokenizer {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error('tokenizerFromJSON: expected a JSON object with a "type" field');
  const type = (json as TokenizerJSON).type;
  if (!Object.hasOwn(readers, type)) throw new Error(`tokenizerFromJSON: unknown tokenizer type ${JSON.stringify(type)} (known: ${Object.keys(readers).join(', ')})`);
  return readers[type](json as Record<string, unknown>);
}

/**
 * Load a tokenizer from a checkpoint folder (its tokenizer.json), a .json file, a JSON string, or
 * an already parsed object.
 */
export function loadTokenizer(source: string | TokenizerJSON): Tokenizer {
  if (typeof source !== 'string') return tokenizerFromJSON(source);
  if (source.trimStart().startsWith('{')) {
    let json: unknown;
    try {
      json = JSON.parse(source);
    } catch (e) {
      throw new Error(`loadTokenizer: the string is not valid JSON (${(e as Error).message})`);
    }
    return tokenizerFromJSON(json);
  }
  const file = fs.existsSync(source) && fs.statSync(source).isDirectory() ? path.join(source, TOKENIZER_FILE) : source;
  return tokenizerFromJSON(readJsonFile(file, 'loadTokenizer'));
}

/** Write `dir/tokenizer.json` atomically; returns its path. */
export function saveTokenizer(tokenizer: Tokenizer, dir: string): string {
  const file = path.join(dir, TOKENIZER_FILE);
  fs.mkdirSync(dir, { recursive: true });
  writeFileAtomic(file, JSON.stringify(tokenizer.toJSON()));
  return file;
}
