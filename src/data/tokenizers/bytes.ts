// GPT-2's byte-level pieces: the bytes → unicode table and the pre-tokenization regex.
// BPE runs on bytes, so any string (emoji, Chinese, control characters) has a tokenization and no
// [UNK] is ever needed. vocab.json stores tokens as strings, so each byte is shown as a printable
// character: printable Latin-1 bytes stand for themselves, the other 68 are moved to U+0100…
// (a space, byte 32, becomes 'Ġ' U+0120; a newline 'Ċ' U+010A).

/** GPT-2's bytes_to_unicode(), as an array indexed by byte. */
export const BYTE_TO_UNICODE: readonly string[] = (() => {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const table = new Array<string>(256);
  let moved = 0;
  for (let b = 0; b < 256; b++) table[b] = String.fromCharCode(printable(b) ? b : 256 + moved++);
  return Object.freeze(table);
})();

/** The inverse table: character → byte. */
export const UNICODE_TO_BYTE: ReadonlyMap<string, number> = new Map(BYTE_TO_UNICODE.map((c, b) => [c, b]));

/**
 * GPT-2's bytes_to_unicode() order: the 188 printable bytes ascending, then the 68 others
 * ascending. GPT-2's vocab.json gives ids 0…255 in exactly this order ('!' = 0, 'Ġ' = 220).
 */
export const GPT2_BYTE_ORDER: readonly number[] = (() => {
  const printable: number[] = [];
  const others: number[] = [];
  for (let b = 0; b < 256; b++) (BYTE_TO_UNICODE[b].charCodeAt(0) === b ? printable : others).push(b);
  return Object.freeze([...printable, ...others]);
})();

/**
 * GPT-2's pre-tokenization: contractions, words with one optional leading space, numbers,
 * punctuation runs, and whitespace (a run of spaces gives its last space to the next word).
 * Every character is matched by one alternative, so the pieces cover the text exactly.
 * Merges never cross these pieces, which is why " dog" and "dog." share a token.
 */
export const GPT2_PATTERN = /'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+/gu;

export function pretokenize(text: string): string[] {
  return text.match(GPT2_PATTERN) ?? [];
}

const encoder = new TextEncoder();
/** ignoreBOM keeps a leading U+FEFF (the default decoder drops it); bad bytes become U+FFFD as in GPT-2. */
const decoder = new TextDecoder('utf-8', { ignoreBOM: true });

export const utf8Encode = (s: string): Uint8Array => encoder.encode(s);
export const utf8Decode = (bytes: Uint8Array): string => decoder.decode(bytes);

/** A piece of text as its byte-level token string: each UTF-8 byte shown through BYTE_TO_UNICODE. */
export function toByteString(piece: string): string {
  let out = '';
  for (const b of utf8Encode(piece)) out += BYTE_TO_UNICODE[b];
  return out;
}
