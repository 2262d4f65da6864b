// BERT's BasicTokenizer (Hugging Face's BertTokenizer, step one of two): clean the text, put spaces
// around CJK ideographs, split on whitespace, lowercase and strip accents (uncased models), and
// make every punctuation character its own token. WordPiece (wordpiece.ts) then splits each token.

export interface BasicOptions {
  /** Lowercase (bert-base-uncased: true; cased models: false). */
  lowercase?: boolean;
  /** Remove accents (é → e); defaults to `lowercase`, as in Hugging Face. */
  stripAccents?: boolean;
  /** Split CJK ideographs into one token each (BERT's vocabularies hold them as single characters). */
  tokenizeChineseChars?: boolean;
  /**
   * NFC-compose the cleaned text first (default true, as Python's BertTokenizer; Hugging Face's
   * fast tokenizer does not, and a tokenizer.json without an NFC step reads back with false).
   */
  nfc?: boolean;
}

// ASCII answers without a regex: corpora are mostly ASCII and this runs once per character.
// Whitespace is Unicode's White_Space (Zs and U+2028/U+2029 too), as Python's str.split() and Rust's
// char::is_whitespace; the controls among it (\v, \f, U+0085) were dropped by isControl first.
const isWhitespace = (c: string, cp: number) => cp === 32 || cp === 9 || cp === 10 || cp === 13 || (cp > 127 && /\p{White_Space}/u.test(c));
const isControl = (c: string, cp: number) =>
  cp < 128 ? (cp < 32 && cp !== 9 && cp !== 10 && cp !== 13) || cp === 127 : /\p{C}/u.test(c);

/** ASCII symbols like '$' and '^' count as punctuation although Unicode files them under S. */
export function isPunctuation(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if (cp < 128) return (cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126);
  return /\p{P}/u.test(c);
}

/** The CJK Unified Ideographs blocks (not Hangul, Hiragana or Katakana, which are written with spaces). */
export function isChineseChar(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) || (cp >= 0x3400 && cp <= 0x4dbf) || (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) || (cp >= 0x2b740 && cp <= 0x2b81f) || (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) || (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** Drop NUL, U+FFFD and control characters; every kind of whitespace becomes a space. */
function cleanText(text: string, chinese: boolean): string {
  let out = '';
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(c, cp)) continue;
    if (isWhitespace(c, cp)) out += ' ';
    else if (chinese && isChineseChar(cp)) out += ` ${c} `;
    else out += c;
  }
  return out;
}

/** NFD, then drop the combining marks (category Mn): 'café' → 'cafe'. */
export function stripAccents(token: string): string {
  return token.normalize('NFD').replace(/\p{Mn}/gu, '');
}

function splitOnPunctuation(token: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const c of token) {
    if (isPunctuation(c)) {
      if (current) out.push(current);
      out.push(c);
      current = '';
    } else current += c;
  }
  if (current) out.push(current);
  return out;
}

/** BasicTokenizer.tokenize: text → words and punctuation marks. */
export function basicTokenize(text: string, opts: BasicOptions = {}): string[] {
  const lowercase = opts.lowercase ?? true;
  const strip = opts.stripAccents ?? lowercase;
  let cleaned = cleanText(text, opts.tokenizeChineseChars ?? true);
  if (opts.nfc ?? true) cleaned = cleaned.normalize('NFC');
  const out: string[] = [];
  for (let token of cleaned.split(' ')) {
    if (!token) continue;
    if (lowercase) token = token.toLowerCase();
    if (strip) token = stripAccents(token);
    out.push(...splitOnPunctuation(token));
  }
  return out;
}
