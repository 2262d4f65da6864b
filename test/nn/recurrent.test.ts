// RNN, LSTM, GRU against a hand-unrolled computation in plain numbers (PyTorch's gate layouts),
// batchFirst, stacked layers, unbatched input, and gradcheck of every parameter.
import { expect } from 'chai';
import * as tg from '../../src/index.js';
import { nn } from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose } from '../helpers.js';
import { gradcheckModule } from './module-helpers.js';

const sigmoid = (v: number) => 1 / (1 + Math.exp(-v));
/** W·x + b for W [rows, cols] stored row-major in a tensor. */
const affine = (W: Tensor, x: number[], b: Tensor | null) =>
  Array.from({ length: W.shape[0] }, (_, r) => x.reduce((s, xv, c) => s + W.data[r * W.shape[1] + c] * xv, b ? b.data[r] : 0));
const rows = (t: Tensor): number[][] => t.toArray() as number[][];

type Step = (gi: number[], gh: number[], state: number[][]) => number[][];

const rnnStep: Step = (gi, gh) => [gi.map((v, j) => Math.tanh(v + gh[j]))];
function lstmStep(gi: number[], gh: number[], [h, c]: number[][]): number[][] {
  const H = h.length, g = gi.map((v, j) => v + gh[j]);
  const gate = (k: number, f: (v: number) => number) => g.slice(k * H, (k + 1) * H).map(f);
  const [i, f, gg, o] = [gate(0, sigmoid), gate(1, sigmoid), gate(2, Math.tanh), gate(3, sigmoid)]; // rows i, f, g, o
  const c2 = c.map((cv, j) => f[j] * cv + i[j] * gg[j]);
  return [c2.map((cv, j) => o[j] * Math.tanh(cv)), c2];
}
function gruStep(gi: number[], gh: number[], [h]: number[][]): number[][] {
  const H = h.length;
  const r = h.map((_, j) => sigmoid(gi[j] + gh[j])), z = h.map((_, j) => sigmoid(gi[H + j] + gh[H + j])); // rows r, z, n
  const n = h.map((_, j) => Math.tanh(gi[2 * H + j] + r[j] * gh[2 * H + j]));
  return [h.map((hv, j) => (1 - z[j]) * n[j] + z[j] * hv)];
}

/** Unroll one layer of `m` over x [T][B][I] from states [kind][B][H]; returns outputs [T][B][H] and final states. */
function unroll(m: nn.RNN | nn.LSTM | nn.GRU, layer: number, x: number[][][], states: number[][][], step: Step): [number[][][], number[][][]] {
  const w = m.layerWeights(layer);
  const out: number[][][] = [];
  for (const xt of x) {
    const next = xt.map((xb, b) => step(affine(w.wIh, xb, w.bIh), affine(w.wHh, states[0][b], w.bHh), states.map((s) => s[b])));
    states = states.map((_, k) => next.map((n) => n[k]));
    out.push(states[0]);
  }
  return [out, states];
}

const cases = [
  { name: 'RNN', make: (I: number, H: number, o = {}) => new nn.RNN(I, H, o), step: rnnStep, kinds: 1, gates: 1 },
  { name: 'LSTM', make: (I: number, H: number, o = {}) => new nn.LSTM(I, H, o), step: lstmStep, kinds: 2, gates: 4 },
  { name: 'GRU', make: (I: number, H: number, o = {}) => new nn.GRU(I, H, o), step: gruStep, kinds: 1, gates: 3 },
] as const;

/** forward with initial states given as a list of [L, B, H] tensors, normalised to [output, states[]]. */
function run(m: nn.RNN | nn.LSTM | nn.GRU, x: Tensor, states: Tensor[] | null): [Tensor, Tensor[]] {
  if (m instanceof nn.LSTM) {
    const [out, [h, c]] = m.forward(x, states as [Tensor, Tensor] | null);
    return [out, [h, c]];
  }
  const [out, h] = m.forward(x, states?.[0]);
  return [out, [h]];
}

for (const { name, make, step, kinds, gates } of cases) {
  describe(`nn.${name}`, () => {
    beforeEach(() => tg.manualSeed(5));

    it(`has PyTorch's names and shapes (weight_ih_l0 [${gates}H, I]) and init U(±1/√H)`, () => {
      const m = make(3, 4, { numLayers: 2 });
      expect(m.namedParameters().map(([k, p]) => `${k} ${p.shape.join('x')}`)).to.deep.equal([
        `weight_ih_l0 ${gates * 4}x3`, `weight_hh_l0 ${gates * 4}x4`, `bias_ih_l0 ${gates * 4}`, `bias_hh_l0 ${gates * 4}`,
        `weight_ih_l1 ${gates * 4}x4`, `weight_hh_l1 ${gates * 4}x4`, `bias_ih_l1 ${gates * 4}`, `bias_hh_l1 ${gates * 4}`,
      ]);
      expect(m.parameters().every((p) => Array.from(p.data).every((v) => Math.abs(v) <= 0.5))).to.equal(true);
      expect(make(3, 4, { bias: false }).parameters()).to.have.length(2);
    });

    it('matches a hand-unrolled computation over 2 steps (given initial state)', () => {
      const m = make(3, 2).double();
      const x = tg.randn([2, 2, 3], { dtype: 'float64' }); // (T, B, I)
      const init = Array.from({ length: kinds }, () => tg.randn([1, 2, 2], { dtype: 'float64' }));
      const [out, final] = run(m, x, init);
      const [expOut, expFinal] = unroll(m, 0, x.toArray(), init.map((s) => rows(s.squeeze(0))), step);
      expect(out.shape).to.deep.equal([2, 2, 2]);
      assertClose(out.data, expOut.flat(2), 1e-12);
      final.forEach((s, k) => assertClose(s.data, expFinal[k].flat(), 1e-12, 0, `state ${k}`));
    });

    it('stacks layers (layer 2 reads layer 1 outputs), starts from zeros, and honours batchFirst', () => {
      const m = make(3, 2, { numLayers: 2 }).double();
      const x = tg.randn([3, 2, 3], { dtype: 'float64' });
      const zeros = () => Array.from({ length: kinds }, () => [[0, 0], [0, 0]]);
      const [out1, fin1] = unroll(m, 0, x.toArray(), zeros(), step);
      const [out2, fin2] = unroll(m, 1, out1, zeros(), step);
      const [out, final] = run(m, x, null);
      assertClose(out.data, out2.flat(2), 1e-12);
      final.forEach((s, k) => assertClose(s.data, [...fin1[k].flat(), ...fin2[k].flat()], 1e-12));
      const bf = make(3, 2, { numLayers: 2, batchFirst: true }).double();
      bf.loadStateDict(m.stateDict());
      const [outBF, finalBF] = run(bf, x.transpose(0, 1), null);
      assertClose(outBF.data, out.transpose(0, 1).data, 1e-12);
      assertClose(finalBF[0].data, final[0].data, 1e-12);
      const [outU] = run(m, x.slice(1, 0, 1).squeeze(1), null); // unbatched [T, I]
      assertClose(outU.data, out.slice(1, 0, 1).data, 1e-12);
    });

    it('passes gradcheck for input, initial state and every parameter', () => {
      const m = make(2, 3, { numLayers: 2 });
      const x = tg.randn([3, 2, 2], { dtype: 'float64', requiresGrad: true });
      const states = Array.from({ length: kinds }, () => tg.randn([2, 2, 3], { dtype: 'float64', requiresGrad: true }));
      expect(gradcheckModule(m, [x, ...states], (x, ...s) => {
        const [out, final] = run(m, x, s);
        return tg.cat([out.reshape(-1), ...final.map((f) => f.reshape(-1))], 0);
      })).to.equal(true);
    });

    it('rejects a wrong input size or hidden shape with the expected shape', () => {
      const m = make(3, 2);
      expect(() => run(m, tg.zeros([2, 1, 4]), null)).to.throw(/expected input size 3, got 4/);
      expect(() => run(m, tg.zeros([2, 1, 3]), Array.from({ length: kinds }, () => tg.zeros([1, 2, 2])))).to.throw(/expected hidden state \[1, 1, 2\]/);
    });
  });
}
