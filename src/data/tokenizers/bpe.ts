// Byte-level BPE as GPT-2 does it: text → pre-tokenized pieces → UTF-8 bytes shown as characters
// (bytes.ts) → merges applied by rank → ids from vocab.json. Decoding joins the tokens' bytes, so
// decode(encode(s)) === s for every well-formed string (a lone UTF-16 surrogate has no UTF-8 form
// and comes back as U+FFFD, as with any UTF-8 tokenizer).
// `train` learns merges on a corpus (merges.ts); `fromFiles` reads GPT-2's vocab.json + merges.txt.
import { BYTE_TO_UNICODE, UNICODE_TO_BYTE, pretokenize, toByteString, utf8Decode, utf8Encode } from './bytes.js';
import { PairHeap, learnMerges } from './merges.js';
import { type Tokenizer, type TokenizerJSON, checkId, isStringArray, splitOnSpecial } from './tokenizer.js';
import { readJsonFile, readTextFile, splitLines } from '../files.js';

export const END_OF_TEXT = '<|endoftext|>';

const CACHE_LIMIT = 100_000;
/** Longer pieces are not cached: a 1 MB run of letters is encoded once, not kept. */
const MAX_CACHED_PIECE = 256;

export interface BPEOptions {
  /** Special tokens: encode() keeps them whole and gives their ids. Default ['<|endoftext|>']. */
  specialTokens?: readonly string[];
}

export class BPETokenizer implements Tokenizer {
  readonly type = 'bpe' as const;
  readonly vocabSize: number;
  readonly specialTokens: Readonly<Record<string, number>>;
  /** Merges in rank order, as [first, second] token strings. */
  readonly merges: readonly (readonly [string, string])[];
  private readonly encoder: Map<string, number>;
  private readonly decoder = new Map<number, string>();
  private readonly ranks = new Map<string, number>(); // 'first second' → rank: tokens never hold a raw space
  private readonly specialById = new Map<number, string>();
  private readonly cache = new Map<string, number[]>();

  /** `where(k)` names merge k in messages (a line of merges.txt, say). */
  constructor(vocab: Readonly<Record<string, number>>, merges: readonly (readonly [string, string])[], specialTokens: readonly string[] = [END_OF_TEXT], where = (k: number) => `merge ${k}`) {
    this.encoder = new Map(Object.entries(vocab));
    let maxId = -1;
    for (const [token, id] of this.encoder) {
      if (!Number.isInteger(id) || id < 0) throw new Error(`BPETokenizer: vocab id of ${JSON.stringify(token)} must be a non-negative integer (got ${id})`);
      const other = this.decoder.get(id);
      if (other !== undefined) throw new Error(`BPETokenizer: tokens ${JSON.stringify(other)} and ${JSON.stringify(token)} share id ${id}`);
      this.decoder.set(id, token);
      maxId = Math.max(maxId, id);
    }
    this.vocabSize = maxId + 1;
    for (let b = 0; b < 256; b++) {
      if (!this.encoder.has(BYTE_TO_UNICODE[b])) throw new Error(`BPETokenizer: the vocabulary lacks the token ${JSON.stringify(BYTE_TO_UNICODE[b])} of byte ${b}: every byte needs one`);
    }
    merges.forEach(([a, b], k) => {
      if (!this.encoder.has(a + b)) throw new Error(`BPETokenizer: ${where(k)} ('${a} ${b}') makes ${JSON.stringify(a + b)}, which is not in the vocabulary`);
      if (!this.ranks.has(`${a} ${b}`)) this.ranks.set(`${a} ${b}`, k); // a repeated merge keeps its first rank
    });
    this.merges = Object.freeze(merges.map(([a, b]) => Object.freeze([a, b] as const)));
    const specials: Record<string, number> = {};
    for (const s of specialTokens) {
      const id = this.encoder.get(s);
      if (id === undefined) throw new Error(`BPETokenizer: special token ${JSON.stringify(s)} is not in the vocabulary`);
      specials[s] = id;
      this.specialById.set(id, s);
    }
    this.specialTokens = Object.freeze(specials);
  }

  /**
   * Learn a byte-level BPE of `vocabSize` tokens on `text`: 256 byte tokens (id = byte value), then
   * one token per merge in merge order, then the special tokens. Stops early (a smaller
   * vocabulary) when no pair is left to merge.
   */
  static train(text: string, vocabSize: number, opts: BPEOptions & { minFrequency?: number } = {}): BPETokenizer {
    const specials = opts.specialTokens ?? [END_OF_TEXT];
    if (!Number.isInteger(vocabSize) || vocabSize < 256 + specials.length) {
      throw new Error(`BPETokenizer.train: vocabSize must be an integer ≥ ${256 + specials.length} (256 bytes + ${specials.length} special tokens), got ${vocabSize}`);
    }
    const counts = new Map<string, number>();
    for (const part of splitOnSpecial(text, specials)) {
      if (part.special) continue; // merges never learn across or into a special token
      for (const piece of pretokenize(part.text)) counts.set(piece, (counts.get(piece) ?? 0) + 1);
    }
    const words = [...counts.keys()].map((piece) => Array.from(utf8Encode(piece)));
    const symbols = BYTE_TO_UNICODE.slice(); // learnMerges' symbol id → token string
    const vocab = new Map(symbols.map((t, id) => [t, id])); // token string → final id
    const merges: [string, string][] = [];
    learnMerges(words, [...counts.values()], 256, vocabSize - 256 - specials.length, {
      minFrequency: opts.minFrequency,
      onMerge: (a, b) => {
        const token = symbols[a] + symbols[b];
        merges.push([symbols[a], symbols[b]]);
        symbols.push(token);
        if (vocab.has(token)) return false; // ('ab','c') after ('a','bc'): same bytes, one id
        vocab.set(token, vocab.size);
      },
    });
    for (const s of specials) {
      if (vocab.has(s)) throw new Error(`BPETokenizer.train: special token ${JSON.stringify(s)} is also a learned token`);
      vocab.set(s, vocab.size);
    }
    return new BPETokenizer(Object.fromEntries(vocab), merges, specials);
  }

  /** Load GPT-2's format: vocab.json ({token: id}) and merges.txt ('#version' line, then 'first second' per line). */
  static fromFiles(vocabJsonPath: string, mergesTxtPath: string, opts: BPEOptions = {}): BPETokenizer {
    const vocab = readJsonFile(vocabJsonPath, 'BPETokenizer.fromFiles');
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) throw new Error(`BPETokenizer.fromFiles: ${vocabJsonPath} must hold a JSON object {token: id}`);
    const lines = splitLines(readTextFile(mergesTxtPath, 'BPETokenizer.fromFiles'));
    const merges: [string, string][] = [];
    const lineOf: number[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '' || (i === 0 && line.startsWith('#version'))) return;
      const parts = line.split(' ');
      if (parts.length !== 2 || !parts[0] || !parts[1]) throw new Error(`BPETokenizer.fromFiles: ${mergesTxtPath} line ${i + 1}: expected two tokens separated by one space, got ${JSON.stringify(line)}`);
      merges.push(parts as [string, string]);
      lineOf.push(i + 1);
    });
    // GPT-2's <|endoftext|> is special when the file has it; tokens asked for explicitly must be there
    const specials = opts.specialTokens ?? [END_OF_TEXT].filter((s) => Object.hasOwn(vocab, s));
    return new BPETokenizer(vocab as Record<string, number>, merges, specials, (k) => `${mergesTxtPath} line ${lineOf[k]}`);
  }

  /** Ids of `text`. Special-token strings in the text become their ids unless allowSpecial is false. */
  encode(text: string, opts: { allowSpecial?: boolean } = {}): number[] {
    const ids: number[] = [];
    const parts = opts.allowSpecial === false ? [{ text, special: false }] : splitOnSpecial(text, Object.keys(this.specialTokens));
    for (const part of parts) {
      if (part.special) {
        ids.push(this.specialTokens[part.text]);
        continue;
      }
      for (const piece of pretokenize(part.text)) for (const id of this.bpe(toByteString(piece))) ids.push(id);
    }
    return ids;
  }

  /**
   * GPT-2's bpe(): merge the lowest-ranked adjacent pair until none is ranked, the leftmost first on
   * a tie (as Hugging Face's BPE). The symbols are a linked list and the ranked pairs a heap, so a
   * piece of n bytes costs O(n log n) whatever its length: no piece is cut, no merge is lost.
   */
  private bpe(token: string): number[] {
    const cached = this.cache.get(token);
    if (cached) return cached;
    const n = token.length;
    const symbol = token.split(''); // one UTF-16 unit per byte: the table stays below U+0144; '' = merged away
    const next = Int32Array.from({ length: n }, (_, i) => i + 1);
    const prev = Int32Array.from({ length: n }, (_, i) => i - 1);
    const heap = new PairHeap(); // (-rank, position): the max-heap pops the lowest rank, then the leftmost
    const rankAt = (i: number) => (next[i] < n ? this.ranks.get(`${symbol[i]} ${symbol[next[i]]}`) : undefined);
    const push = (i: number) => {
      const rank = rankAt(i);
      if (rank !== undefined) heap.push(-rank, i);
    };
    for (let i = 0; i + 1 < n; i++) push(i);
    while (heap.size > 0) {
      const [negRank, i] = heap.pop();
      if (symbol[i] === '' || rankAt(i) !== -negRank) continue; // stale: a neighbour changed since the push
      const j = next[i];
      symbol[i] += symbol[j];
      symbol[j] = '';
      next[i] = next[j];
      if (next[j] < n) prev[next[j]] = i;
      if (prev[i] >= 0) push(prev[i]);
      push(i);
    }
    const ids: number[] = [];
    for (let i = 0; i < n; i = next[i]) ids.push(this.encoder.get(symbol[i])!); // every byte and every merge result is in the vocabulary (checked)
    if (n <= MAX_CACHED_PIECE) {
      if (this.cache.size >= CACHE_LIMIT) this.cache.clear();
      this.cache.set(token, ids);
    }
    return ids;
  }

  /** Token strings of ids (byte-level form: 'Ġthe'), for display. */
  idsToTokens(ids: ArrayLike<number>): string[] {
    return Array.from(ids, (id, i) => this.token(id, i));
  }

  private token(id: number, position: number): string {
    const token = this.decoder.get(id);
    if (token !== undefined) return token;
    checkId('BPETokenizer', id, this.vocabSize, position);
    throw new Error(`BPETokenizer.decode: id ${id} at position ${position} has no token in the vocabulary (a gap in vocab.json's ids)`);
  }

  decode(ids: ArrayLike<number>): string {
    const bytes: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const token = this.token(ids[i], i);
      if (this.specialById.has(ids[i])) bytes.push(...utf8Encode(token));
      else for (const c of token) bytes.push(UNICODE_TO_BYTE.get(c) ?? fail(token));
    }
    return utf8Decode(Uint8Array.from(bytes));
  }

  toJSON(): TokenizerJSON {
    return {
      type: 'bpe',
      vocab: Object.fromEntries(this.encoder),
      merges: this.merges.map(([a, b]) => `${a} ${b}`),
      specialTokens: Object.keys(this.specialTokens),
    };
  }

  static fromJSON(json: Record<string, unknown>): BPETokenizer {
    const { vocab, merges, specialTokens } = json;
    if (typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) throw new Error(`BPETokenizer.fromJSON: field 'vocab' must be an object {token: id}`);
    if (!isStringArray(merges)) throw new Error(`BPETokenizer.fromJSON: field 'merges' must be an array of 'first second' strings`);
    if (!isStringArray(specialTokens)) throw new Error(`BPETokenizer.fromJSON: field 'specialTokens' must be an array of strings`);
    const pairs = (merges as string[]).map((m, k) => {
      const parts = m.split(' ');
      if (parts.length !== 2) throw new Error(`BPETokenizer.fromJSON: merge ${k} (${JSON.stringify(m)}) is not two tokens`);
      return parts as [string, string];
    });
    return new BPETokenizer(vocab as Record<string, number>, pairs, specialTokens as string[]);
  }
}

function fail(token: string): never {
  throw new Error(`BPETokenizer.decode: token ${JSON.stringify(token)} has a character outside the byte table`);
}
