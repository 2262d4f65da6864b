// Recycled gradient buffers (src/tensor/pool.ts): the backward walk hands its dead gradients back
// for reuse. Recycling must never change a result, nor touch a gradient somebody holds.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { poolStats, release, setPooling } from '../../src/tensor/pool.js';
import * as raw from '../../src/tensor/raw.js';
import { arrayFor } from '../../src/tensor/dtype.js';
import { gradIsUnseen, peekGrad } from '../../src/tensor/tensor.js';
import { assertClose, trainTinyGpt } from '../helpers.js';

// large enough that its activations and gradients (≥ 16 KiB) are pooled
const run = (backend: tg.BackendChoice): number[] => trainTinyGpt({
  backend, seed: 5, batch: 4, steps: 4,
  config: { vocabSize: 40, nPositions: 32, nEmbd: 64, nLayer: 2, nHead: 4, dropout: 0, tieWeights: true },
});

describe('gradient buffer pool', () => {
  afterEach(() => setPooling(true));

  it('a tiny GPT trains to bit-identical losses with and without recycling, on js and wasm', function () {
    this.timeout(60_000);
    for (const backend of ['js', 'wasm'] as const) {
      setPooling(false);
      const plain = run(backend);
      setPooling(true);
      const before = poolStats();
      const pooled = run(backend);
      const after = poolStats();
      expect(pooled, backend).to.deep.equal(plain);
      expect(after.released - before.released, `${backend}: buffers recycled`).to.be.greaterThan(20);
      expect(after.reused - before.reused, `${backend}: buffers reused`).to.be.greaterThan(20);
    }
  });

  it('never recycles a gradient that was handed out: leaf .grad, tg.grad results, retainGrad', () => {
    const w = tg.randn([64, 128], { requiresGrad: true });
    const x = tg.randn([32, 64]);
    const step = () => x.matmul(w).relu().mul(2).sum();
    const h = x.matmul(w);
    h.retainGrad();
    h.tanh().sum().backward();
    const hGrad = h.grad!, hGradCopy = Float32Array.from(hGrad.data);
    const wGrad = w.grad!, wGradCopy = Float32Array.from(wGrad.data);
    const [g] = tg.grad([step()], [w]);
    const gCopy = Float32Array.from(g!.data);
    for (let i = 0; i < 3; i++) step().backward(); // reuses whatever the pool holds
    expect(Array.from(hGrad.data)).to.deep.equal(Array.from(hGradCopy));
    expect(Array.from(g!.data)).to.deep.equal(Array.from(gCopy));
    // w.grad accumulated into a new tensor; the one read before is untouched
    expect(Array.from(wGrad.data)).to.deep.equal(Array.from(wGradCopy));
  });

  it('a gradient shared by two inputs (the two sides of an add) is recycled only once both are done', () => {
    const a = tg.randn([128, 64], { requiresGrad: true });
    // add hands the same gradient to both branches; each branch then allocates while the other still holds it
    a.mul(0.5).exp().add(a.mul(0.25).tanh()).sum().backward();
    const expected = a.mul(0.5).exp().mul(0.5).add(a.mul(0.25).tanh().pow(2).neg().add(1).mul(0.25));
    assertClose(a.grad!.data, expected.data, 1e-5, 1e-5, 'gradient of exp(a/2) + tanh(a/4)');
  });

  it('reused arrays come back zero-filled', () => {
    // on js, whose arrays never live in wasm memory (resident blocks: test/kernels/wasm-resident.test.ts)
    tg.setBackend('js');
    try {
      const a = tg.randn([128, 64], { requiresGrad: true });
      a.exp().mul(3).sum().backward(); // releases [128, 64] gradients
      const before = poolStats();
      expect(before.heldBytes).to.be.greaterThan(0);
      const z = arrayFor('float32', 128 * 64);
      expect(poolStats().reused, 'taken from the pool').to.equal(before.reused + 1);
      expect(z.every((v) => v === 0)).to.equal(true);
    } finally {
      tg.setBackend('auto');
    }
  });

  it('every kernel handed an unfilled recycled array writes all of it (js and wasm)', () => {
    const x = tg.randn([6, 40, 70]), y = tg.randn([6, 70, 50]), row = tg.randn([70]), bias = tg.randn([50]);
    const index = Int32Array.from([5, 0, 3, 3]);
    const calls: [string, () => tg.Tensor][] = [
      ['binary', () => raw.binary('add', x, row)], ['unary', () => raw.unary('gelu', x)],
      ['unaryGrad', () => raw.unaryGrad('gelu', x, x)], ['stridedCopy', () => raw.permute(x, [2, 0, 1])],
      ['gatherRows', () => raw.gatherRows(x, 0, index)], ['matmul', () => raw.matmul(x, y, false, false, bias)],
      ['softmax', () => raw.softmax(x)], ['softmaxBackward', () => raw.softmaxBackward(raw.softmax(x), x)],
    ];
    for (const backend of ['js', 'wasm'] as const) {
      tg.setBackend(backend);
      try {
        for (const [name, call] of calls) {
          setPooling(false);
          const expected = call();
          setPooling(true);
          for (let i = 0; i < 3; i++) release('float32', new Float32Array(expected.size).fill(Number.NaN)); // stale contents
          const got = call();
          expect(Array.from(got.data), `${backend} ${name}`).to.deep.equal(Array.from(expected.data));
        }
      } finally {
        tg.setBackend('auto');
      }
    }
  });

  describe('zeroGrad hands an unread .grad back for the next backward', () => {
    const w = () => tg.randn([64, 128], { requiresGrad: true });
    const loss = (p: tg.Tensor) => tg.randn([32, 64]).matmul(p).tanh().sum();

    it('the next backward stores its gradient in the same array, with the same values as without recycling', () => {
      const p = w();
      tg.manualSeed(3);
      loss(p).backward();
      const first = peekGrad(p)!.data; // peekGrad does not count as reading .grad
      expect(gradIsUnseen(p)).to.equal(true);
      p.zeroGrad();
      tg.manualSeed(4);
      loss(p).backward();
      expect(peekGrad(p)!.data, 'the dropped array, reused').to.equal(first);
      const recycled = Array.from(p.grad!.data);
      setPooling(false);
      p.zeroGrad();
      tg.manualSeed(4);
      loss(p).backward();
      expect(peekGrad(p)!.data).to.not.equal(first);
      expect(Array.from(p.grad!.data)).to.deep.equal(recycled);
    });

    it('a .grad that was read is never recycled, through the optimizer and clipping too', () => {
      const p = w();
      const optimizer = new tg.optim.SGD([p], { lr: 0.1 });
      loss(p).backward();
      tg.nn.utils.clipGradNorm([p], 1e-3); // scales in place: the engine alone holds it
      const held = p.grad!;
      const copy = Array.from(held.data);
      expect(gradIsUnseen(p)).to.equal(false);
      optimizer.step();
      optimizer.zeroGrad();
      loss(p).backward();
      loss(p).backward();
      expect(peekGrad(p)!.data).to.not.equal(held.data);
      expect(Array.from(held.data)).to.deep.equal(copy);
    });

    it('a gradient the caller passed in, or one two leaves share, stays out of the pool', () => {
      const x = tg.randn([64, 128], { requiresGrad: true });
      const seed = tg.randn([64, 128]);
      const seedCopy = Array.from(seed.data);
      x.reshape([128, 64]).backward(seed.reshape([128, 64])); // x.grad is a view of the caller's seed
      expect(gradIsUnseen(x)).to.equal(false);
      x.zeroGrad();
      const a = w(), b = w();
      a.add(b).exp().sum().backward(); // add gives one gradient to both
      expect(peekGrad(a)!.data).to.equal(peekGrad(b)!.data);
      expect(gradIsUnseen(a) || gradIsUnseen(b)).to.equal(false);
      const shared = Array.from(peekGrad(a)!.data);
      a.zeroGrad();
      loss(w()).backward();
      expect(Array.from(peekGrad(b)!.data)).to.deep.equal(shared);
      expect(Array.from(seed.data)).to.deep.equal(seedCopy);
    });
  });
});
