// Token shards on disk (nanoGPT's train.bin): a corpus tokenized once into flat little-endian
// uint16 files (uint32 when the vocabulary has more than 65,536 ids) plus shards.json, the
// manifest. Training reads random windows straight from the files with one positional read per
// window (fs.readSync at an offset): Node has no mmap, and a read of T+1 tokens costs microseconds
// next to a forward pass, so RSS stays independent of the corpus size with no native dependency.
//
// The shards are one token stream cut into files; a window may cross a file boundary. The split is
// nanoGPT's held-out tail: tokens [0, trainTokens) train, [trainTokens, tokens) validate, so
// shardBatch(shards, 'train', T, B) draws exactly the windows lmBatch(ids.subarray(0, trainTokens), T, B)
// draws from the same random stream.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { randomInt } from '../tensor/random.js';
import type { LMBatch } from './loader.js';
import { sha256File } from '../train/manifest.js'; // the checkpoints' streaming SHA-256, one helper for both

export const SHARDS_MANIFEST = 'shards.json';
export type ShardDtype = 'uint16' | 'uint32';

export interface ShardEntry {
  /** File name inside the shard folder. */
  file: string;
  tokens: number;
  bytes: number;
  sha256: string;
}

export interface ShardsManifest {
  format: 'tsgrad-token-shards';
  version: 1;
  dtype: ShardDtype;
  /** The tokenizer the ids belong to, saved in the same folder (saveTokenizer). */
  tokenizer: { type: string; vocabSize: number; spec: string };
  /** Tokens in all shards together. */
  tokens: number;
  documents: number;
  /** The id written between documents (null: the tokenizer has no separator). */
  separator: number | null;
  /** Held-out tail: [0, trainTokens) trains, [trainTokens, tokens) validates. */
  split: { valFraction: number; trainTokens: number; valTokens: number };
  shards: ShardEntry[];
  source: { files: number; bytes: number; textField: string | null; tokenizerSampleBytes: number | null };
}

/** uint16 while every id fits (< 65,536), else uint32. */
export function shardDtype(vocabSize: number): ShardDtype {
  return vocabSize <= 65536 ? 'uint16' : 'uint32';
}

export const bytesPerToken = (dtype: ShardDtype): number => (dtype === 'uint16' ? 2 : 4);

/** True when dir is a folder with a shards.json (what `tsgrad train --data DIR` trains from). */
export function isShardFolder(dir: string): boolean {
  try {
    return fs.statSync(dir).isDirectory() && fs.existsSync(path.join(dir, SHARDS_MANIFEST));
  } catch {
    return false;
  }
}

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** Parse and check shards.json: every field typed, counts that add up, file names that stay in the folder. */
export function readShardsManifest(dir: string): ShardsManifest {
  const file = path.join(dir, SHARDS_MANIFEST);
  let m: ShardsManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`shards: cannot read ${file} (${(e as Error).message})`);
  }
  const bad = (why: string) => new Error(`shards: ${file}: ${why}`);
  if (m?.format !== 'tsgrad-token-shards' || m.version !== 1) throw bad(`not a tsgrad token-shard manifest (format ${JSON.stringify(m?.format)}, version ${JSON.stringify(m?.version)})`);
  if (m.dtype !== 'uint16' && m.dtype !== 'uint32') throw bad(`dtype must be uint16 or uint32 (got ${JSON.stringify(m.dtype)})`);
  if (!m.tokenizer || !isCount(m.tokenizer.vocabSize) || m.tokenizer.vocabSize < 1) throw bad('tokenizer.vocabSize must be a positive integer');
  if (m.dtype === 'uint16' && m.tokenizer.vocabSize > 65536) throw bad(`a vocabulary of ${m.tokenizer.vocabSize} ids does not fit uint16`);
  if (!Array.isArray(m.shards) || m.shards.length === 0) throw bad('lists no shards');
  let sum = 0;
  for (const s of m.shards) {
    if (typeof s?.file !== 'string' || s.file !== path.basename(s.file) || s.file.startsWith('.')) throw bad(`shard file ${JSON.stringify(s?.file)} must be a plain file name inside the folder`);
    if (!isCount(s.tokens) || s.bytes !== s.tokens * bytesPerToken(m.dtype)) throw bad(`${s.file}: ${s.tokens} tokens of ${m.dtype} cannot take ${s.bytes} bytes`);
    if (!/^[0-9a-f]{64}$/.test(String(s.sha256))) throw bad(`${s.file}: sha256 must be 64 hex digits`);
    sum += s.tokens;
  }
  if (m.tokens !== sum) throw bad(`tokens is ${m.tokens} but the shards hold ${sum}`);
  const sp = m.split;
  if (!sp || !isCount(sp.trainTokens) || !isCount(sp.valTokens) || sp.trainTokens + sp.valTokens !== m.tokens) throw bad(`split ${JSON.stringify(sp)} does not add up to ${m.tokens} tokens`);
  return m;
}

/** An open shard folder: checked against its manifest (sizes, SHA-256), read by window. */
export class TokenShards {
  readonly manifest: ShardsManifest;
  private readonly fds: number[] = [];
  /** starts[k]: global position of shard k's first token; starts[n] = total. */
  private readonly starts: number[] = [0];
  private readonly width: number;

  /** Open dir; with verify (default) every shard's size and SHA-256 are checked first (one streaming read). */
  constructor(readonly dir: string, { verify = true }: { verify?: boolean } = {}) {
    this.manifest = readShardsManifest(dir);
    this.width = bytesPerToken(this.manifest.dtype);
    for (const s of this.manifest.shards) {
      const file = path.join(dir, s.file);
      let size: number;
      try {
        size = fs.statSync(file).size;
      } catch {
        throw new Error(`shards: ${file} is listed in ${SHARDS_MANIFEST} but missing`);
      }
      if (size !== s.bytes) throw new Error(`shards: ${file} has ${size} bytes, ${SHARDS_MANIFEST} says ${s.bytes} (${size < s.bytes ? 'truncated' : 'extended'}); prepare it again`);
      if (verify && sha256File(file) !== s.sha256) throw new Error(`shards: ${file} does not match its SHA-256 in ${SHARDS_MANIFEST} (modified or corrupted); prepare it again`);
      this.starts.push(this.starts.at(-1)! + s.tokens);
    }
    for (const s of this.manifest.shards) this.fds.push(fs.openSync(path.join(dir, s.file), 'r'));
  }

  get length(): number {
    return this.manifest.tokens;
  }

  /** Tokens [start, start + length) of the whole stream as int32, across shard boundaries. */
  read(start: number, length: number, out = new Int32Array(length)): Int32Array {
    if (!Number.isInteger(start) || !Number.isInteger(length) || start < 0 || length < 0 || start + length > this.length) {
      throw new Error(`shards.read: [${start}, ${start + length}) is outside the ${this.length} tokens of ${this.dir}`);
    }
    let k = this.shardAt(start), done = 0;
    while (done < length) {
      const offset = start + done - this.starts[k];
      const n = Math.min(length - done, this.starts[k + 1] - this.starts[k] - offset);
      const buf = Buffer.allocUnsafe(n * this.width);
      const got = fs.readSync(this.fds[k], buf, 0, buf.length, offset * this.width);
      if (got !== buf.length) throw new Error(`shards: ${path.join(this.dir, this.manifest.shards[k].file)} gave ${got} of ${buf.length} bytes at offset ${offset * this.width} (changed since it was opened?)`);
      for (let i = 0; i < n; i++) out[done + i] = this.width === 2 ? buf.readUInt16LE(2 * i) : buf.readUInt32LE(4 * i); // little-endian whatever the host
      done += n;
      k++;
    }
    return out;
  }

  /** The shard holding global position pos (binary search over the starts). */
  private shardAt(pos: number): number {
    let lo = 0, hi = this.starts.length - 2;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.starts[mid] <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo;
  }

  /** [start, end) of a split in the stream. */
  range(split: 'train' | 'val'): [number, number] {
    const t = this.manifest.split.trainTokens;
    return split === 'train' ? [0, t] : [t, this.length];
  }

  close(): void {
    for (const fd of this.fds.splice(0)) fs.closeSync(fd);
  }
}

/**
 * lmBatch over a split of the shards: B windows at positions drawn from tsgrad's seeded stream,
 * x = tokens[i..i+T), y = tokens[i+1..i+T+1); one read of T+1 tokens per window.
 */
export function shardBatch(shards: TokenShards, split: 'train' | 'val', blockSize: number, batchSize: number): LMBatch {
  const [lo, hi] = shards.range(split);
  if (!Number.isInteger(blockSize) || blockSize < 1) throw new Error(`shardBatch: blockSize must be a positive integer (got ${blockSize})`);
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new Error(`shardBatch: batchSize must be a positive integer (got ${batchSize})`);
  if (hi - lo < blockSize + 1) throw new Error(`shardBatch: the ${split} split of ${shards.dir} has ${hi - lo} tokens, too few for a block of ${blockSize} (need ${blockSize + 1})`);
  const x = new Int32Array(batchSize * blockSize);
  const y = new Int32Array(batchSize * blockSize);
  const window = new Int32Array(blockSize + 1);
  for (let b = 0; b < batchSize; b++) {
    const i = lo + randomInt(0, hi - lo - blockSize); // the same draw as lmBatch on ids.subarray(lo, hi)
    shards.read(i, blockSize + 1, window);
    x.set(window.subarray(0, blockSize), b * blockSize);
    y.set(window.subarray(1), b * blockSize);
  }
  return { x: new Tensor(x, [batchSize, blockSize], 'int32'), y: new Tensor(y, [batchSize, blockSize], 'int32') };
}

/** The first `maxTokens` tokens of a split ('all': the whole stream), read from a shard folder (tsgrad eval scores them). */
export function readSplit(dir: string, split: 'train' | 'val' | 'all', maxTokens: number): Int32Array {
  const shards = new TokenShards(dir);
  try {
    const [lo, hi] = split === 'all' ? [0, shards.length] : shards.range(split);
    return shards.read(lo, Math.min(hi - lo, maxTokens));
  } finally {
    shards.close();
  }
}
