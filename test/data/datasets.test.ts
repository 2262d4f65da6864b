// Corpora by name (npm packages) or path, text<TAB>label files (D23) and their errors, MNIST and
// its seeded shifts (D19).
import { expect } from 'chai';
import * as path from 'node:path';
import * as tg from '../../src/index.js';
import { loadText, loadClassification, loadMnist, randomShift, translateImages, emailText } from '../../src/data/index.js';

const fixture = (name: string) => path.join(import.meta.dirname, 'fixtures', name);
const sum = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0);

describe('data: loadText', () => {
  it("'moby-dick' is the novel, from the contents to the epilogue", () => {
    const text = loadText('moby-dick');
    expect(text.length).to.be.greaterThan(1_000_000);
    expect(text.startsWith('CONTENTS')).to.equal(true);
    expect(text).to.include('Call me Ishmael.');
    expect(text.trimEnd().endsWith('orphan.')).to.equal(true);
  });
  it("'names' is one first name per line, each once", () => {
    const names = loadText('names').trimEnd().split('\n');
    expect(names.length).to.equal(8422);
    expect(new Set(names).size).to.equal(names.length);
    expect(names).to.include('Aaron').and.to.include('Abagail');
    expect(names.every((n) => n.length > 0 && !/\s/.test(n))).to.equal(true);
  });
  it('reads a local file', () => {
    expect(loadText(fixture('tiny.txt'))).to.equal('Call me Ishmael. Some years ago, never mind how long precisely.\n');
  });
  it('names a missing file, lists the known names, and points elsewhere for other kinds', () => {
    expect(() => loadText(fixture('nope.txt'))).to.throw(/loadText: file not found: .*nope\.txt/);
    expect(() => loadText('mobydick')).to.throw("loadText: unknown dataset 'mobydick' (known: moby-dick, names; or a path to a local file)");
    expect(() => loadText('spam')).to.throw(/'spam' is not a text dataset/);
    expect(() => loadText(path.dirname(fixture('x')))).to.throw(/is a folder, expected a file/);
  });
});

describe('data: loadClassification', () => {
  it("'spam' is the 6,046 SpamAssassin e-mails: ham 0, spam 1, headers dropped", () => {
    const { texts, labels, labelNames } = loadClassification('spam');
    expect(texts).to.have.length(6046);
    expect(labelNames).to.deep.equal(['ham', 'spam']);
    expect(labels.reduce((a, b) => a + b, 0)).to.equal(500 + 1396); // groups spam-1 and spam-2
    expect(texts.filter((t) => /^(Return-Path|Received|Delivered-To|Message-Id):/i.test(t)).length).to.equal(0);
  });
  it('keeps the Subject and the body of an e-mail', () => {
    const raw = 'From a@b  Mon\r\nReceived: x\r\nSubject: Cheap\r\n  pills\r\nTo: c@d\r\n\r\nBuy now.\r\nReally.\r\n';
    expect(emailText(raw)).to.equal('Cheap pills\nBuy now.\nReally.');
  });
  it('reads text<TAB>label lines: last tab splits, blank lines skipped, labels sorted to ids', () => {
    const data = loadClassification(fixture('reviews.tsv'));
    expect(data.texts).to.deep.equal(['I loved this film', 'terrible, just terrible', 'A fine\tdelightful day', 'meh']);
    expect(data.labelNames).to.deep.equal(['neg', 'neutral', 'pos']);
    expect([...data.labels]).to.deep.equal([2, 0, 2, 1]);
  });
  it('uses whole-number labels as ids and skips a text<TAB>label header', () => {
    const data = loadClassification(fixture('numeric.tsv'));
    expect(data.texts).to.deep.equal(['good', 'bad', 'ugly']);
    expect([...data.labels]).to.deep.equal([1, 0, 2]);
    expect(data.labelNames).to.deep.equal(['0', '1', '2']);
  });
  it('takes the label mapping of a trained model, and refuses labels outside it with the line', () => {
    const data = loadClassification(fixture('reviews.tsv'), { labelNames: ['pos', 'neg', 'neutral'] });
    expect([...data.labels]).to.deep.equal([0, 1, 0, 2]);
    expect(() => loadClassification(fixture('reviews.tsv'), { labelNames: ['pos', 'neg'] })).to.throw(/reviews\.tsv:5: label 'neutral' is not one of the known labels \(pos, neg\)/);
  });
  it('gives the file and line number of a malformed line', () => {
    expect(() => loadClassification(fixture('bad-no-tab.tsv'))).to.throw(/bad-no-tab\.tsv:3: expected text<TAB>label, found no tab in "no tab on this line"/);
    expect(() => loadClassification(fixture('bad-empty-label.tsv'))).to.throw(/bad-empty-label\.tsv:2: the label after the tab is empty/);
  });
  it('names a missing file and lists the known names', () => {
    expect(() => loadClassification(fixture('missing.tsv'))).to.throw(/file not found: .*missing\.tsv/);
    expect(() => loadClassification('imdb')).to.throw("loadClassification: unknown dataset 'imdb' (known: spam; or a path to a local file)");
  });
});

describe('data: MNIST', () => {
  it('loads images [N, 1, 28, 28] in [0, 1] and labels 0–9, classes round robin', () => {
    const { train, test } = loadMnist({ train: 50, test: 10 });
    expect(train.images.shape).to.deep.equal([50, 1, 28, 28]);
    expect(train.images.dtype).to.equal('float32');
    expect(train.labels.shape).to.deep.equal([50]);
    expect(train.labels.dtype).to.equal('int32');
    expect(test.images.shape).to.deep.equal([10, 1, 28, 28]);
    expect([...train.labels.data].slice(0, 12)).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0, 1]);
    const pixels = train.images.data;
    expect(Math.min(...pixels)).to.be.at.least(0);
    expect(Math.max(...pixels)).to.be.at.most(1);
    expect(Math.max(...pixels)).to.be.greaterThan(0.9);
  });
  it('takes the test digits after the training ones, the same each time', () => {
    const a = loadMnist({ train: 50, test: 10 });
    const b = loadMnist({ train: 60, test: 0 });
    expect([...a.test.images.data]).to.deep.equal([...b.train.images.data.subarray(50 * 784)]);
    expect(() => loadMnist({ train: 9000, test: 1001 })).to.throw(/train \+ test = 10001 is more than the 10000 digits/);
  });
  it('translateImages moves pixels and fills with zeros', () => {
    const img = tg.zeros([2, 1, 4, 4]);
    img.data[0 * 16 + 1 * 4 + 1] = 1; // image 0, (y 1, x 1)
    img.data[1 * 16 + 0 * 4 + 3] = 1; // image 1, (y 0, x 3): moves out
    const out = translateImages(img, [2, 0], [-1, 1]);
    expect(out.shape).to.deep.equal([2, 1, 4, 4]);
    expect(out.data[0 * 16 + 3 * 4 + 0]).to.equal(1);
    expect(sum(out.data)).to.equal(1);
  });
  it('randomShift keeps the shape and the ink of centred digits, moves them, and follows the seed', () => {
    const { train } = loadMnist({ train: 20, test: 0 });
    tg.manualSeed(7);
    const a = randomShift(train.images, 2);
    tg.manualSeed(7);
    const b = randomShift(train.images, 2);
    expect(a.shape).to.deep.equal([20, 1, 28, 28]);
    expect([...a.data]).to.deep.equal([...b.data]);
    let moved = 0;
    let checked = 0;
    for (let n = 0; n < 20; n++) {
      const before = train.images.data.subarray(n * 784, (n + 1) * 784);
      const after = a.data.subarray(n * 784, (n + 1) * 784);
      if (before.some((v, i) => v !== after[i])) moved++;
      // a digit whose ink stays 2 pixels away from every edge loses none in a shift of ≤ 2
      const inkAt = [...before.keys()].filter((i) => before[i] > 0);
      const inside = inkAt.every((i) => Math.floor(i / 28) >= 2 && Math.floor(i / 28) < 26 && i % 28 >= 2 && i % 28 < 26);
      if (!inside) continue;
      checked++;
      expect(sum(after)).to.be.closeTo(sum(before), 1e-3);
    }
    expect(checked).to.be.greaterThan(10);
    expect(moved).to.be.greaterThan(10);
    expect([...randomShift(train.images, 0).data]).to.deep.equal([...train.images.data]);
  });
});
