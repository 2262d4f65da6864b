// Hugging Face's tokenizer.json: what tsgrad writes, checked against an independent implementation
// (@huggingface/tokenizers, pure JS, run offline on the written files) on a deterministic corpus of
// awkward text; files in Hugging Face's own layout read back; folders tsgrad wrote before in its own
// schema; and errors that name the component tsgrad does not implement.
import { expect } from 'chai';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { Tokenizer as HFTokenizer } from '@huggingface/tokenizers';
import { BPETokenizer, CharTokenizer, WordPieceTokenizer, loadTokenizer, saveTokenizer, type Tokenizer } from '../../src/data/index.js';

const fixtures = path.join(import.meta.dirname, 'fixtures');
const readJson = (file: string) => JSON.parse(fs.readFileSync(file, 'utf8'));
/** The independent tokenizer, built from a folder's files as Hugging Face's libraries read them. */
function reference(dir: string): HFTokenizer {
  const config = path.join(dir, 'tokenizer_config.json');
  return new HFTokenizer(readJson(path.join(dir, 'tokenizer.json')), fs.existsSync(config) ? readJson(config) : {});
}

// Whitespace runs, contractions, accents (composed and combining), CJK, emoji and other astral
// characters, numbers, code, controls. Left out where the JS library itself departs from Hugging
// Face's Rust tokenizers (and from Python's BertTokenizer, which tsgrad follows): it splits only BMP
// ideographs (𠀀, U+20000, stays glued) and keeps unassigned code points that the others drop.
const fragments = [
  'Hello,   world!', "It's", " isn't", " we'll", " they're", " I'm", " you'd", " I've", "'S", ' — ', '"quoted"',
  'Café naïve résumé', ' façade', ' Ångström', ' ÉCOLE', ' straße', ' İstanbul', 'e\u0301', ' a\u0300n\u0303o\u0308', ' Z\u0335\u0336a\u0337',
  '中文测试，', '日本語のテキスト。', '한국어 텍스트', ' ＡＢＣ１２３',
  '😀', ' 👍🏽', '👨‍👩‍👧‍👦', ' 🇫🇷', ' 𝔘𝔫𝔦𝔠𝔬𝔡𝔢', ' 𝟘𝟙𝟚', '💩💩',
  '3.14159', ' 1,000,000', ' 2024-01-01', ' 0x1F', ' 1e-9', ' ½²', ' ٣٤٥', ' १२३',
  'function f(x) { return x ** 2 + 1; }', ' // comment', '\tif (a && b || !c) { arr[i++] = `t${x}`; }',
  ' https://example.com/path?q=1&r=2#frag', ' email@example.org', ' $100 €50 £20', ' #tag @user ~^|\\',
  ' Ελληνικά', ' Русский текст', ' עברית', ' العربية', ' हिन्दी', ' ไทย', ' ALL CAPS', ' MiXeD CaSe',
  'a\u200bb\u200dc\ufeffd', 'x\u0000y\u0007z', ' unaffable', ' running runner',
  '<|endoftext|>', ' [MASK]', '[SEP]x', ' [mask]', // special tokens, written in the text
];
const separators = [' ', '  ', '   ', '\n', '\n\n', '\t', '\r\n', ' \n ', '\u00a0', '\u2003', '\u3000', '\u2028', ''];
const corpus = Array.from({ length: 20 }, (_, i) => fragments.map((f, j) => ((i + j) % 4 === 0 ? f.toUpperCase() : f)).join(separators[i % separators.length])).join('\n');
const probes = [
  ...fragments,
  ...fc.sample(fc.array(fc.oneof(fc.constantFrom(...fragments), fc.constantFrom(...separators)), { minLength: 1, maxLength: 12 }).map((parts) => parts.join('')), { seed: 42, numRuns: 300 }),
  '    leading and trailing    ', '\n\n\n', ' ', '',
];

/** The probes on which tsgrad and the reference disagree (empty when they agree). */
function disagreements(tok: Tokenizer, ref: HFTokenizer): { text: string; tsgrad: number[]; reference: number[] }[] {
  const out = [];
  for (const text of probes) {
    const ids = tok.encode(text);
    const refIds = ref.encode(text, { add_special_tokens: false }).ids;
    if (JSON.stringify(ids) !== JSON.stringify(refIds)) out.push({ text, tsgrad: ids, reference: refIds });
  }
  return out;
}

describe('data: tokenizer.json in Hugging Face\'s schema, against @huggingface/tokenizers', () => {
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-hf-tok-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  const trained: [string, () => BPETokenizer | WordPieceTokenizer][] = [
    ['byte-level BPE', () => BPETokenizer.train(corpus, 700)],
    ['WordPiece, lowercase', () => WordPieceTokenizer.train(corpus, 3000, { limitAlphabet: 1000, minFrequency: 1 })],
    ['WordPiece, cased', () => WordPieceTokenizer.train(corpus, 3000, { lowercase: false, limitAlphabet: 1000, minFrequency: 1 })],
  ];
  for (const [name, make] of trained) {
    it(`a trained ${name}: the reference gives tsgrad's ids on ${probes.length} awkward strings, and tsgrad reads its files back`, () => {
      const tok = make();
      const sub = path.join(dir, name.replace(/\W+/g, '-'));
      saveTokenizer(tok, sub);
      const ref = reference(sub);
      expect(disagreements(tok, ref)).to.deep.equal([]);
      for (const ids of probes.map((s) => tok.encode(s)).filter((ids) => ids.length > 0)) expect(ref.decode(ids)).to.equal(tok.decode(ids)); // the reference refuses []
      if (tok instanceof WordPieceTokenizer) {
        expect(tok.encode(corpus).filter((id) => id === tok.unkId).length).to.be.below(10); // the agreement is on pieces, not on [UNK]s
        for (let i = 0; i + 1 < 60; i += 2) {
          const mine = tok.encodePair(probes[i], probes[i + 1]);
          const theirs = ref.encode(probes[i], { text_pair: probes[i + 1], return_token_type_ids: true });
          expect({ ids: theirs.ids, tokenTypeIds: theirs.token_type_ids }).to.deep.equal(mine);
        }
      }
      const back = loadTokenizer(sub);
      expect(back.constructor).to.equal(tok.constructor);
      for (const text of probes) expect(back.encode(text)).to.deep.equal(tok.encode(text));
    });
  }

  it('writes the components of GPT-2 and BERT, tokenizer_config.json and special_tokens_map.json', () => {
    const bpeDir = path.join(dir, 'bpe-files');
    saveTokenizer(BPETokenizer.train(corpus, 300), bpeDir);
    expect(fs.readdirSync(bpeDir).sort()).to.deep.equal(['merges.txt', 'special_tokens_map.json', 'tokenizer.json', 'tokenizer_config.json', 'vocab.json']);
    const gpt2 = readJson(path.join(bpeDir, 'tokenizer.json'));
    expect([gpt2.normalizer, gpt2.pre_tokenizer.type, gpt2.decoder.type, gpt2.model.type]).to.deep.equal([null, 'ByteLevel', 'ByteLevel', 'BPE']);
    expect(gpt2.added_tokens).to.deep.equal([{ id: 299, content: '<|endoftext|>', single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }]);
    expect(readJson(path.join(bpeDir, 'special_tokens_map.json'))).to.deep.equal({ bos_token: '<|endoftext|>', eos_token: '<|endoftext|>', unk_token: '<|endoftext|>' });
    expect(readJson(path.join(bpeDir, 'tokenizer_config.json'))).to.include({ tokenizer_class: 'GPT2Tokenizer', clean_up_tokenization_spaces: false });

    const bertDir = path.join(dir, 'bert-files');
    saveTokenizer(WordPieceTokenizer.train(corpus, 300, { lowercase: false }), bertDir);
    const bert = readJson(path.join(bertDir, 'tokenizer.json'));
    expect(bert.normalizer).to.deep.equal({ type: 'Sequence', normalizers: [{ type: 'NFC' }, { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: false, lowercase: false }] });
    expect([bert.pre_tokenizer.type, bert.post_processor.type, bert.decoder.type, bert.model.type]).to.deep.equal(['BertPreTokenizer', 'TemplateProcessing', 'WordPiece', 'WordPiece']);
    expect(bert.added_tokens.map((t: { content: string }) => t.content)).to.deep.equal(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    expect(readJson(path.join(bertDir, 'special_tokens_map.json'))).to.deep.equal({ pad_token: '[PAD]', unk_token: '[UNK]', cls_token: '[CLS]', sep_token: '[SEP]', mask_token: '[MASK]' });
    expect(readJson(path.join(bertDir, 'tokenizer_config.json'))).to.include({ tokenizer_class: 'BertTokenizer', do_lower_case: false });
    expect(fs.readFileSync(path.join(bertDir, 'vocab.txt'), 'utf8').split('\n').slice(0, 5)).to.deep.equal(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    expect(readJson(path.join(dir, 'WordPiece-lowercase', 'tokenizer.json')).normalizer).to.include({ type: 'BertNormalizer', lowercase: true, strip_accents: true });
    const bare = path.join(dir, 'no-cls'); // a vocabulary without [CLS] / [SEP]: nothing to add around the text
    saveTokenizer(WordPieceTokenizer.fromVocab(['[UNK]', 'a', '##b']), bare);
    expect(readJson(path.join(bare, 'tokenizer.json')).post_processor).to.equal(null);
    expect(loadTokenizer(bare).encode('ab a')).to.deep.equal([1, 2, 1]);
  });

  it('removes the other kind of file when a folder is saved over, so no stale tokenizer loads', () => {
    const sub = path.join(dir, 'switch');
    saveTokenizer(BPETokenizer.train('abc abc', 260), sub);
    saveTokenizer(CharTokenizer.fit('xyz'), sub);
    expect(fs.existsSync(path.join(sub, 'tokenizer.json'))).to.equal(false);
    expect(loadTokenizer(sub).type).to.equal('char');
    saveTokenizer(BPETokenizer.train('abc abc', 260), sub);
    expect(fs.existsSync(path.join(sub, 'tsgrad_tokenizer.json'))).to.equal(false);
    expect(loadTokenizer(sub).type).to.equal('bpe');
  });
});

describe("data: reading Hugging Face's own tokenizer.json", () => {
  // Written by hand in the layout of gpt2's and bert-base-uncased's files (merges as pairs, as
  // tokenizers ≥ 0.20 writes them; <|endoftext|> only in added_tokens; strip_accents null), from
  // the same tiny vocabularies as the GPT-2 and BERT format fixtures. Folders with tokenizer.json only.
  const hfGpt2 = path.join(fixtures, 'hf-gpt2-tiny');
  const hfBert = path.join(fixtures, 'hf-bert-tiny');

  it('loads a GPT-2 style folder: the same ids as vocab.json + merges.txt and as the reference', () => {
    const tok = loadTokenizer(hfGpt2);
    const gpt2 = BPETokenizer.fromFiles(path.join(fixtures, 'gpt2-tiny-vocab.json'), path.join(fixtures, 'gpt2-tiny-merges.txt'));
    expect(tok).to.be.instanceOf(BPETokenizer);
    expect(tok.specialTokens).to.deep.equal({ '<|endoftext|>': 272 });
    expect(tok.encode('Hello hello world! lower<|endoftext|>😀')).to.deep.equal([261, 263, 78, 267, 0, 271, 272, 172, 253, 246, 222]);
    for (const text of probes) expect(tok.encode(text)).to.deep.equal(gpt2.encode(text));
    expect(disagreements(tok, reference(hfGpt2))).to.deep.equal([]);
  });
  it('loads a BERT style folder: the same ids as vocab.txt and as the reference', () => {
    const tok = loadTokenizer(hfBert) as WordPieceTokenizer;
    const bert = WordPieceTokenizer.fromVocab(path.join(fixtures, 'bert-tiny-vocab.txt'));
    expect(tok).to.be.instanceOf(WordPieceTokenizer);
    expect(tok.options).to.include({ lowercase: true, stripAccents: true, nfc: false, maxInputCharsPerWord: 100 });
    expect(tok.encode('Hello, the CAFÉ! 中国 dogs unaffable')).to.deep.equal([23, 11, 5, 14, 13, 17, 18, 22, 16, 6, 7, 8]);
    for (const text of probes) expect(tok.encode(text)).to.deep.equal(bert.encode(text));
    expect(disagreements(tok, reference(hfBert))).to.deep.equal([]);
    expect(tok.encodePair('the dog', 'is running').ids).to.deep.equal(reference(hfBert).encode('the dog', { text_pair: 'is running' }).ids);
  });
  it("names the component tsgrad does not implement, and the file", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-hf-bad-'));
    try {
      const bert = readJson(path.join(hfBert, 'tokenizer.json'));
      const gpt2 = readJson(path.join(hfGpt2, 'tokenizer.json'));
      const cases: [object, RegExp][] = [
        [{ ...bert, normalizer: { type: 'Lowercase' } }, /normalizer "Lowercase" is not supported with WordPiece/],
        [{ ...bert, normalizer: { type: 'Sequence', normalizers: [{ type: 'NFKC' }, bert.normalizer] } }, /normalizer Sequence of \["NFKC","BertNormalizer"\] is not supported/],
        [{ ...bert, pre_tokenizer: { type: 'Whitespace' } }, /pre_tokenizer "Whitespace" is not supported with WordPiece/],
        [{ ...bert, model: { ...bert.model, type: 'Unigram' } }, /model "Unigram" is not supported \(tsgrad reads BPE and WordPiece\)/],
        [{ ...bert, model: { ...bert.model, max_input_chars_per_word: 1e9 } }, /model WordPiece field max_input_chars_per_word must be an integer in \[0, 10000\] \(got 1000000000\)/],
        [{ ...gpt2, normalizer: { type: 'NFC' } }, /normalizer "NFC" is not supported with byte-level BPE/],
        [{ ...gpt2, pre_tokenizer: { type: 'Metaspace' } }, /pre_tokenizer "Metaspace" is not supported with BPE/],
        [{ ...gpt2, pre_tokenizer: { ...gpt2.pre_tokenizer, add_prefix_space: true } }, /pre_tokenizer ByteLevel add_prefix_space true is not supported/],
        [{ ...gpt2, post_processor: { type: 'TemplateProcessing' } }, /post_processor "TemplateProcessing" is not supported with BPE/],
        [{ ...gpt2, model: { ...gpt2.model, byte_fallback: true } }, /model BPE byte_fallback true is not supported/],
      ];
      for (const [json, message] of cases) {
        const file = path.join(dir, 'tokenizer.json');
        fs.writeFileSync(file, JSON.stringify(json));
        expect(() => loadTokenizer(dir)).to.throw(new RegExp(`${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: ${message.source}`));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('data: tokenizer folders written before, in tsgrad\'s own schema under tokenizer.json', () => {
  const old = (type: string) => path.join(fixtures, `tsgrad-old-${type}`);
  it('still load, with the same ids', () => {
    expect(loadTokenizer(old('wordpiece')).encode('Hello, the CAFÉ!')).to.deep.equal([23, 11, 5, 14, 13]);
    expect(loadTokenizer(old('bpe')).encode('Hello hello world! lower<|endoftext|>😀')).to.deep.equal([261, 263, 78, 267, 0, 271, 272, 172, 253, 246, 222]);
    const char = loadTokenizer(old('char'));
    expect(char.type).to.equal('char');
    expect(char.decode(char.encode('the dog'))).to.equal('the dog');
  });
  it('names the file and field of a hostile maxInputCharsPerWord', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-old-bad-'));
    try {
      const file = path.join(dir, 'tokenizer.json');
      fs.writeFileSync(file, JSON.stringify({ ...readJson(path.join(old('wordpiece'), 'tokenizer.json')), maxInputCharsPerWord: 1e9 }));
      expect(() => loadTokenizer(dir)).to.throw(/tokenizer\.json: WordPieceTokenizer\.fromJSON: field 'maxInputCharsPerWord' must be an integer in \[0, 10000\]/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
