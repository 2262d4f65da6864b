// A corpus of any size, read as a stream of text pieces with constant memory: `.txt` files (each
// file one document, read 64 KiB at a time), `.jsonl` files (each line one document, its text in a
// named field), or a folder of them. A piece of a long file ends at a place where cutting cannot
// change what a tokenizer makes of the text (see safeCut), so tokenizing the pieces one by one
// gives the ids of tokenizing each document whole.
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface CorpusOptions {
  /** The field of a .jsonl line that holds the text (default 'text'). */
  textField?: string;
  /** Bytes read per call (default 64 KiB: the arrays of one piece stay small, young garbage that never grows the heap). */
  chunkBytes?: number;
}

export interface CorpusPiece {
  text: string;
  /** True on the last piece of a document. */
  docEnd: boolean;
  /** Bytes of the corpus read so far (for progress). */
  bytesRead: number;
}

const CORPUS_EXTENSIONS = ['.txt', '.jsonl'];
/** One .jsonl line (one document) may not exceed this: a corrupt file gets an error, not a huge string. */
export const MAX_JSONL_LINE_BYTES = 64 * 1024 * 1024;

/** The files a --data PATH names: the file itself, or the .txt/.jsonl files of a folder (recursively, sorted). */
export function corpusFiles(paths: string | string[]): string[] {
  const out: string[] = [];
  const walk = (p: string, top: boolean) => {
    let stat: fs.Stats;
    try {
      stat = fs.statSync(p);
    } catch {
      throw new Error(`prepare: --data ${p}: no such file or folder`);
    }
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(p).sort()) if (!name.startsWith('.')) walk(path.join(p, name), false);
    } else if (CORPUS_EXTENSIONS.includes(path.extname(p).toLowerCase())) out.push(p);
    else if (top) throw new Error(`prepare: --data ${p}: expected a .txt or .jsonl file or a folder of them`);
  };
  for (const p of Array.isArray(paths) ? paths : [paths]) walk(p, true);
  if (out.length === 0) throw new Error(`prepare: --data ${[paths].flat().join(', ')} holds no .txt or .jsonl files`);
  return out;
}

/**
 * The last position p of s where a cut leaves every tokenizer's output unchanged: s[p] is one space
 * or newline after a visible ASCII character and before an ASCII letter or digit. GPT-2's
 * pretokenizer, BERT's whitespace split and a character tokenizer all end a token at p-1 and start
 * one at p there (a longer run of whitespace would pretokenize differently when cut). -1: none.
 */
export function safeCut(s: string): number {
  const alnum = (c: number) => (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122);
  for (let p = s.length - 2; p >= 1; p--) {
    const c = s.charCodeAt(p);
    if ((c === 32 || c === 10) && alnum(s.charCodeAt(p + 1))) {
      const before = s.charCodeAt(p - 1);
      if (before > 32 && before < 127) return p;
    }
  }
  return -1;
}

/** The pieces of every document of the corpus, in order. */
export function* corpusPieces(files: string[], opts: CorpusOptions = {}): Generator<CorpusPiece> {
  const chunkBytes = opts.chunkBytes ?? 1 << 16;
  const field = opts.textField ?? 'text';
  const buf = Buffer.allocUnsafe(chunkBytes);
  let bytesRead = 0;
  for (const file of files) {
    const jsonl = file.toLowerCase().endsWith('.jsonl');
    const decoder = new TextDecoder('utf-8'); // stream: a character split between two reads is kept for the next
    const fd = fs.openSync(file, 'r');
    let carry = '', first = true, line = 0;
    try {
      for (;;) {
        const n = fs.readSync(fd, buf, 0, chunkBytes, null);
        bytesRead += n;
        let text = carry + decoder.decode(buf.subarray(0, n), { stream: n > 0 });
        if (first) {
          if (text.charCodeAt(0) === 0xfeff) text = text.slice(1); // a byte-order mark is not content
          first = false;
        }
        if (jsonl) {
          const lines = text.split('\n');
          carry = n > 0 ? lines.pop()! : '';
          if (carry.length > MAX_JSONL_LINE_BYTES) throw new Error(`prepare: ${file} line ${line + 1} is longer than ${MAX_JSONL_LINE_BYTES} bytes`);
          for (const l of lines) {
            line++;
            if (l.trim() === '') continue;
            yield { text: jsonlText(l, field, file, line), docEnd: true, bytesRead };
          }
          if (n === 0) break;
          continue;
        }
        if (n === 0) {
          yield { text, docEnd: true, bytesRead };
          break;
        }
        const p = safeCut(text);
        // no safe place in this chunk (one endless word): carry on, up to 16 chunks, then cut anyway
        if (p <= 0 && text.length < 16 * chunkBytes) {
          carry = text;
          continue;
        }
        const cut = p > 0 ? p : text.length;
        carry = text.slice(cut);
        yield { text: text.slice(0, cut), docEnd: false, bytesRead };
      }
    } finally {
      fs.closeSync(fd);
    }
  }
}

function jsonlText(line: string, field: string, file: string, n: number): string {
  let obj: unknown;
  try {
    obj = JSON.parse(line);
  } catch (e) {
    throw new Error(`prepare: ${file} line ${n} is not JSON (${(e as Error).message})`);
  }
  const text = (obj as Record<string, unknown>)?.[field];
  if (typeof text !== 'string') throw new Error(`prepare: ${file} line ${n} has no string field '${field}' (name it with --text-field)`);
  return text;
}

/** Total bytes of the files (for progress and MB/s). */
export const corpusBytes = (files: string[]): number => files.reduce((s, f) => s + fs.statSync(f).size, 0);

/** The first `maxBytes` or so of the corpus's text, documents joined by a blank line (a bounded sample to train a tokenizer on). */
export function corpusSample(files: string[], maxBytes: number, opts: CorpusOptions = {}): string {
  const parts: string[] = [];
  let size = 0;
  for (const piece of corpusPieces(files, opts)) {
    parts.push(piece.docEnd ? `${piece.text}\n\n` : piece.text);
    size += piece.text.length;
    if (size >= maxBytes) break;
  }
  return parts.join('');
}

/** Every distinct character (code point) of the corpus, in one streaming pass: what a char tokenizer must know. */
export function corpusCharacters(files: string[], opts: CorpusOptions = {}): string {
  const seen = new Uint8Array(65536); // code units below the surrogates, marked by a typed array (fast)
  const astral = new Set<string>();
  for (const { text } of corpusPieces(files, opts)) {
    for (let i = 0; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c >= 0xd800 && c < 0xdc00 && i + 1 < text.length) {
        astral.add(text.slice(i, i + 2));
        i++;
      } else seen[c] = 1;
    }
  }
  let out = '';
  for (let c = 0; c < 65536; c++) if (seen[c]) out += String.fromCharCode(c);
  return out + [...astral].join('');
}
