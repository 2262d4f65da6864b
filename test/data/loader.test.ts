// Seeded splits and shuffles, the DataLoader, nanoGPT's LM batches, padding with attention masks,
// and BERT's MLM masking (D11).
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import {
  permutation, trainValSplit, splitTokens, DataLoader, TensorDataset, SequenceDataset, lmBatch, lmBatches, padBatch,
} from '../../src/data/index.js';

/** Run fn twice from the same seed: both runs must give the same result. */
function twiceFromSeed<T>(seed: number, fn: () => T): [T, T] {
  tg.manualSeed(seed);
  const a = fn();
  tg.manualSeed(seed);
  return [a, fn()];
}

describe('data: splits', () => {
  it('permutation is a permutation, the same for the same seed', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 200 }), fc.integer(), (n, seed) => {
      const [a, b] = twiceFromSeed(seed, () => [...permutation(n)]);
      expect(a).to.deep.equal(b);
      expect([...a].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: n }, (_, i) => i));
    }), { numRuns: 50 });
  });
  it('trainValSplit of a count: disjoint index sets covering 0…n-1, reproducible', () => {
    const [a, b] = twiceFromSeed(3, () => trainValSplit(100, 0.2));
    expect(a.val).to.have.length(20);
    expect(a.train).to.have.length(80);
    expect([...a.train]).to.deep.equal([...b.train]);
    expect([...a.train, ...a.val].sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 100 }, (_, i) => i));
    tg.manualSeed(4);
    expect([...trainValSplit(100, 0.2).val]).to.not.deep.equal([...a.val]);
  });
  it('trainValSplit of items returns items; validation gets at least one of two or more', () => {
    const [a, b] = twiceFromSeed(5, () => trainValSplit(['a', 'b', 'c', 'd', 'e'], 0.1));
    expect(a).to.deep.equal(b);
    expect(a.val).to.have.length(1);
    expect([...a.train, ...a.val].sort()).to.deep.equal(['a', 'b', 'c', 'd', 'e']);
    expect(trainValSplit(['x'], 0.5).val).to.have.length(0);
    expect(() => trainValSplit(10, 1)).to.throw(/valFraction must be in \[0, 1\)/);
  });
  it('splitTokens keeps the order: the end of the stream validates', () => {
    const { train, val } = splitTokens(Int32Array.from({ length: 10 }, (_, i) => i), 0.2);
    expect([...train]).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    expect([...val]).to.deep.equal([8, 9]);
  });
});

describe('data: DataLoader', () => {
  const x = tg.tensor(Float32Array.from({ length: 10 * 3 }, (_, i) => i), { shape: [10, 3] });
  const y = tg.tensor(Int32Array.from({ length: 10 }, (_, i) => i));
  it('batches rows of tensors, keeping dtypes, the last batch smaller unless dropLast', () => {
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 4, shuffle: false });
    const batches = [...loader];
    expect(loader.length).to.equal(3);
    expect(batches.map(([bx]) => bx.shape)).to.deep.equal([[4, 3], [4, 3], [2, 3]]);
    expect(batches[0][0].dtype).to.equal('float32');
    expect(batches[0][1].dtype).to.equal('int32');
    expect(batches[2][0].toArray()).to.deep.equal([[24, 25, 26], [27, 28, 29]]);
    const dropping = new DataLoader(new TensorDataset(x, y), { batchSize: 4, dropLast: true });
    expect(dropping.length).to.equal(2);
    expect([...dropping].map(([, by]) => by.shape[0])).to.deep.equal([4, 4]);
  });
  it('shuffles each epoch anew, every example once, the same epochs for the same seed', () => {
    const loader = new DataLoader(new TensorDataset(x, y), { batchSize: 3 });
    const epochs = () => [0, 1].map(() => [...loader].flatMap(([, by]) => [...by.data]));
    const [a, b] = twiceFromSeed(11, epochs);
    expect(a).to.deep.equal(b);
    expect(a[0]).to.not.deep.equal(a[1]);
    for (const epoch of a) expect([...epoch].sort((p, q) => p - q)).to.deep.equal(Array.from({ length: 10 }, (_, i) => i));
    // rows stay together: x row i is [3i, 3i + 1, 3i + 2]
    for (const [bx, by] of loader) by.data.forEach((label, r) => expect(bx.data[r * 3]).to.equal(label * 3));
  });
  it('can resume an epoch from a batch index with the same order', () => {
    const loader = new DataLoader(new TensorDataset(y), { batchSize: 3 });
    tg.manualSeed(1);
    const order = loader.order();
    const all = [...loader.batches(order)].map(([b]) => [...b.data]);
    const rest = [...loader.batches(order, 2)].map(([b]) => [...b.data]);
    expect(rest).to.deep.equal(all.slice(2));
  });
  it('refuses tensors of different lengths and a bad batch size', () => {
    expect(() => new TensorDataset(x, tg.zeros([9]))).to.throw(/same first dimension; got shapes \[10, 3\], \[9\]/);
    expect(() => new DataLoader(new TensorDataset(x), { batchSize: 0 })).to.throw(/batchSize must be a positive integer/);
  });
});

describe('data: language-model batches (nanoGPT get_batch)', () => {
  const ids = Int32Array.from({ length: 50 }, (_, i) => i);
  it('gives int32 x and y of [B, T] with y one token ahead of x, windows inside the data', () => {
    const { x, y } = lmBatch(ids, 8, 4);
    expect(x.shape).to.deep.equal([4, 8]);
    expect(y.shape).to.deep.equal([4, 8]);
    expect(x.dtype).to.equal('int32');
    for (let b = 0; b < 4; b++) {
      const row = [...x.data.subarray(b * 8, b * 8 + 8)];
      expect(row).to.deep.equal(Array.from({ length: 8 }, (_, t) => row[0] + t)); // a contiguous window
      expect([...y.data.subarray(b * 8, b * 8 + 8)]).to.deep.equal(row.map((v) => v + 1));
      expect(row[0] + 8).to.be.at.most(49);
    }
  });
  it('is reproducible with a seed, and lmBatches yields `steps` batches', () => {
    const [a, b] = twiceFromSeed(2, () => [...lmBatches(ids, 4, 2, 3)].map(({ x }) => [...x.data]));
    expect(a).to.have.length(3);
    expect(a).to.deep.equal(b);
  });
  it('draws every window up to the one ending at the last token, and refuses data shorter than a block plus one', () => {
    tg.manualSeed(0);
    const starts = new Set<number>();
    for (let i = 0; i < 200; i++) starts.add(lmBatch(Int32Array.from([0, 1, 2, 3, 4, 5]), 4, 1).x.data[0]);
    expect([...starts].sort()).to.deep.equal([0, 1]); // 6 tokens, T = 4: x = 0…3 or 1…4 (then y = 2…5)
    expect(() => lmBatch(Int32Array.from([1, 2, 3]), 3, 1)).to.throw(/3 tokens are too few for a block of 3 \(need 4\)/);
  });
});

describe('data: padding and attention masks', () => {
  it('pads at the end with padId, masks real tokens with 1, cuts long sequences', () => {
    const { inputIds, attentionMask } = padBatch([[5, 6, 7], [8], [1, 2, 3, 4, 9]], 4, 0);
    expect(inputIds.dtype).to.equal('int32');
    expect(inputIds.toArray()).to.deep.equal([[5, 6, 7, 0], [8, 0, 0, 0], [1, 2, 3, 4]]);
    expect(attentionMask.toArray()).to.deep.equal([[1, 1, 1, 0], [1, 0, 0, 0], [1, 1, 1, 1]]);
  });
  it('pads only to the longest of the batch when asked', () => {
    const { inputIds } = padBatch([[5, 6], [8]], 128, 3, { padToLongest: true });
    expect(inputIds.toArray()).to.deep.equal([[5, 6], [8, 3]]);
  });
  it('SequenceDataset gives padded batches with labels through a DataLoader', () => {
    const data = new SequenceDataset([[1, 2], [3], [4, 5, 6]], [0, 1, 0], { maxLen: 3, padId: 0 });
    const [batch] = [...new DataLoader(data, { batchSize: 3, shuffle: false })];
    expect(batch.inputIds.toArray()).to.deep.equal([[1, 2, 0], [3, 0, 0], [4, 5, 6]]);
    expect(batch.labels.dtype).to.equal('int32');
    expect([...batch.labels.data]).to.deep.equal([0, 1, 0]);
  });
});

