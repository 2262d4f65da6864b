// WordPiece as BERT: BasicTokenizer, greedy longest match with '##', special tokens, pairs, training.
import { expect } from 'chai';
import * as path from 'node:path';
import { WordPieceTokenizer, basicTokenize } from '../../src/data/index.js';

const vocabFile = path.join(import.meta.dirname, 'fixtures', 'bert-tiny-vocab.txt');
// ids are 0-based line numbers of the fixture:
// [PAD]0 [UNK]1 [CLS]2 [SEP]3 [MASK]4 the5 un6 ##aff7 ##able8 a9 ##ff10 ,11 .12 !13 cafe14 man15
// ##s16 中17 国18 is19 runn20 ##ing21 dog22 hello23

describe('data: BERT BasicTokenizer', () => {
  it('lowercases, strips accents and splits punctuation (uncased)', () => {
    expect(basicTokenize('Hello, the CAFÉ!')).to.deep.equal(['hello', ',', 'the', 'cafe', '!']);
    expect(basicTokenize("don't stop-here...")).to.deep.equal(['don', "'", 't', 'stop', '-', 'here', '.', '.', '.']);
  });
  it('keeps case and accents when cased', () => {
    expect(basicTokenize('Hello CAFÉ', { lowercase: false })).to.deep.equal(['Hello', 'CAFÉ']);
  });
  it('splits CJK ideographs one by one, cleans control characters and odd whitespace', () => {
    expect(basicTokenize('中国dogs')).to.deep.equal(['中', '国', 'dogs']);
    expect(basicTokenize('a\u0000b\u00a0c\td\u200b')).to.deep.equal(['ab', 'c', 'd']);
  });
  it('splits on the line and paragraph separators U+2028 / U+2029, as Hugging Face', () => {
    // bert-base-uncased: 'hello\u2028world' → hello world [7592, 2088], not one [UNK]
    expect(basicTokenize('hello\u2028world\u2029end')).to.deep.equal(['hello', 'world', 'end']);
    expect(basicTokenize('a\u000bb\u000cc\u0085d')).to.deep.equal(['abcd']); // controls among White_Space are dropped
  });
});

describe('data: WordPieceTokenizer on a vocab.txt', () => {
  const tok = WordPieceTokenizer.fromVocab(vocabFile);
  it('reads ids from line numbers and finds the special tokens', () => {
    expect(tok.vocabSize).to.equal(24);
    expect(tok.specialTokens).to.deep.equal({ '[PAD]': 0, '[UNK]': 1, '[CLS]': 2, '[SEP]': 3, '[MASK]': 4 });
  });
  it("cuts words greedily into the longest pieces: unaffable → un ##aff ##able", () => {
    expect(tok.tokenize('unaffable')).to.deep.equal(['un', '##aff', '##able']);
    expect(tok.encode('unaffable')).to.deep.equal([6, 7, 8]);
    expect(tok.tokenize('aff')).to.deep.equal(['a', '##ff']);
    expect(tok.tokenize('running dogs')).to.deep.equal(['runn', '##ing', 'dog', '##s']);
  });
  it('encodes a sentence: lowercase, accents, punctuation, Chinese characters', () => {
    expect(tok.encode('Hello, the CAFÉ!')).to.deep.equal([23, 11, 5, 14, 13]);
    expect(tok.encode('中国 dogs')).to.deep.equal([17, 18, 22, 16]);
  });
  it('makes a whole word [UNK] when a piece is missing or the word is over 100 characters', () => {
    expect(tok.tokenize('xyz dogx the')).to.deep.equal(['[UNK]', '[UNK]', 'the']);
    expect(tok.encode('a'.repeat(101))).to.deep.equal([1]);
  });
  it('encodes hello U+2028 dog as two words', () => {
    expect(tok.encode('hello\u2028dog')).to.deep.equal([23, 22]);
  });
  it('cuts a 2,000-letter word in time: candidates have only the lengths of vocabulary entries', function () {
    this.timeout(2000); // trying every candidate length up to the word's took 27 s (cubic in the length)
    const letters = new WordPieceTokenizer(['[UNK]', 'a', '##a', '##aa'], { maxInputCharsPerWord: 2000 });
    const ids = letters.encode('a'.repeat(2000));
    expect(ids.length).to.equal(1 + 999 + 1); // a, then ##aa × 999, then ##a
    expect(ids.slice(0, 2)).to.deep.equal([1, 3]);
  });
  it('cuts a 10,000-letter word in time next to a 5,000-character vocabulary entry', function () {
    this.timeout(2000); // capping candidates at the longest entry alone: ~10¹¹ character copies
    const letters = new WordPieceTokenizer(['[UNK]', 'a', '##a', '##' + 'b'.repeat(5000)], { maxInputCharsPerWord: 10_000 });
    expect(letters.encode('a'.repeat(10_000))).to.deep.equal([1, ...new Array<number>(9999).fill(2)]);
    expect(letters.tokenize('a' + 'b'.repeat(5000))).to.deep.equal(['a', '##' + 'b'.repeat(5000)]);
  });
  it('refuses a maxInputCharsPerWord over 10,000', () => {
    expect(() => new WordPieceTokenizer(['[UNK]'], { maxInputCharsPerWord: 1e9 })).to.throw(/maxInputCharsPerWord must be an integer in \[0, 10000\] \(got 1000000000\)/);
    expect(() => WordPieceTokenizer.fromJSON({ ...tok.toJSON(), maxInputCharsPerWord: 1e9 })).to.throw(/field 'maxInputCharsPerWord' must be an integer in \[0, 10000\]/);
  });
  it('keeps special tokens written in the text', () => {
    expect(tok.encode('the [MASK] is running')).to.deep.equal([5, 4, 19, 20, 21]);
  });
  it('builds [CLS] a [SEP] b [SEP] with segment ids, truncating the longer side first', () => {
    expect(tok.encodePair('the dog', 'is running')).to.deep.equal({ ids: [2, 5, 22, 3, 19, 20, 21, 3], tokenTypeIds: [0, 0, 0, 0, 1, 1, 1, 1] });
    expect(tok.encodePair('the dog').ids).to.deep.equal([2, 5, 22, 3]);
    // 2 + 3 pieces + 3 specials = 8 > 7: 'is running' (3 pieces) loses its last piece
    expect(tok.encodePair('the dog', 'is running', { maxLen: 7 }).ids).to.deep.equal([2, 5, 22, 3, 19, 20, 3]);
    expect(() => tok.encodePair('the', 'dog', { maxLen: 2 })).to.throw(/maxLen 2 leaves no room for the 3 special tokens/);
  });
  it("truncates one token at a time from the longer side, the second on a tie (Hugging Face's longest_first)", () => {
    const letters = WordPieceTokenizer.fromVocab(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'a', 'b', 'c', 'd', 'e', 'f']);
    // 6 + 4 + 3 > 10: a loses f, e (6 → 4), then 4 = 4 and the second loses d
    expect(letters.decode(letters.encodePair('a b c d e f', 'a b c d', { maxLen: 10 }).ids)).to.equal('[CLS] a b c d [SEP] a b c [SEP]');
    expect(letters.encodePair('a b', 'a b', { maxLen: 6 }).ids).to.deep.equal([2, 5, 6, 3, 5, 3]);
  });
  it('decodes by gluing ## pieces, optionally without special tokens', () => {
    expect(tok.decode([2, 6, 7, 8, 5, 22, 16, 3])).to.equal('[CLS] unaffable the dogs [SEP]');
    expect(tok.decode([2, 6, 7, 8, 3], { skipSpecialTokens: true })).to.equal('unaffable');
  });
  it('needs [UNK] in the vocabulary and names missing special tokens', () => {
    expect(() => WordPieceTokenizer.fromVocab(['the', 'dog'])).to.throw(/has no \[UNK\] token/);
    expect(() => WordPieceTokenizer.fromVocab(['[UNK]', 'the']).encodePair('the')).to.throw(/has no \[CLS\] token/);
    expect(() => WordPieceTokenizer.fromVocab(path.join(path.dirname(vocabFile), 'missing.txt'))).to.throw(/file not found: .*missing\.txt/);
  });
});

describe('data: WordPieceTokenizer.train', () => {
  const corpus = [
    'The unaffable man was running with his dogs.',
    'Dogs are running; the man is unaffable!',
    'Running, running, running: the dogs never stop running.',
    'Affable men and affable dogs.',
  ];
  it('starts with the special tokens, covers the corpus with no [UNK], and learns frequent words', () => {
    const tok = WordPieceTokenizer.train(corpus, 200);
    expect(tok.vocab.slice(0, 5)).to.deep.equal(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    expect(tok.vocabSize).to.be.at.most(200);
    for (const text of corpus) expect(tok.encode(text)).to.not.include(tok.unkId);
    expect(tok.tokenize('running dogs')).to.deep.equal(['running', 'dogs']);
    expect(tok.vocab).to.include('##a').and.to.include('r'); // every kept character, word-initial and inside
  });
  it('keeps only the most frequent characters when the alphabet is limited', () => {
    const tok = WordPieceTokenizer.train(corpus, 200, { limitAlphabet: 10 });
    expect(tok.vocab.filter((t) => [...t].length === 1)).to.have.length(10);
    expect(tok.encode('zzz')).to.deep.equal([tok.unkId]);
  });
  it('is deterministic', () => {
    expect(WordPieceTokenizer.train(corpus, 60).vocab).to.deep.equal(WordPieceTokenizer.train([...corpus], 60).vocab);
  });
  it('refuses a vocabulary with no room beyond the special tokens', () => {
    expect(() => WordPieceTokenizer.train(corpus, 6)).to.throw(/vocabSize must be an integer ≥ 7/);
  });
});
