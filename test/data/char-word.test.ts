// Character and Keras-style word tokenizers (D26), padSequences, and the tokenizer registry.
import { expect } from 'chai';
import fc from 'fast-check';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  CharTokenizer, WordTokenizer, BPETokenizer, WordPieceTokenizer, padSequences, textToWordSequence,
  loadTokenizer, saveTokenizer, tokenizerFromJSON, type Tokenizer,
} from '../../src/data/index.js';

describe('data: CharTokenizer', () => {
  it('fits the sorted unique characters (code points) and encodes to their positions', () => {
    const tok = CharTokenizer.fit('hello world');
    expect(tok.chars).to.deep.equal([' ', 'd', 'e', 'h', 'l', 'o', 'r', 'w']);
    expect(tok.vocabSize).to.equal(8);
    expect(tok.encode('hold')).to.deep.equal([3, 5, 4, 1]);
    expect(tok.decode([3, 5, 4, 1])).to.equal('hold');
  });
  it('treats an emoji as one character and sorts by code point', () => {
    const tok = CharTokenizer.fit('b😀a\uffff');
    expect(tok.chars).to.deep.equal(['a', 'b', '\uffff', '😀']);
    expect(tok.encode('😀a')).to.deep.equal([3, 0]);
  });
  it('round-trips any string it was fitted on (fast-check)', () => {
    const anyChar = fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' }), fc.string({ unit: fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)) }));
    fc.assert(fc.property(anyChar, (s) => {
      const tok = CharTokenizer.fit(s);
      expect(tok.decode(tok.encode(s))).to.equal(s);
    }), { numRuns: 200 });
  });
  it('refuses an unseen character by name, or maps it to unkToken when asked', () => {
    expect(() => CharTokenizer.fit('abc').encode('abé')).to.throw(/character "é" \(U\+00E9\) at index 2 was not in the fitted text \(3 characters known\)/);
    const tok = CharTokenizer.fit('abc', { unkToken: '?' });
    expect(tok.vocabSize).to.equal(4);
    expect(tok.specialTokens).to.deep.equal({ '?': 3 });
    expect(tok.encode('abé')).to.deep.equal([0, 1, 3]);
    expect(tok.decode([0, 1, 3])).to.equal('ab?');
  });
  it('refuses ids outside the vocabulary when decoding', () => {
    expect(() => CharTokenizer.fit('ab').decode([0, 2])).to.throw(/id 2 at position 1 is outside the vocabulary \[0, 2\)/);
  });
});

describe('data: WordTokenizer (Keras Tokenizer, D26)', () => {
  // The TensorFlow "NLP Zero to Hero" example: Tokenizer(num_words=100, oov_token="<OOV>")
  const sentences = ['I love my dog', 'I love my cat', 'You love my dog!', 'Do you think my dog is amazing?'];
  it('ranks words by frequency, ties by first appearance, OOV = 1, as Keras does', () => {
    const tok = WordTokenizer.fit(sentences, { numWords: 100 });
    expect(Object.fromEntries(tok.wordIndex)).to.deep.equal({ '<OOV>': 1, my: 2, love: 3, dog: 4, i: 5, you: 6, cat: 7, do: 8, think: 9, is: 10, amazing: 11 });
    expect(tok.textsToSequences(['i really love my dog', 'my dog loves my manatee'])).to.deep.equal([[5, 1, 3, 2, 4], [2, 4, 1, 2, 1]]);
    expect(tok.vocabSize).to.equal(12);
  });
  it('keeps only indices < numWords when encoding (the rest become OOV)', () => {
    const tok = WordTokenizer.fit(sentences, { numWords: 4 });
    expect(tok.wordIndex.size).to.equal(11); // the index keeps every word, as Keras's word_index
    expect(tok.encode('I love my dog')).to.deep.equal([1, 3, 2, 1]);
    expect(tok.vocabSize).to.equal(4);
    expect(tok.decode([1, 3, 2, 1])).to.equal('<OOV> love my <OOV>');
  });
  it('without an OOV token, words start at 1 and unknown words are dropped', () => {
    const tok = WordTokenizer.fit(sentences, { oovToken: null });
    expect(tok.wordIndex.get('my')).to.equal(1);
    expect(tok.encode('my manatee dog')).to.deep.equal([1, 3]);
  });
  it('filters punctuation, lowercases and splits on spaces like text_to_word_sequence', () => {
    expect(textToWordSequence("Hello, World! It's\tfine--ok.")).to.deep.equal(['hello', 'world', "it's", 'fine', 'ok']);
    expect(textToWordSequence('Hello World', { lower: false })).to.deep.equal(['Hello', 'World']);
  });
  it('decodes skipping padding', () => {
    const tok = WordTokenizer.fit(sentences);
    expect(tok.decode([0, 0, 5, 3, 2, 4])).to.equal('i love my dog');
  });
});

describe('data: padSequences (Keras pad_sequences)', () => {
  const seqs = [[1], [2, 3], [4, 5, 6]];
  it('pads to the longest, before, with 0 by default', () => {
    expect(padSequences(seqs)).to.deep.equal([[0, 0, 1], [0, 2, 3], [4, 5, 6]]);
  });
  it('pads with a value, or after', () => {
    expect(padSequences(seqs, undefined, { value: -1 })).to.deep.equal([[-1, -1, 1], [-1, 2, 3], [4, 5, 6]]);
    expect(padSequences(seqs, undefined, { padding: 'post' })).to.deep.equal([[1, 0, 0], [2, 3, 0], [4, 5, 6]]);
  });
  it('truncates before by default (keeps the end), or after', () => {
    expect(padSequences(seqs, 2)).to.deep.equal([[0, 1], [2, 3], [5, 6]]);
    expect(padSequences(seqs, 2, { truncating: 'post' })).to.deep.equal([[0, 1], [2, 3], [4, 5]]);
    expect(padSequences(seqs, 2, { padding: 'post', truncating: 'post' })).to.deep.equal([[1, 0], [2, 3], [4, 5]]);
  });
  it('fills empty sequences with the value and longer maxLen with padding', () => {
    expect(padSequences([[], [7]], 3)).to.deep.equal([[0, 0, 0], [0, 0, 7]]);
  });
  it('refuses unknown options', () => {
    expect(() => padSequences(seqs, 2, { padding: 'middle' as never })).to.throw(/padding must be 'pre' or 'post'/);
  });
});

describe('data: tokenizer registry (tokenizer.json, tsgrad_tokenizer.json)', () => {
  const fixtures = path.join(import.meta.dirname, 'fixtures');
  const sample = 'Hello hello world! The dog is running, the cafe.';
  const tokenizers: [string, () => Tokenizer][] = [
    ['char', () => CharTokenizer.fit(sample)],
    ['word', () => WordTokenizer.fit([sample, 'more words here'], { numWords: 6 })],
    ['bpe', () => BPETokenizer.fromFiles(path.join(fixtures, 'gpt2-tiny-vocab.json'), path.join(fixtures, 'gpt2-tiny-merges.txt'))],
    ['wordpiece', () => WordPieceTokenizer.fromVocab(path.join(fixtures, 'bert-tiny-vocab.txt'))],
  ];
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-tok-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const [type, make] of tokenizers) {
    it(`saves and loads a ${type} tokenizer from a folder, a file, a JSON string and an object`, () => {
      const tok = make();
      const sub = path.join(dir, type);
      const file = saveTokenizer(tok, sub);
      // Hugging Face's schema where it has the same tokenizer; tsgrad's own file for char and word
      expect(file).to.equal(path.join(sub, type === 'char' || type === 'word' ? 'tsgrad_tokenizer.json' : 'tokenizer.json'));
      for (const source of [sub, file, fs.readFileSync(file, 'utf8'), tok.toJSON()]) {
        const back = loadTokenizer(source);
        expect(back.type).to.equal(type);
        expect(back.vocabSize).to.equal(tok.vocabSize);
        expect(back.specialTokens).to.deep.equal(tok.specialTokens);
        expect(back.encode(sample)).to.deep.equal(tok.encode(sample));
        expect(back.decode(tok.encode(sample))).to.equal(tok.decode(tok.encode(sample)));
      }
    });
  }
  it('names what is wrong with a saved tokenizer', () => {
    expect(() => tokenizerFromJSON({ type: 'sentencepiece' })).to.throw(/unknown tokenizer type "sentencepiece" \(known: char, word, bpe, wordpiece, or Hugging Face's schema/);
    expect(() => tokenizerFromJSON({ type: 'char', chars: 'abc' })).to.throw(/CharTokenizer.fromJSON: field 'chars' must be an array of strings/);
    expect(() => loadTokenizer(path.join(dir, 'nowhere'))).to.throw(/file not found: .*nowhere/);
    fs.mkdirSync(path.join(dir, 'empty'));
    expect(() => loadTokenizer(path.join(dir, 'empty'))).to.throw(/empty holds neither tokenizer\.json nor tsgrad_tokenizer\.json/);
    expect(() => loadTokenizer('{"type": ')).to.throw(/not valid JSON/);
  });
});
