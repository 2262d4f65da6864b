// Tokenizers and their registry. A folder's tokenizer is Hugging Face's tokenizer.json (with
// tokenizer_config.json, special_tokens_map.json and the vocab files) for BPE and WordPiece, so
// Hugging Face's libraries open it (hf.ts); char and word tokenizers, which have no exact
// equivalent there, keep tsgrad's own JSON in tsgrad_tokenizer.json. Reading also accepts a
// tokenizer.json in tsgrad's own schema (`type`: what tsgrad wrote before), and either JSON form.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { BPETokenizer } from './bpe.js';
import { CharTokenizer } from './char.js';
import { WordPieceTokenizer } from './wordpiece.js';
import { WordTokenizer } from './word.js';
import { fromHuggingFace, isHuggingFaceJSON, toHuggingFace } from './hf.js';
import type { Tokenizer, TokenizerJSON } from './tokenizer.js';
import { readJsonFile, writeFileAtomic } from '../files.js';

export type { Tokenizer, TokenizerJSON, TokenizerType } from './tokenizer.js';
export { CharTokenizer, type CharFitOptions } from './char.js';
export { WordTokenizer, padSequences, textToWordSequence, KERAS_FILTERS, type WordFitOptions, type PadOptions } from './word.js';
export { BPETokenizer, END_OF_TEXT, type BPEOptions } from './bpe.js';
export { BYTE_TO_UNICODE, UNICODE_TO_BYTE, GPT2_BYTE_ORDER, GPT2_PATTERN, pretokenize, toByteString } from './bytes.js';
export { WordPieceTokenizer, BERT_SPECIAL_TOKENS, MAX_INPUT_CHARS_PER_WORD, type WordPieceOptions, type WordPieceTrainOptions, type EncodedPair } from './wordpiece.js';
export { basicTokenize, type BasicOptions } from './bert-basic.js';
export { toHuggingFace, fromHuggingFace, isHuggingFaceJSON } from './hf.js';

/** Hugging Face's tokenizer.json (BPE, WordPiece; tsgrad's own schema in folders written before). */
export const TOKENIZER_FILE = 'tokenizer.json';
/** tsgrad's own JSON, for the char and word tokenizers. */
export const TSGRAD_TOKENIZER_FILE = 'tsgrad_tokenizer.json';
/** Every file saveTokenizer may write (what a copy of a checkpoint's tokenizer carries). */
export const TOKENIZER_FILES = [TOKENIZER_FILE, 'tokenizer_config.json', 'special_tokens_map.json', 'vocab.json', 'merges.txt', 'vocab.txt', TSGRAD_TOKENIZER_FILE] as const;

const readers: Record<string, (json: Record<string, unknown>) => Tokenizer> = {
  char: CharTokenizer.fromJSON,
  word: WordTokenizer.fromJSON,
  bpe: BPETokenizer.fromJSON,
  wordpiece: WordPieceTokenizer.fromJSON,
};

/** A tokenizer from its JSON form: what toJSON() gave, or a Hugging Face tokenizer.json. */
export function tokenizerFromJSON(json: unknown, where = 'tokenizerFromJSON'): Tokenizer {
  if (isHuggingFaceJSON(json)) return fromHuggingFace(json, where);
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw new Error(`tokenizerFromJSON: expected a JSON object with a "type" field`);
  const type = (json as TokenizerJSON).type;
  if (!Object.hasOwn(readers, type)) throw new Error(`tokenizerFromJSON: unknown tokenizer type ${JSON.stringify(type)} (known: ${Object.keys(readers).join(', ')}, or Hugging Face's schema with a "model")`);
  return readers[type](json as Record<string, unknown>);
}

/** The file holding a folder's tokenizer (tokenizer.json first), or null where there is none. */
export function tokenizerFileIn(dir: string): string | null {
  for (const name of [TOKENIZER_FILE, TSGRAD_TOKENIZER_FILE]) {
    const file = path.join(dir, name);
    if (fs.existsSync(file)) return file;
  }
  return null;
}

/** Whether a folder holds a tokenizer that loadTokenizer reads. */
export const hasTokenizer = (dir: string): boolean => tokenizerFileIn(dir) !== null;

/**
 * Load a tokenizer from a folder (its tokenizer.json or tsgrad_tokenizer.json), a .json file, a
 * JSON string, or an already parsed object. Errors name the file.
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
  const isDir = fs.existsSync(source) && fs.statSync(source).isDirectory();
  const file = isDir ? tokenizerFileIn(source) : source;
  if (file === null) throw new Error(`loadTokenizer: ${source} holds neither ${TOKENIZER_FILE} nor ${TSGRAD_TOKENIZER_FILE}`);
  const json = readJsonFile(file, 'loadTokenizer');
  try {
    return tokenizerFromJSON(json, file);
  } catch (e) {
    const message = (e as Error).message;
    throw new Error(message.includes(file) ? message : `loadTokenizer: ${file}: ${message}`, { cause: e });
  }
}

/**
 * Write a tokenizer into `dir` (savePretrained): Hugging Face's files for BPE and WordPiece,
 * tsgrad_tokenizer.json for the others, each atomically; the other kind's main file is removed so
 * an overwritten folder cannot load a stale tokenizer. Returns the main file's path.
 */
export function saveTokenizer(tokenizer: Tokenizer, dir: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const files = tokenizer instanceof BPETokenizer || tokenizer instanceof WordPieceTokenizer
    ? toHuggingFace(tokenizer)
    : { [TSGRAD_TOKENIZER_FILE]: JSON.stringify(tokenizer.toJSON()) };
  for (const [name, content] of Object.entries(files)) writeFileAtomic(path.join(dir, name), content);
  const main = Object.hasOwn(files, TOKENIZER_FILE) ? TOKENIZER_FILE : TSGRAD_TOKENIZER_FILE;
  fs.rmSync(path.join(dir, main === TOKENIZER_FILE ? TSGRAD_TOKENIZER_FILE : TOKENIZER_FILE), { force: true });
  return path.join(dir, main);
}
