// What every tokenizer shares: text ↔ ids, a vocabulary size, and a JSON form saved next to a
// checkpoint as tokenizer.json, so `generate` and `eval` need only the checkpoint folder.

export type TokenizerType = 'char' | 'word' | 'bpe' | 'wordpiece';

/** The saved form of a tokenizer: plain JSON, `type` picks the class that reads it back. */
export interface TokenizerJSON {
  type: TokenizerType;
  [field: string]: unknown;
}

export interface Tokenizer {
  readonly type: TokenizerType;
  /** Number of ids: every id encode() can return is < vocabSize (the size of an Embedding). */
  readonly vocabSize: number;
  /** Special tokens by name → id (empty where a tokenizer has none). */
  readonly specialTokens: Readonly<Record<string, number>>;
  encode(text: string): number[];
  decode(ids: ArrayLike<number>): string;
  toJSON(): TokenizerJSON;
}

/** Refuse ids outside [0, vocabSize): a wrong id is a bug upstream, not something to print as '?'. */
export function checkId(owner: string, id: number, vocabSize: number, position: number): void {
  if (!Number.isInteger(id) || id < 0 || id >= vocabSize) {
    throw new Error(`${owner}.decode: id ${id} at position ${position} is outside the vocabulary [0, ${vocabSize})`);
  }
}

/** Read a field of a saved tokenizer, with a message that names the field when it is wrong. */
export function field<T>(json: Record<string, unknown>, owner: string, name: string, check: (v: unknown) => boolean, expected: string): T {
  const value = json[name];
  if (!check(value)) throw new Error(`${owner}.fromJSON: field '${name}' must be ${expected} (got ${describe(value)})`);
  return value as T;
}

export const isStringArray = (v: unknown): boolean => Array.isArray(v) && v.every((s) => typeof s === 'string');
export const isBoolean = (v: unknown): boolean => typeof v === 'boolean';
export const isString = (v: unknown): boolean => typeof v === 'string';
export const isCount = (v: unknown): boolean => Number.isInteger(v) && (v as number) >= 0;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** Split text around special-token strings (longest first), so '[MASK]' or '<|endoftext|>' stay whole. */
export function splitOnSpecial(text: string, specials: readonly string[]): { text: string; special: boolean }[] {
  if (specials.length === 0 || text.length === 0) return text.length ? [{ text, special: false }] : [];
  const escaped = [...specials].sort((a, b) => b.length - a.length).map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const parts: { text: string; special: boolean }[] = [];
  const re = new RegExp(escaped.join('|'), 'g');
  let last = 0;
  for (const m of text.matchAll(re)) {
    if (m.index! > last) parts.push({ text: text.slice(last, m.index), special: false });
    parts.push({ text: m[0], special: true });
    last = m.index! + m[0].length;
  }
  if (last < text.length) parts.push({ text: text.slice(last), special: false });
  return parts;
}
