// Choosing each kernel family explicitly trains a tiny model to the same losses (float32 tolerance),
// and the choice is reported by backendInfo().
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { disposeGpujs } from '../../src/tensor/kernels/gpujs/index.js';
import { trainTinyGpt } from '../helpers.js';

const tinyRun = (backend: tg.BackendChoice): number[] => trainTinyGpt({
  backend, seed: 11, batch: 3, config: { vocabSize: 17, nPositions: 8, nEmbd: 16, nLayer: 1, nHead: 2, dropout: 0, tieWeights: false },
});

describe('backend choice', () => {
  after(async () => disposeGpujs());

  it('js, wasm, gpujs and auto give the same training losses on a tiny GPT', function () {
    this.timeout(120_000);
    const reference = tinyRun('js');
    expect(reference[4]).to.be.below(reference[0]);
    for (const backend of tg.backendInfo().available.filter((b) => b !== 'js').concat('auto' as never)) {
      const losses = tinyRun(backend as tg.BackendChoice);
      losses.forEach((l, i) => expect(l, `${backend} step ${i}`).to.be.closeTo(reference[i], 1e-4 * Math.max(1, reference[i])));
    }
  });

  it('backendInfo reports the choice; setBackend refuses unknown names', () => {
    tg.setBackend('js');
    expect(tg.backendInfo().chosen).to.equal('js');
    expect(tg.getBackend()).to.equal('js');
    tg.setBackend('auto');
    expect(tg.backendInfo().available).to.include('js');
    expect(() => tg.setBackend('cuda' as never)).to.throw("setBackend: unknown backend 'cuda' (expected js, wasm, gpujs or auto)");
  });
});

describe('backendInfo notes', () => {
  it('says that gpu.js without a GPU runs its CPU fallback and that auto never picks it', () => {
    const info = tg.backendInfo();
    const gpu = ['headlessgl', 'webgl', 'webgl2', 'webgpu'].includes(info.gpujsTarget ?? '');
    if (!info.available.includes('gpujs') || gpu) return; // a real GPU, or no gpu.js: nothing to say
    expect(info.notes.join('\n')).to.match(/^gpujs: no GPU here, so gpu\.js runs its CPU fallback \(target '.+'\); auto never picks it/);
  });
});
