// WordPiece as BERT does it: BasicTokenizer (bert-basic.ts) splits text into words, then each
// word is cut greedily into the longest vocabulary pieces from the left, pieces after the first
// written with '##' ('unaffable' → un ##aff ##able). A word with no cut, or longer than 100
// characters, becomes [UNK]. Ids are line numbers of vocab.txt (0-based), as in BERT.
// `train` builds a vocabulary from a corpus with no download (characters, then frequent merges).
import { type BasicOptions, basicTokenize } from './bert-basic.js';
import { learnMerges } from './merges.js';
import { type Tokenizer, type TokenizerJSON, checkId, field, isBoolean, isCount, isStringArray, splitOnSpecial } from './tokenizer.js';
import { readTextFile, splitLines } from '../files.js';

export const BERT_SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;

export interface WordPieceOptions extends BasicOptions {
  /** Longer words are [UNK] without trying (BERT: 100). */
  maxInputCharsPerWord?: number;
}

export interface WordPieceTrainOptions extends WordPieceOptions {
  /** A merge needs a pair seen at least this often (default 2). */
  minFrequency?: number;
  /**
   * At most this many characters, the most frequent (each takes two entries, 'c' and '##c').
   * Default: a quarter of the room left after the special tokens, so characters fill at most half
   * the vocabulary and rare ones (stray CJK or symbols in e-mails) become [UNK] instead.
   */
  limitAlphabet?: number;
}

export interface EncodedPair {
  /** [CLS] a [SEP] (b [SEP]) */
  ids: number[];
  /** 0 for [CLS], a and its [SEP]; 1 for b and its [SEP] (BERT's segment embedding). */
  tokenTypeIds: number[];
}

export class WordPieceTokenizer implements Tokenizer {
  readonly type = 'wordpiece' as const;
  /** id → token (the lines of vocab.txt). */
  readonly vocab: readonly string[];
  readonly options: Readonly<Required<WordPieceOptions>>;
  readonly specialTokens: Readonly<Record<string, number>>;
  private readonly index = new Map<string, number>();
  /** The lengths (code points) a piece can have at a word's start and after it ('##' not counted),
   *  longest first: only these candidates are looked up. */
  private readonly startLengths: number[];
  private readonly innerLengths: number[];

  constructor(vocab: readonly string[], opts: WordPieceOptions = {}) {
    this.vocab = Object.freeze([...vocab]);
    vocab.forEach((t, i) => this.index.set(t, i)); // a repeated line: the later id wins, as in Hugging Face
    const startLengths = new Set<number>();
    const innerLengths = new Set<number>();
    for (const t of vocab) {
      startLengths.add(codePoints(t));
      if (t.startsWith('##')) innerLengths.add(codePoints(t) - 2);
    }
    const longestFirst = (set: Set<number>) => [...set].filter((n) => n > 0).sort((a, b) => b - a);
    [this.startLengths, this.innerLengths] = [longestFirst(startLengths), longestFirst(innerLengths)];
    this.options = resolveOptions(opts);
    if (!this.index.has('[UNK]')) throw new Error(`WordPieceTokenizer: the vocabulary (${vocab.length} tokens) has no [UNK] token`);
    const specials: Record<string, number> = {};
    for (const s of BERT_SPECIAL_TOKENS) if (this.index.has(s)) specials[s] = this.index.get(s)!;
    this.specialTokens = Object.freeze(specials);
  }

  /** BERT's vocab.txt (one token per line) from a path, or its lines. */
  static fromVocab(source: string | readonly string[], opts: WordPieceOptions = {}): WordPieceTokenizer {
    const lines = typeof source === 'string' ? splitLines(readTextFile(source, 'WordPieceTokenizer.fromVocab')) : [...source];
    while (lines.length && lines[lines.length - 1] === '') lines.pop(); // the file's final newline is not a token
    return new WordPieceTokenizer(lines, opts);
  }

  get vocabSize(): number {
    return this.vocab.length;
  }

  /** The id of a special token, with an error that says which one the vocabulary lacks. */
  specialId(token: (typeof BERT_SPECIAL_TOKENS)[number]): number {
    const id = this.specialTokens[token];
    if (id === undefined) throw new Error(`WordPieceTokenizer: the vocabulary has no ${token} token`);
    return id;
  }
  get unkId(): number { return this.specialId('[UNK]'); }
  get clsId(): number { return this.specialId('[CLS]'); }
  get sepId(): number { return this.specialId('[SEP]'); }
  get padId(): number { return this.specialId('[PAD]'); }
  get maskId(): number { return this.specialId('[MASK]'); }

  /** Text → pieces ('un', '##aff', '##able'); special tokens written in the text stay whole. */
  tokenize(text: string): string[] {
    const pieces: string[] = [];
    for (const part of splitOnSpecial(text, Object.keys(this.specialTokens))) {
      if (part.special) pieces.push(part.text);
      else for (const word of basicTokenize(part.text, this.options)) pieces.push(...this.wordPiece(word));
    }
    return pieces;
  }

  /**
   * Greedy longest match from the left. Candidates have only the lengths vocabulary entries have
   * (a few dozen), so a word of n characters costs O(n · lengths · L), not O(n³) as trying every one.
   */
  private wordPiece(word: string): string[] {
    const offsets = [0]; // code unit offset of each code point, and the end
    for (const c of word) offsets.push(offsets[offsets.length - 1] + c.length);
    const length = offsets.length - 1;
    if (length > this.options.maxInputCharsPerWord) return ['[UNK]'];
    const pieces: string[] = [];
    for (let start = 0; start < length; ) {
      let found: string | null = null;
      let end = start;
      for (const n of start === 0 ? this.startLengths : this.innerLengths) {
        if (start + n > length) continue;
        const piece = (start > 0 ? '##' : '') + word.slice(offsets[start], offsets[start + n]);
        if (this.index.has(piece)) {
          [found, end] = [piece, start + n];
          break;
        }
      }
      if (found === null) return ['[UNK]']; // one bad piece makes the whole word unknown
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  /** Ids of the pieces, without [CLS]/[SEP] (see encodePair for the model's input). */
  encode(text: string): number[] {
    return this.tokenize(text).map((p) => this.index.get(p)!);
  }

  /**
   * BERT's input: [CLS] a [SEP] or [CLS] a [SEP] b [SEP], with segment ids. With maxLen, whichever
   * of a and b is longer at that moment loses its last token (b on a tie) until the whole fits
   * (Hugging Face's 'longest_first').
   */
  encodePair(a: string, b?: string, opts: { maxLen?: number } = {}): EncodedPair {
    const first = this.encode(a);
    const second = b === undefined ? null : this.encode(b);
    const extra = second === null ? 2 : 3;
    if (opts.maxLen !== undefined) {
      if (opts.maxLen < extra) throw new Error(`WordPieceTokenizer.encodePair: maxLen ${opts.maxLen} leaves no room for the ${extra} special tokens`);
      while (first.length + (second?.length ?? 0) + extra > opts.maxLen) {
        if (second !== null && second.length >= first.length) second.pop(); // a tie costs the second
        else first.pop();
      }
    }
    const ids = [this.clsId, ...first, this.sepId];
    const tokenTypeIds = new Array<number>(ids.length).fill(0);
    if (second !== null) {
      ids.push(...second, this.sepId);
      tokenTypeIds.push(...new Array<number>(second.length + 1).fill(1));
    }
    return { ids, tokenTypeIds };
  }

  /** Pieces joined, '##' glued back: lossy (lowercased, spaces around punctuation), as BERT's decode. */
  decode(ids: ArrayLike<number>, opts: { skipSpecialTokens?: boolean } = {}): string {
    const specials = new Set(Object.values(this.specialTokens));
    const tokens: string[] = [];
    for (let i = 0; i < ids.length; i++) {
      checkId('WordPieceTokenizer', ids[i], this.vocabSize, i);
      if (opts.skipSpecialTokens && specials.has(ids[i])) continue;
      tokens.push(this.vocab[ids[i]]);
    }
    return tokens.join(' ').replace(/ ##/g, '').trim();
  }

  /**
   * Learn a vocabulary of at most `vocabSize` tokens: the special tokens, then each kept character
   * both as 'c' (word start) and '##c' (inside a word), then the most frequent merges of adjacent
   * pieces over the corpus' words (the same merge learner as BPE; 'ab' + '##c' → 'abc').
   */
  static train(texts: string | readonly string[], vocabSize: number, opts: WordPieceTrainOptions = {}): WordPieceTokenizer {
    const specials: string[] = [...BERT_SPECIAL_TOKENS];
    const options = resolveOptions(opts);
    const maxChars = options.maxInputCharsPerWord;
    const room = vocabSize - specials.length;
    if (!Number.isInteger(vocabSize) || room < 2) throw new Error(`WordPieceTokenizer.train: vocabSize must be an integer ≥ ${specials.length + 2} (got ${vocabSize})`);

    const wordCounts = new Map<string, number>();
    for (const text of typeof texts === 'string' ? [texts] : texts) {
      for (const w of basicTokenize(text, options)) if ([...w].length <= maxChars) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
    }
    const charCounts = new Map<string, number>();
    for (const [w, n] of wordCounts) for (const c of w) charCounts.set(c, (charCounts.get(c) ?? 0) + n);
    const limit = opts.limitAlphabet ?? Math.floor(room / 4);
    const byCount = [...charCounts].sort((x, y) => y[1] - x[1] || cmp(x[0], y[0]));
    const alphabet = byCount.slice(0, Math.max(1, Math.min(limit, Math.floor(room / 2)))).map(([c]) => c).sort(cmp);

    const symbols = [...alphabet, ...alphabet.map((c) => `##${c}`)]; // learnMerges' symbol id → piece
    const symbolId = new Map(symbols.map((s, i) => [s, i]));
    const vocab = [...specials, ...symbols];
    const known = new Set(vocab);
    const words: number[][] = [];
    const counts: number[] = [];
    for (const [w, n] of wordCounts) {
      const ids = [...w].map((c, i) => symbolId.get(i === 0 ? c : `##${c}`));
      if (ids.length > 1 && ids.every((id) => id !== undefined)) { // a word with a dropped character cannot be pieced
        words.push(ids as number[]);
        counts.push(n);
      }
    }
    learnMerges(words, counts, symbols.length, vocabSize - vocab.length, {
      minFrequency: opts.minFrequency ?? 2,
      onMerge: (a, b) => {
        const piece = symbols[a] + symbols[b].slice(2); // b is never a word start, so it carries '##'
        symbols.push(piece);
        if (known.has(piece)) return false;
        known.add(piece);
        vocab.push(piece);
      },
    });
    return new WordPieceTokenizer(vocab, options);
  }

  toJSON(): TokenizerJSON {
    return { type: 'wordpiece', ...this.options, vocab: [...this.vocab] };
  }

  static fromJSON(json: Record<string, unknown>): WordPieceTokenizer {
    const o = 'WordPieceTokenizer';
    return new WordPieceTokenizer(field(json, o, 'vocab', isStringArray, 'an array of strings'), {
      lowercase: field(json, o, 'lowercase', isBoolean, 'a boolean'),
      stripAccents: field(json, o, 'stripAccents', isBoolean, 'a boolean'),
      tokenizeChineseChars: field(json, o, 'tokenizeChineseChars', isBoolean, 'a boolean'),
      maxInputCharsPerWord: field(json, o, 'maxInputCharsPerWord', isMaxInputChars, `an integer in [0, ${MAX_INPUT_CHARS_PER_WORD}]`),
      nfc: json.nfc === undefined ? true : field(json, o, 'nfc', isBoolean, 'a boolean'), // absent before tsgrad wrote tokenizer.json in Hugging Face's schema
    });
  }
}

/** The most a tokenizer (or a file) may set maxInputCharsPerWord to: BERT uses 100, and a longer
 *  word is [UNK] anyway; without a bound a hostile file makes one word cost minutes. */
export const MAX_INPUT_CHARS_PER_WORD = 10_000;

/** Whether `v` is an allowed maxInputCharsPerWord (an integer in [0, MAX_INPUT_CHARS_PER_WORD]). */
export const isMaxInputChars = (v: unknown): boolean => isCount(v) && (v as number) <= MAX_INPUT_CHARS_PER_WORD;

function resolveOptions(opts: WordPieceOptions): Readonly<Required<WordPieceOptions>> {
  if (opts.maxInputCharsPerWord !== undefined && !isMaxInputChars(opts.maxInputCharsPerWord)) {
    throw new Error(`WordPieceTokenizer: maxInputCharsPerWord must be an integer in [0, ${MAX_INPUT_CHARS_PER_WORD}] (got ${opts.maxInputCharsPerWord})`);
  }
  const lowercase = opts.lowercase ?? true;
  return Object.freeze({
    lowercase,
    stripAccents: opts.stripAccents ?? lowercase,
    tokenizeChineseChars: opts.tokenizeChineseChars ?? true,
    nfc: opts.nfc ?? true,
    maxInputCharsPerWord: opts.maxInputCharsPerWord ?? 100,
  });
}

const codePoints = (s: string): number => {
  let n = 0;
  for (const _ of s) n++;
  return n;
};

/** Code-point order, so the alphabet's order does not depend on UTF-16 details. */
const cmp = (a: string, b: string) => a.codePointAt(0)! - b.codePointAt(0)!;
