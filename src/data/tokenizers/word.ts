// Word tokenizer as Keras's `Tokenizer` does it (D26): lowercase, turn the punctuation in `filters`
// into spaces, split on ' ', rank words by frequency (ties: first seen first).
// Index 0 is never a word (it is the padding value); with an OOV token, the OOV token is index 1
// and words start at 2. `numWords` is applied when encoding, as Keras does: only indices
// < numWords are kept, the others become the OOV index (or are dropped when there is no OOV token).
import { type Tokenizer, type TokenizerJSON, checkId, field, isBoolean, isString, isStringArray } from './tokenizer.js';

/** Keras's default `filters`: punctuation (the apostrophe excepted), tab and newline. */
export const KERAS_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n';

export interface WordFitOptions {
  /** Keep only the numWords - 1 most frequent indices when encoding (Keras's num_words). */
  numWords?: number;
  /** Token for out-of-vocabulary words (index 1); null for none (unknown words are dropped). */
  oovToken?: string | null;
  lower?: boolean;
  filters?: string;
  split?: string;
}

interface WordConfig {
  numWords: number | null;
  oovToken: string | null;
  lower: boolean;
  filters: string;
  split: string;
}

/** Keras's text_to_word_sequence. */
export function textToWordSequence(text: string, opts: { lower?: boolean; filters?: string; split?: string } = {}): string[] {
  const { lower = true, filters = KERAS_FILTERS, split = ' ' } = opts;
  let s = lower ? text.toLowerCase() : text;
  if (filters.length) {
    const set = new Set(filters);
    s = Array.from(s, (c) => (set.has(c) ? split : c)).join('');
  }
  return s.split(split).filter((w) => w.length > 0);
}

export class WordTokenizer implements Tokenizer {
  readonly type = 'word' as const;
  /** Padding value: index 0 is reserved and no word has it. */
  readonly padId = 0;
  /** index - 1 → word (Keras's sorted_voc: the OOV token first when there is one). */
  readonly words: readonly string[];
  readonly config: Readonly<WordConfig>;
  /** Keras's word_index: word → index (from 1). */
  readonly wordIndex: ReadonlyMap<string, number>;

  constructor(words: readonly string[], config: WordConfig) {
    if (config.numWords !== null && !(Number.isInteger(config.numWords) && config.numWords >= 1)) {
      throw new Error(`WordTokenizer: numWords must be a positive integer (got ${config.numWords})`);
    }
    if (config.split.length === 0) throw new Error('WordTokenizer: split must not be empty');
    this.words = Object.freeze([...words]);
    this.config = Object.freeze({ ...config });
    const index = new Map<string, number>();
    words.forEach((w, i) => index.set(w, i + 1));
    this.wordIndex = index;
    if (config.oovToken !== null && index.get(config.oovToken) !== 1) {
      throw new Error(`WordTokenizer: the OOV token ${JSON.stringify(config.oovToken)} must be the first word (index 1)`);
    }
  }

  /** Keras's fit_on_texts: count words over all texts, most frequent first. */
  static fit(texts: string | readonly string[], opts: WordFitOptions = {}): WordTokenizer {
    const config: WordConfig = {
      numWords: opts.numWords ?? null,
      oovToken: opts.oovToken === undefined ? '<OOV>' : opts.oovToken,
      lower: opts.lower ?? true,
      filters: opts.filters ?? KERAS_FILTERS,
      split: opts.split ?? ' ',
    };
    const counts = new Map<string, number>(); // insertion order = first seen, which breaks ties
    for (const text of typeof texts === 'string' ? [texts] : texts) {
      for (const w of textToWordSequence(text, config)) counts.set(w, (counts.get(w) ?? 0) + 1);
    }
    const ranked = [...counts].sort((a, b) => b[1] - a[1]).map(([w]) => w); // stable sort
    const words = config.oovToken === null ? ranked : [config.oovToken, ...ranked.filter((w) => w !== config.oovToken)];
    return new WordTokenizer(words, config);
  }

  /** Ids are < vocabSize: numWords when set (the Embedding size of D26), else every word + padding. */
  get vocabSize(): number {
    const all = this.words.length + 1;
    return this.config.numWords === null ? all : Math.min(this.config.numWords, all);
  }

  get oovId(): number | null {
    return this.config.oovToken === null ? null : 1;
  }

  get specialTokens(): Record<string, number> {
    return this.config.oovToken === null ? {} : { [this.config.oovToken]: 1 };
  }

  /** Keras's texts_to_sequences for one text. */
  encode(text: string): number[] {
    const { numWords } = this.config;
    const oov = this.oovId;
    const ids: number[] = [];
    for (const w of textToWordSequence(text, this.config)) {
      const i = this.wordIndex.get(w);
      if (i !== undefined && (numWords === null || i < numWords)) ids.push(i);
      else if (oov !== null) ids.push(oov);
    }
    return ids;
  }

  textsToSequences(texts: readonly string[]): number[][] {
    return texts.map((t) => this.encode(t));
  }

  /** Keras's sequences_to_texts, except that padding (0) is skipped instead of read as OOV. */
  decode(ids: ArrayLike<number>): string {
    const { numWords } = this.config;
    const out: string[] = [];
    for (let p = 0; p < ids.length; p++) {
      const id = ids[p];
      if (id === this.padId) continue;
      checkId('WordTokenizer', id, this.words.length + 1, p);
      if (numWords === null || id < numWords) out.push(this.words[id - 1]);
      else if (this.oovId !== null) out.push(this.words[0]);
    }
    return out.join(' ');
  }

  sequencesToTexts(seqs: readonly ArrayLike<number>[]): string[] {
    return seqs.map((s) => this.decode(s));
  }

  toJSON(): TokenizerJSON {
    return { type: 'word', ...this.config, words: [...this.words] };
  }

  static fromJSON(json: Record<string, unknown>): WordTokenizer {
    const o = 'WordTokenizer';
    const numWords = json.numWords ?? null;
    if (numWords !== null && !Number.isInteger(numWords)) throw new Error(`${o}.fromJSON: field 'numWords' must be an integer or null`);
    const oovToken = json.oovToken ?? null;
    if (oovToken !== null && typeof oovToken !== 'string') throw new Error(`${o}.fromJSON: field 'oovToken' must be a string or null`);
    return new WordTokenizer(field(json, o, 'words', isStringArray, 'an array of strings'), {
      numWords: numWords as number | null,
      oovToken: oovToken as string | null,
      lower: field(json, o, 'lower', isBoolean, 'a boolean'),
      filters: field(json, o, 'filters', isString, 'a string'),
      split: field(json, o, 'split', isString, 'a string'),
    });
  }
}

export interface PadOptions {
  /** Where the padding goes: 'pre' (Keras's default) or 'post'. */
  padding?: 'pre' | 'post';
  /** Which end is cut from sequences longer than maxLen: 'pre' (default, keeps the end) or 'post'. */
  truncating?: 'pre' | 'post';
  value?: number;
}

/**
 * Keras's pad_sequences: every sequence to length maxLen (default: the longest), as rows of
 * number arrays; wrap in tg.tensor(rows, { dtype: 'int32' }) for a model.
 */
export function padSequences(seqs: readonly ArrayLike<number>[], maxLen?: number, opts: PadOptions = {}): number[][] {
  const { padding = 'pre', truncating = 'pre', value = 0 } = opts;
  if (padding !== 'pre' && padding !== 'post') throw new Error(`padSequences: padding must be 'pre' or 'post' (got ${JSON.stringify(padding)})`);
  if (truncating !== 'pre' && truncating !== 'post') throw new Error(`padSequences: truncating must be 'pre' or 'post' (got ${JSON.stringify(truncating)})`);
  const len = maxLen ?? seqs.reduce((m, s) => Math.max(m, s.length), 0);
  if (!Number.isInteger(len) || len < 0) throw new Error(`padSequences: maxLen must be a non-negative integer (got ${maxLen})`);
  return seqs.map((s) => {
    const seq = Array.from(s);
    const kept = seq.length <= len ? seq : truncating === 'pre' ? seq.slice(seq.length - len) : seq.slice(0, len);
    const fill = new Array<number>(len - kept.length).fill(value);
    return padding === 'pre' ? [...fill, ...kept] : [...kept, ...fill];
  });
}
