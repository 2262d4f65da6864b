// tg.releaseGraph (src/autograd/release.ts): a finished step's activations go back to the pool.
// It must never change a result, never recycle storage that a tensor outside the graph still
// reads, and a released intermediate must throw when read instead of showing reused numbers.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { poolStats } from '../../src/tensor/pool.js';
import { Trainer } from '../../src/train/index.js';
import * as F from '../../src/nn/functional.js';
import { trainTinyGpt } from '../helpers.js';

// activations of ≥ 16 KiB, so that they are pooled; dropout covers the fused attention's saved factors
const run = (backend: tg.BackendChoice, releaseGraph: boolean): number[] => trainTinyGpt({
  backend, seed: 7, batch: 4, steps: 4, releaseGraph,
  config: { vocabSize: 40, nPositions: 32, nEmbd: 64, nLayer: 2, nHead: 4, dropout: 0.1, tieWeights: true },
});

/** A graph big enough to be pooled: h = tanh(x·w), out = sum(h·2). */
function smallGraph() {
  const w = tg.randn([64, 128], { requiresGrad: true });
  const x = tg.randn([64, 64]);
  const h = x.matmul(w).tanh();
  const out = h.mul(2).sum();
  return { w, x, h, out };
}

describe('tg.releaseGraph', () => {
  it('a tiny GPT trains to bit-identical losses with and without it, on js and wasm, and reuses the activations', function () {
    this.timeout(60_000);
    for (const backend of ['js', 'wasm'] as const) {
      const kept = run(backend, false);
      const before = poolStats();
      const released = run(backend, true);
      const after = poolStats();
      expect(released, backend).to.deep.equal(kept);
      const plainReuse = (() => {
        const b = poolStats();
        run(backend, false);
        return poolStats().reusedBytes - b.reusedBytes;
      })();
      expect(after.reusedBytes - before.reusedBytes, `${backend}: bytes reused with releaseGraph`).to.be.greaterThan(plainReuse + 2 ** 20);
    }
  });

  it('released intermediates throw when read; root, leaves and .grad stay readable; backward again throws', () => {
    const { w, x, h, out } = smallGraph();
    out.backward();
    const grad = Float32Array.from(w.grad!.data);
    expect(tg.releaseGraph(out)).to.be.greaterThan(0);
    expect(() => h.data).to.throw(/tanh .*releaseGraph/);
    expect(() => h.sum()).to.throw(/releaseGraph/);
    expect(out.item()).to.be.a('number');
    expect(x.data.length).to.equal(64 * 64);
    expect(Array.from(w.grad!.data)).to.deep.equal(Array.from(grad));
    expect(() => out.backward()).to.throw(/already freed/);
  });

  it('spares what a tensor outside the graph reads: a view the loss does not use, a detach, keep, retainGrad', () => {
    const w = tg.randn([64, 128], { requiresGrad: true });
    const x = tg.randn([64, 64]);
    const h = x.matmul(w).tanh(); // kept
    const v = x.matmul(w).exp(); // a view of it outlives the graph
    const vView = v.reshape([128, 64]);
    const d = x.matmul(w).sigmoid(); // detached
    const dDetached = d.detach();
    const r = x.matmul(w).relu(); // retains its grad
    r.retainGrad();
    const out = h.add(v).add(d).add(r).sum();
    out.backward();
    const copies = [h, vView, dDetached, r].map((t) => Float32Array.from(t.data));
    const rGrad = Float32Array.from(r.grad!.data);
    tg.releaseGraph(out, { keep: [h] });
    for (let i = 0; i < 4; i++) x.matmul(w).mul(3).sum(); // takes whatever the pool holds
    expect(Array.from(h.data)).to.deep.equal(Array.from(copies[0]));
    expect(Array.from(vView.data)).to.deep.equal(Array.from(copies[1]));
    expect(Array.from(dDetached.data)).to.deep.equal(Array.from(copies[2]));
    expect(Array.from(r.data)).to.deep.equal(Array.from(copies[3]));
    expect(Array.from(r.grad!.data)).to.deep.equal(Array.from(rGrad));
    expect(() => v.data).to.throw(/releaseGraph/); // v itself is released; its storage lives on in vView
  });

  it('the Trainer releases each step unless told not to', async () => {
    for (const releaseGraph of [true, false]) {
      tg.manualSeed(1);
      const model = new tg.nn.Linear(64, 64);
      const x = tg.randn([64, 64]), y = tg.randint(0, 64, [64]);
      let hidden: tg.Tensor | null = null;
      const trainer = new Trainer({
        model, optimizer: new tg.optim.SGD(model.parameters(), { lr: 0.1 }), trainBatches: () => [x, y], releaseGraph,
        lossFn: (m) => F.crossEntropy((hidden = m.forward(x).tanh()), y),
      });
      await trainer.fit(1);
      if (releaseGraph) expect(() => hidden!.data).to.throw(/releaseGraph: false/);
      else expect(hidden!.data.length).to.equal(64 * 64);
    }
  });

  it('refuses a root that is not a tensor', () => {
    expect(() => tg.releaseGraph({} as tg.Tensor)).to.throw(/releaseGraph: root must be a Tensor/);
  });
});
