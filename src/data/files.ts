// Reading the files a user points at (corpora, TSVs, vocabularies, tokenizer.json): one place that
// gives an error naming the path when the file is missing, is a folder, or is too big to be one
// that tsgrad should read into a string (a hostile or mistaken path gets an error, not a huge allocation).
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Largest text file read whole: well under V8's ~512 MiB string limit. */
export const MAX_TEXT_BYTES = 256 * 1024 * 1024;

export function readTextFile(file: string, owner: string, maxBytes = MAX_TEXT_BYTES): string {
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    throw new Error(`${owner}: file not found: ${file}`);
  }
  if (stat.isDirectory()) throw new Error(`${owner}: ${file} is a folder, expected a file`);
  if (stat.size > maxBytes) throw new Error(`${owner}: ${file} is ${stat.size} bytes, more than the ${maxBytes} this reader accepts`);
  const text = fs.readFileSync(file, 'utf8');
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text; // a UTF-8 byte-order mark is not content
}

export function readJsonFile(file: string, owner: string, maxBytes = MAX_TEXT_BYTES): unknown {
  const text = readTextFile(file, owner, maxBytes);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${owner}: ${file} is not valid JSON (${(e as Error).message})`);
  }
}

/** Atomic writes (temporary file, fsync, rename) are tg.io's; re-exported for tokenizers. */
export { writeFileAtomic } from '../io/index.js';

/** Split text into lines, accepting \n and \r\n endings. */
export function splitLines(text: string): string[] {
  return text.split(/\r?\n/);
}
