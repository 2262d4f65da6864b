// Character tokenizer (nanoGPT's shakespeare_char): the vocabulary is the sorted set of characters
// seen in the training text; id = position in that list.
// "Character" means Unicode code point (an emoji is one character, not two UTF-16 halves), and the
// sort is by code point, so the ids do not depend on the JS engine's string comparison.
// A character not seen at fit time is an error naming it, unless fit() was given `unkToken`:
// then it maps to that token's id (the last one) and decodes to the unkToken string.
import { type Tokenizer, type TokenizerJSON, checkId, field, isStringArray } from './tokenizer.js';

export interface CharFitOptions {
  /** Map unseen characters to this token instead of throwing (e.g. '[UNK]' or '?'). */
  unkToken?: string;
}

export class CharTokenizer implements Tokenizer {
  readonly type = 'char' as const;
  /** id → character. */
  readonly chars: readonly string[];
  readonly unkToken: string | undefined;
  private readonly index = new Map<string, number>();

  constructor(chars: readonly string[], unkToken?: string) {
    chars.forEach((c, i) => {
      if ([...c].length !== 1) throw new Error(`CharTokenizer: vocabulary entry ${i} (${JSON.stringify(c)}) is not one character`);
      if (this.index.has(c)) throw new Error(`CharTokenizer: character ${JSON.stringify(c)} appears twice in the vocabulary`);
      this.index.set(c, i);
    });
    this.chars = Object.freeze([...chars]);
    this.unkToken = unkToken;
  }

  /** The sorted unique characters of `text`. */
  static fit(text: string, opts: CharFitOptions = {}): CharTokenizer {
    const chars = [...new Set(text)].sort((a, b) => a.codePointAt(0)! - b.codePointAt(0)!);
    return new CharTokenizer(chars, opts.unkToken);
  }

  get vocabSize(): number {
    return this.chars.length + (this.unkToken === undefined ? 0 : 1);
  }

  get specialTokens(): Record<string, number> {
    return this.unkToken === undefined ? {} : { [this.unkToken]: this.chars.length };
  }

  encode(text: string): number[] {
    const ids: number[] = [];
    let offset = 0;
    for (const c of text) {
      const id = this.index.get(c);
      if (id !== undefined) ids.push(id);
      else if (this.unkToken !== undefined) ids.push(this.chars.length);
      else {
        const code = c.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0');
        throw new Error(`CharTokenizer.encode: character ${JSON.stringify(c)} (U+${code}) at index ${offset} was not in the fitted text (${this.chars.length} characters known)`);
      }
      offset += c.length;
    }
    return ids;
  }

  decode(ids: ArrayLike<number>): string {
    let out = '';
    for (let i = 0; i < ids.length; i++) {
      checkId('CharTokenizer', ids[i], this.vocabSize, i);
      out += ids[i] === this.chars.length ? this.unkToken! : this.chars[ids[i]];
    }
    return out;
  }

  toJSON(): TokenizerJSON {
    return { type: 'char', chars: [...this.chars], ...(this.unkToken === undefined ? {} : { unkToken: this.unkToken }) };
  }

  static fromJSON(json: Record<string, unknown>): CharTokenizer {
    const chars = field<string[]>(json, 'CharTokenizer', 'chars', isStringArray, 'an array of strings');
    const unk = json.unkToken;
    if (unk !== undefined && typeof unk !== 'string') throw new Error(`CharTokenizer.fromJSON: field 'unkToken' must be a string`);
    return new CharTokenizer(chars, unk);
  }
}
