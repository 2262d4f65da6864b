// Byte-level BPE (GPT-2): the byte table, the pre-tokenizer, known ids from GPT-2-format files,
// deterministic training, and exact round trips of any string.
import { expect } from 'chai';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { BPETokenizer, BYTE_TO_UNICODE, GPT2_BYTE_ORDER, pretokenize, toByteString } from '../../src/data/index.js';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const gpt2Tiny = () => BPETokenizer.fromFiles(path.join(fixtures, 'gpt2-tiny-vocab.json'), path.join(fixtures, 'gpt2-tiny-merges.txt'));

/** Well-formed strings of every kind: ASCII with controls, any code point, emoji and combining graphemes. */
const anyText = fc.oneof(
  fc.string({ unit: 'binary-ascii', maxLength: 60 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.string({ unit: 'grapheme', maxLength: 20 }),
  fc.array(fc.constantFrom('the', ' whale', "'s", '  ', '\n', '😀', 'é', '中文', '123', '<|endoftext|>', '!?'), { maxLength: 12 }).map((a) => a.join('')),
);

describe('data: GPT-2 bytes → unicode and pre-tokenization', () => {
  it('shows printable bytes as themselves and moves the others above U+0100', () => {
    expect(BYTE_TO_UNICODE[65]).to.equal('A');
    expect(BYTE_TO_UNICODE[32]).to.equal('Ġ'); // space
    expect(BYTE_TO_UNICODE[10]).to.equal('Ċ'); // newline
    expect(BYTE_TO_UNICODE[0]).to.equal('Ā');
    expect(new Set(BYTE_TO_UNICODE).size).to.equal(256);
  });
  it("orders bytes as GPT-2's vocab.json does ('!' = 0, 'Ġ' = 220)", () => {
    expect(GPT2_BYTE_ORDER[0]).to.equal(33);
    expect(GPT2_BYTE_ORDER[220]).to.equal(32);
    expect([...GPT2_BYTE_ORDER].sort((a, b) => a - b)).to.deep.equal(Array.from({ length: 256 }, (_, i) => i));
  });
  it('splits contractions, words with their leading space, numbers, punctuation and whitespace', () => {
    expect(pretokenize("Hello world's  end\n")).to.deep.equal(['Hello', ' world', "'s", ' ', ' end', '\n']);
    expect(pretokenize('I have 2024 apples!!')).to.deep.equal(['I', ' have', ' 2024', ' apples', '!!']);
  });
  it('covers the text exactly (fast-check)', () => {
    fc.assert(fc.property(anyText, (s) => {
      expect(pretokenize(s).join('')).to.equal(s);
    }), { numRuns: 300 });
  });
});

describe('data: BPETokenizer on GPT-2-format files', () => {
  // The fixture is GPT-2's format at toy size: ids 0–255 are the bytes in GPT-2's order, then 16
  // merges (ids 256–271 by rank), then <|endoftext|> = 272. merges.txt, ranks 0–15:
  //   0 l l → ll        4 H ell → Hell    8 Ġw o → Ġwo       12 lo w → low
  //   1 l o → lo        5 Hell o → Hello  9 r l → rl         13 e r → er
  //   2 Ġ w → Ġw        6 Ġ h → Ġh        10 Ġwo rl → Ġworl  14 Ġ low → Ġlow
  //   3 e ll → ell      7 Ġh ell → Ġhell  11 Ġworl d → Ġworld 15 Ġlow er → Ġlower
  // "Hello hello world! lower<|endoftext|>😀" pre-tokenizes to Hello | ␣hello | ␣world | ! | ␣lower,
  // then the special token, then 😀. By hand, always merging the lowest-ranked adjacent pair:
  //   Hello:   H e l l o → (ll, 0) H e ll o → (ell, 3) H ell o → (Hell, 4) → (Hello, 5)   = [261]
  //            (ll ranks before lo, so 'lo' never forms here)
  //   ␣hello:  Ġ h e l l o → (ll, 0) → (ell, 3) Ġ h ell o → (Ġh, 6) → (Ġhell, 7) Ġhell o; no rank
  //            for 'Ġhell o', so two tokens: Ġhell = 263 and o = byte 111 → 111 - 33 = 78  = [263, 78]
  //   ␣world:  Ġ w o r l d → (Ġw, 2) → (Ġwo, 8) → (rl, 9) Ġwo rl d → (Ġworl, 10) → (Ġworld, 11) = [267]
  //   !:       byte 33, the first of GPT-2's byte order                                   = [0]
  //   ␣lower:  Ġ l o w e r → (lo, 1) → (low, 12) Ġ low e r → (er, 13) beats (Ġlow, 14)
  //            → Ġ low er → (Ġlow, 14) → (Ġlower, 15)                                      = [271]
  //   <|endoftext|>                                                                        = [272]
  //   😀 = UTF-8 F0 9F 98 80, no merges. Bytes 174–255 have ids b - 68 (F0 = 240 → 172);
  //        bytes 127–160 have ids b + 94 (9F = 159 → 253, 98 = 152 → 246, 80 = 128 → 222) = [172, 253, 246, 222]
  const sentence = 'Hello hello world! lower<|endoftext|>😀';
  const expected = [261, 263, 78, 267, 0, 271, 272, 172, 253, 246, 222];

  it('reproduces the ids derived by hand from the merge list', () => {
    const tok = gpt2Tiny();
    expect(tok.vocabSize).to.equal(273);
    expect(tok.specialTokens).to.deep.equal({ '<|endoftext|>': 272 });
    expect(tok.encode(sentence)).to.deep.equal(expected);
    expect(tok.idsToTokens(expected)).to.deep.equal(['Hello', 'Ġhell', 'o', 'Ġworld', '!', 'Ġlower', '<|endoftext|>', 'ð', 'Ł', 'ĺ', 'Ģ']);
    expect(tok.decode(expected)).to.equal(sentence);
  });
  it('gives the same ids twice (the per-word cache changes nothing)', () => {
    const tok = gpt2Tiny();
    expect(tok.encode(sentence + sentence)).to.deep.equal([...expected, ...expected]);
  });
  it('encodes special-token text as plain bytes when allowSpecial is false', () => {
    const tok = gpt2Tiny();
    const ids = tok.encode('<|endoftext|>', { allowSpecial: false });
    expect(ids).to.not.include(272);
    expect(tok.decode(ids)).to.equal('<|endoftext|>');
  });
  it('round-trips any well-formed string through bytes (fast-check)', () => {
    const tok = gpt2Tiny();
    fc.assert(fc.property(anyText, (s) => {
      expect(tok.decode(tok.encode(s))).to.equal(s);
    }), { numRuns: 300 });
  });
  it('names the file and line of a bad merges.txt, and a missing file by its path', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-bpe-'));
    try {
      const vocab = path.join(fixtures, 'gpt2-tiny-vocab.json');
      const bad = path.join(dir, 'merges.txt');
      fs.writeFileSync(bad, '#version: 0.2\nl l\nl o x\n');
      expect(() => BPETokenizer.fromFiles(vocab, bad)).to.throw(/merges\.txt line 3: expected two tokens separated by one space/);
      fs.writeFileSync(bad, '#version: 0.2\nl l\nq z\n');
      expect(() => BPETokenizer.fromFiles(vocab, bad)).to.throw(/merges\.txt line 3 \('q z'\) makes "qz", which is not in the vocabulary/);
      expect(() => BPETokenizer.fromFiles(path.join(dir, 'vocab.json'), bad)).to.throw(/file not found: .*vocab\.json/);
      fs.writeFileSync(path.join(dir, 'vocab.json'), '{"a": 0}');
      expect(() => BPETokenizer.fromFiles(path.join(dir, 'vocab.json'), bad)).to.throw(/lacks the token "Ā" of byte 0: every byte needs one/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('data: BPETokenizer.train', () => {
  it('learns the textbook merges of "aaabdaaabac", ties to the smallest pair of ids', () => {
    // aa occurs 4 times; then 'aa a' and 'a b' tie at 2: (97, 98) < (256, 97), so 'ab'; then 'aa ab'
    const tok = BPETokenizer.train('aaabdaaabac', 256 + 3 + 1);
    expect(tok.merges).to.deep.equal([['a', 'a'], ['a', 'b'], ['aa', 'ab']]);
    expect(tok.encode('aaabdaaabac')).to.deep.equal([258, 100, 258, 97, 99]);
    expect(tok.specialTokens).to.deep.equal({ '<|endoftext|>': 259 });
  });
  it('breaks a tie of counts by the smallest ids, whatever the order of the text', () => {
    // every pair occurs once; byte ids: Ġ = 32 < a = 97 < c = 99, so (Ġ, c) goes first
    expect(BPETokenizer.train('ab cd', 258).merges[0]).to.deep.equal(['Ġ', 'c']);
    expect(BPETokenizer.train('cd ab', 258).merges[0]).to.deep.equal(['Ġ', 'a']);
  });
  it('is deterministic, stops when nothing is left to merge, and never merges across pieces', () => {
    const text = 'the cat sat on the mat. the cat ate the rat! ';
    const a = BPETokenizer.train(text.repeat(3), 300);
    const b = BPETokenizer.train(text.repeat(3), 300);
    expect(a.merges).to.deep.equal(b.merges);
    expect(a.vocabSize).to.be.lessThan(300);
    for (const [x, y] of a.merges) expect(x + y).to.not.match(/.Ġ/); // a space only starts a token
  });
  it('keeps special tokens whole and out of the merges', () => {
    const tok = BPETokenizer.train('one<|endoftext|>two<|endoftext|>one', 280);
    expect(tok.merges.flat().join('')).to.not.include('<|');
    expect(tok.encode('one<|endoftext|>')).to.include(tok.specialTokens['<|endoftext|>']);
  });
  it('round-trips any string, seen in training or not (fast-check)', () => {
    const tok = BPETokenizer.train('It is a truth universally acknowledged, that a single man in possession of a good fortune, must be in want of a wife. 2024 😀'.repeat(4), 330);
    fc.assert(fc.property(anyText, (s) => {
      const ids = tok.encode(s);
      expect(ids.every((id) => id >= 0 && id < tok.vocabSize)).to.equal(true);
      expect(tok.decode(ids)).to.equal(s);
    }), { numRuns: 300 });
  });
  it('handles a very long piece and round-trips it', () => {
    const tok = BPETokenizer.train('aaaa bbbb aaaa', 270);
    const long = 'a'.repeat(20000);
    expect(tok.decode(tok.encode(long))).to.equal(long);
  });
  it('refuses a vocabulary too small for the bytes and special tokens', () => {
    expect(() => BPETokenizer.train('abc', 200)).to.throw(/vocabSize must be an integer ≥ 257/);
  });
});

describe('data: BPETokenizer merges across the whole of a long piece', () => {
  // GPT-2's byte ids (GPT2_BYTE_ORDER) plus GPT-2's own ids for the merges that make '的'
  // (UTF-8 E7 9A 84 = byte ids 163 248 226; 'çļ' stands in at 256, '的' is 21410 in GPT-2).
  const gpt2Like = (extra: Record<string, number>, merges: [string, string][]) =>
    new BPETokenizer({ ...Object.fromEntries(GPT2_BYTE_ORDER.map((b, id) => [BYTE_TO_UNICODE[b], id])), ...extra }, merges, []);
  const [e7, x9a, x84] = [...toByteString('的')];

  it("gives 1,366 × 21410 for '的' × 1366 (4,098 bytes), as GPT-2's tokenizer, with no cut at 4,096 bytes", () => {
    const tok = gpt2Like({ [e7 + x9a]: 256, [e7 + x9a + x84]: 21410 }, [[e7, x9a], [e7 + x9a, x84]]);
    expect(tok.encode('的'.repeat(3))).to.deep.equal([21410, 21410, 21410]);
    const ids = tok.encode('的'.repeat(1366));
    expect(ids.length).to.equal(1366); // chunked merging gave 1,368 ending 21410 163 248 226
    expect(ids.every((id) => id === 21410)).to.equal(true);
  });
  it('merges a long letter run the same wherever it is cut (abc × 1500 = 4,500 bytes)', () => {
    const tok = gpt2Like({ ab: 256, abc: 257 }, [['a', 'b'], ['ab', 'c']]);
    expect(tok.encode('abc'.repeat(1500))).to.deep.equal(new Array(1500).fill(257));
  });
  it('merges the lowest rank first, the leftmost on a tie, in a run of one letter', () => {
    const tok = gpt2Like({ aa: 256, aaaa: 257 }, [['a', 'a'], ['aa', 'aa']]);
    // a×5: aa aa a (the leftmost pairs first) → aaaa a; a×200,001: 50,000 × aaaa then a
    expect(tok.idsToTokens(tok.encode('aaaaa'))).to.deep.equal(['aaaa', 'a']);
    const ids = tok.encode('a'.repeat(200_001));
    expect(ids.length).to.equal(50_001);
    expect(ids.slice(-2)).to.deep.equal([257, 64]);
  });
});
