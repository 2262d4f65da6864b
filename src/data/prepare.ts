// tg.data.prepareShards: tokenize a corpus once into token shards (shards.ts) with constant memory:
// the text is read 1 MiB at a time (corpus.ts), encoded, and written through a buffer of 1 Mi
// tokens to shard files of `shardTokens` tokens each, hashed as they are written. The tokenizer is
// saved next to the shards (saveTokenizer), so the folder is all `tsgrad train --data DIR` needs.
import { createHash, type Hash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { saveTokenizer, type Tokenizer } from './tokenizers/index.js';
import { END_OF_TEXT } from './tokenizers/bpe.js';
import { validationCount } from './loader.js';
import { writeFileAtomic } from './files.js';
import { corpusBytes, corpusFiles, corpusPieces } from './corpus.js';
import { SHARDS_MANIFEST, bytesPerToken, shardDtype, type ShardEntry, type ShardsManifest } from './shards.js';

export interface PrepareProgress {
  bytesRead: number;
  totalBytes: number;
  tokens: number;
  seconds: number;
}

export interface PrepareOptions {
  /** A .txt/.jsonl file, a folder of them, or a list. */
  data: string | string[];
  tokenizer: Tokenizer;
  /** How the tokenizer was given (recorded in the manifest): 'char', 'bpe', a folder… */
  tokenizerSpec?: string;
  /** Bytes of text the tokenizer was trained on (recorded; null when it was not trained here). */
  tokenizerSampleBytes?: number | null;
  out: string;
  /** .jsonl: the field with the text (default 'text'). */
  textField?: string;
  /** Share of the tokens held out at the end for validation (default 0.1, as tsgrad train's --val-fraction). */
  valFraction?: number;
  /** Tokens per shard file (default 100 Mi tokens: 200 MB of uint16, nanoGPT's FineWeb shards). */
  shardTokens?: number;
  /** Bytes read per piece of a .txt file (default 64 KiB; tests use small pieces to exercise the cuts). */
  chunkBytes?: number;
  /** Called after each piece read, and once at the end. */
  onProgress?: (p: PrepareProgress) => void;
}

/** The id written between documents: GPT-2's <|endoftext|>, BERT's [SEP], else none. */
export function separatorId(tokenizer: Tokenizer): number | null {
  for (const name of [END_OF_TEXT, '[SEP]']) if (name in tokenizer.specialTokens) return tokenizer.specialTokens[name];
  return null;
}

/** Stream the corpus through the tokenizer into out/shard-NNNNN.bin + shards.json + the tokenizer files. */
export function prepareShards(opts: PrepareOptions): ShardsManifest {
  const files = corpusFiles(opts.data);
  const totalBytes = corpusBytes(files);
  const { tokenizer, out } = opts;
  const dtype = shardDtype(tokenizer.vocabSize);
  const width = bytesPerToken(dtype);
  const shardTokens = opts.shardTokens ?? 100 * 2 ** 20;
  if (!Number.isInteger(shardTokens) || shardTokens < 1) throw new Error(`prepare: shardTokens must be a positive integer (got ${shardTokens})`);
  const valFraction = opts.valFraction ?? 0.1;
  validationCount('prepare', 2, valFraction); // checks the range [0, 1)
  fs.mkdirSync(out, { recursive: true });
  // the folder is not valid until the new manifest is written; shards of an earlier, longer run go
  fs.rmSync(path.join(out, SHARDS_MANIFEST), { force: true });
  for (const name of fs.readdirSync(out)) if (/^shard-\d{5,}\.bin$/.test(name)) fs.rmSync(path.join(out, name));

  const shards: ShardEntry[] = [];
  const buffer = new (dtype === 'uint16' ? Uint16Array : Uint32Array)(1 << 20);
  let filled = 0, fd = -1, hash: Hash | null = null, inShard = 0, tokens = 0, documents = 0;
  const flush = () => {
    let at = 0;
    while (at < filled) {
      if (fd < 0) {
        shards.push({ file: `shard-${String(shards.length).padStart(5, '0')}.bin`, tokens: 0, bytes: 0, sha256: '' });
        fd = fs.openSync(path.join(out, shards.at(-1)!.file), 'w');
        hash = createHash('sha256');
        inShard = 0;
      }
      const n = Math.min(filled - at, shardTokens - inShard);
      const bytes = Buffer.from(buffer.buffer, buffer.byteOffset + at * width, n * width); // host order: little-endian on every platform Node runs on
      fs.writeSync(fd, bytes);
      hash!.update(bytes);
      inShard += n;
      at += n;
      if (inShard === shardTokens) closeShard();
    }
    filled = 0;
  };
  const closeShard = () => {
    if (fd < 0) return;
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    Object.assign(shards.at(-1)!, { tokens: inShard, bytes: inShard * width, sha256: hash!.digest('hex') });
    fd = -1;
  };
  const push = (id: number) => {
    if (filled === buffer.length) flush();
    buffer[filled++] = id;
    tokens++;
  };

  const separator = separatorId(tokenizer);
  const started = performance.now();
  const report = (bytesRead: number) => opts.onProgress?.({ bytesRead, totalBytes, tokens, seconds: (performance.now() - started) / 1000 });
  let docStart = true;
  for (const piece of corpusPieces(files, { textField: opts.textField, chunkBytes: opts.chunkBytes })) {
    if (docStart && documents > 0 && separator !== null) push(separator); // between documents, not after the last
    if (docStart) documents++;
    for (const id of tokenizer.encode(piece.text)) push(id);
    docStart = piece.docEnd;
    report(piece.bytesRead);
  }
  flush();
  closeShard();
  if (tokens === 0) throw new Error(`prepare: --data ${[opts.data].flat().join(', ')} gave no tokens`);
  const valTokens = validationCount('prepare', tokens, valFraction);
  saveTokenizer(tokenizer, out);
  const manifest: ShardsManifest = {
    format: 'tsgrad-token-shards', version: 1, dtype,
    tokenizer: { type: tokenizer.type, vocabSize: tokenizer.vocabSize, spec: opts.tokenizerSpec ?? tokenizer.type },
    tokens, documents, separator,
    split: { valFraction, trainTokens: tokens - valTokens, valTokens },
    shards,
    source: { files: files.length, bytes: totalBytes, textField: files.some((f) => f.endsWith('.jsonl')) ? opts.textField ?? 'text' : null, tokenizerSampleBytes: opts.tokenizerSampleBytes ?? null },
  };
  writeFileAtomic(path.join(out, SHARDS_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`); // last: a folder with a manifest is complete
  report(totalBytes);
  return manifest;
}
