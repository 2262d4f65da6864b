// scaledDotProductAttention: gradient rows through the shared helper, a T=2, d=1 case by hand,
// agreement with the same formula composed from recorded ops, causal and mask properties, errors.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { assertClose, checkGradients, type GradRow } from '../helpers.js';

const F = tg.F;
const sdpa = F.scaledDotProductAttention;
const int = (min: number, max: number) => fc.integer({ min, max });
const f64 = (data: number[][]) => tg.tensor(data, { dtype: 'float64' });

/** [q, k, v] shapes [...batch, T, d] with Tq = Tk unless `cross`. */
const qkv = (batch: number[] = [], cross = false) =>
  fc.tuple(int(1, 4), int(1, 4), int(1, 3), int(1, 3)).map(([tq, tk, d, dv]) => {
    const tkv = cross ? tk : tq;
    return [[...batch, tq, d], [...batch, tkv, d], [...batch, tkv, dv]];
  });

/** A bool mask [Tq, Tk] with key 0 always allowed, so no row is fully masked. */
const someAllowed = (tq: number, tk: number, seed: number) =>
  tg.tensor(Array.from({ length: tq }, (_, i) => Array.from({ length: tk }, (_, j) => j === 0 || Math.sin(seed + 7 * i + 3 * j) > 0)));

const rows: Record<string, GradRow> = {
  'no mask': { shapes: qkv(), fn: (q, k, v) => sdpa(q, k, v) },
  'Tq ≠ Tk': { shapes: qkv([], true), fn: (q, k, v) => sdpa(q, k, v) },
  causal: { shapes: qkv([2]), fn: (q, k, v) => sdpa(q, k, v, { causal: true }) },
  'causal, Tq ≠ Tk (top-left)': { shapes: qkv([], true), fn: (q, k, v) => sdpa(q, k, v, { causal: true }) },
  'bool mask': { shapes: qkv([2], true), fn: (q, k, v) => sdpa(q, k, v, { mask: someAllowed(q.shape[1], k.shape[1], q.shape[0]) }) },
  'float mask (with its gradient)': {
    shapes: qkv([], true).map(([q, k, v]) => [q, k, v, [q[0], k[0]]]),
    fn: (q, k, v, m) => sdpa(q, k, v, { mask: m }),
  },
  'batch and head dims, padding mask [B, 1, 1, Tk]': {
    shapes: qkv([2, 2]),
    fn: (q, k, v) => sdpa(q, k, v, { mask: tg.tensor([[[Array.from({ length: k.shape[2] }, (_, j) => j < 1 || j % 2 === 0)]], [[Array.from({ length: k.shape[2] }, () => true)]]]) }),
  },
  'broadcast batch (k, v shared across heads)': {
    shapes: fc.tuple(int(1, 3), int(1, 3)).map(([t, d]) => [[2, 3, t, d], [2, 1, t, d], [2, 1, t, d]]),
    fn: (q, k, v) => sdpa(q, k, v, { causal: true }),
  },
  'scale option': { shapes: qkv(), fn: (q, k, v) => sdpa(q, k, v, { scale: 0.3 }) },
  'dropout (same seed for every evaluation)': {
    shapes: qkv([2]),
    fn: (q, k, v) => {
      tg.manualSeed(11);
      return sdpa(q, k, v, { dropout: 0.3 });
    },
  },
};

describe('scaledDotProductAttention: gradcheck (float64, random shapes and values)', () => {
  for (const [name, row] of Object.entries(rows)) it(name, () => checkGradients(row));
});

/** The same attention composed from recorded ops: softmax(Q·Kᵀ/√d + bias) · V. */
function composed(q: Tensor, k: Tensor, v: Tensor, opts: { mask?: Tensor; causal?: boolean } = {}): Tensor {
  const Tq = q.shape[q.ndim - 2], Tk = k.shape[k.ndim - 2];
  let s = q.matmul(k.transpose(-2, -1)).div(Math.sqrt(q.shape[q.ndim - 1]));
  if (opts.mask?.dtype === 'bool') s = tg.where(opts.mask, s, -Infinity);
  else if (opts.mask) s = s.add(opts.mask);
  if (opts.causal) s = tg.where(tg.arange(Tk).unsqueeze(0).le(tg.arange(Tq).unsqueeze(1)), s, -Infinity);
  return s.softmax(-1).matmul(v);
}

describe('scaledDotProductAttention: values', () => {
  it('T=2, d=1 by hand: weights softmax([q·k₀, q·k₁]), output Σ wⱼ vⱼ', () => {
    const q = f64([[1], [2]]), k = f64([[1], [0]]), v = f64([[1], [3]]);
    const e = Math.E, e2 = e * e;
    // row 0: scores [1, 0] → weights [e, 1]/(e + 1); row 1: scores [2, 0] → [e², 1]/(e² + 1)
    assertClose(sdpa(q, k, v).data, [(e + 3) / (e + 1), (e2 + 3) / (e2 + 1)], 1e-12);
    // causal: row 0 sees only key 0
    assertClose(sdpa(q, k, v, { causal: true }).data, [1, (e2 + 3) / (e2 + 1)], 1e-12);
    // a float mask of ln 2 on key 1 doubles its weight: row 0 → [e, 2]/(e + 2)
    assertClose(sdpa(q, k, v, { mask: f64([[0, Math.LN2], [0, 0]]) }).data, [(e + 6) / (e + 2), (e2 + 3) / (e2 + 1)], 1e-12);
  });

  it('equals the composition of matmul, where and softmax, forward and backward', () => {
    const cases: [number[][], { mask?: Tensor; causal?: boolean }][] = [
      [[[2, 3, 5, 4], [2, 3, 5, 4], [2, 3, 5, 6]], {}],
      [[[2, 3, 5, 4], [2, 3, 7, 4], [2, 3, 7, 2]], { causal: true }],
      [[[2, 3, 7, 4], [2, 3, 5, 4], [2, 3, 5, 2]], { causal: true }],
      [[[3, 5, 4], [3, 5, 4], [3, 5, 4]], { mask: tg.randn([3, 1, 5], { dtype: 'float64' }) }],
      [[[2, 3, 5, 4], [2, 1, 5, 4], [2, 1, 5, 4]], { mask: tg.rand([1, 3, 5, 5]).add(tg.eye(5)).gt(0.3), causal: true }],
    ];
    for (const [shapes, opts] of cases) {
      const a = shapes.map((s) => tg.randn(s, { dtype: 'float64' }).requiresGrad_());
      const b = a.map((t) => t.detach().requiresGrad_());
      const r = tg.randn(sdpa(a[0], a[1], a[2], opts).shape, { dtype: 'float64' });
      const ya = sdpa(a[0], a[1], a[2], opts), yb = composed(b[0], b[1], b[2], opts);
      expect(ya.shape).to.deep.equal(yb.shape);
      assertClose(ya.data, yb.data, 1e-12, 1e-10, 'output');
      ya.mul(r).sum().backward();
      yb.mul(r).sum().backward();
      a.forEach((t, i) => assertClose(t.grad!.data, b[i].grad!.data, 1e-12, 1e-10, `grad ${i}`));
    }
  });

  it('gives zeros (not NaN) for a query whose keys are all masked, and zero gradients there', () => {
    const q = tg.randn([3, 2], { dtype: 'float64' }).requiresGrad_(), k = tg.randn([4, 2], { dtype: 'float64' }), v = tg.randn([4, 2], { dtype: 'float64' });
    const mask = tg.tensor([[true, true, false, true], [false, false, false, false], [true, false, false, false]]);
    const y = sdpa(q, k, v, { mask });
    expect(y.toArray()[1]).to.deep.equal([0, 0]);
    y.sum().backward();
    expect(Array.from(q.grad!.data.slice(2, 4))).to.deep.equal([0, 0]);
  });

  it('dropout: p = 0 changes nothing, p = 1 drops everything, a seed repeats the draw', () => {
    const [q, k, v] = [0, 1, 2].map(() => tg.randn([2, 6, 4]));
    assertClose(sdpa(q, k, v, { dropout: 0 }).data, sdpa(q, k, v).data, 0, 0);
    expect(Array.from(sdpa(q, k, v, { dropout: 1 }).data).every((x) => x === 0)).to.equal(true);
    tg.manualSeed(3);
    const a = sdpa(q, k, v, { dropout: 0.5 });
    tg.manualSeed(3);
    assertClose(sdpa(q, k, v, { dropout: 0.5 }).data, a.data, 0, 0);
  });
});

describe('scaledDotProductAttention: properties', () => {
  it('causal: the output at position t does not change when rows after t of q, k, v change', () => {
    fc.assert(fc.property(int(2, 6), int(1, 4), int(0, 1e6), (T, d, seed) => {
      tg.manualSeed(seed);
      const t = seed % (T - 1);
      const [q, k, v] = [0, 1, 2].map(() => tg.randn([2, T, d], { dtype: 'float64' }));
      const noise = (x: Tensor) => tg.cat([x.slice(1, 0, t + 1), tg.randn([2, T - t - 1, d], { dtype: 'float64' })], 1);
      const before = sdpa(q, k, v, { causal: true }).slice(1, 0, t + 1);
      const after = sdpa(noise(q), noise(k), noise(v), { causal: true }).slice(1, 0, t + 1);
      assertClose(after.data, before.data, 1e-12, 1e-12);
    }), { numRuns: 50 });
  });

  it('a bool mask that blocks key j makes the output independent of k[j] and v[j]', () => {
    fc.assert(fc.property(int(1, 5), int(2, 6), int(1, 4), int(0, 1e6), (Tq, Tk, d, seed) => {
      tg.manualSeed(seed);
      const j = seed % Tk;
      const mask = tg.tensor(Array.from({ length: Tk }, (_, i) => i !== j));
      const [q, k, v] = [[Tq, d], [Tk, d], [Tk, d]].map((s) => tg.randn([3, ...s], { dtype: 'float64' }));
      const change = (x: Tensor) => x.add(tg.tensor(Array.from({ length: Tk }, (_, i) => [i === j ? 100 : 0]), { dtype: 'float64' }));
      const vv = change(v).requiresGrad_();
      const y = sdpa(q, change(k), vv, { mask });
      assertClose(y.data, sdpa(q, k, v, { mask }).data, 1e-12, 1e-12);
      y.sum().backward();
      for (let b = 0; b < 3; b++) for (let c = 0; c < d; c++) expect(vv.grad!.data[(b * Tk + j) * d + c]).to.equal(0);
    }), { numRuns: 50 });
  });
});

describe('scaledDotProductAttention: errors name the op and the shapes', () => {
  const q = tg.randn([2, 4, 8]);
  const cases: [string, () => unknown, string][] = [
    ['different d of query and key', () => sdpa(q, tg.randn([2, 5, 7]), tg.randn([2, 5, 8])), 'scaledDotProductAttention: query and key must have the same last dim d (got query [2, 4, 8], key [2, 5, 7], value [2, 5, 8]: 8 ≠ 7)'],
    ['different T of key and value', () => sdpa(q, tg.randn([2, 5, 8]), tg.randn([2, 4, 8])), 'scaledDotProductAttention: key and value must have the same length T in dim -2 (got query [2, 4, 8], key [2, 5, 8], value [2, 4, 8]: 5 ≠ 4)'],
    ['batch dims that do not broadcast', () => sdpa(q, tg.randn([3, 4, 8]), tg.randn([3, 4, 8])), 'scaledDotProductAttention: the batch dims of query [2, 4, 8], key [3, 4, 8], value [3, 4, 8] cannot be broadcast together'],
    ['a 1-D query', () => sdpa(tg.randn([8]), q, q), 'scaledDotProductAttention: query, key and value need at least 2 dims'],
    ['a mask of the wrong shape', () => sdpa(q, q, q, { mask: tg.ones([3, 4]).gt(0) }), "scaledDotProductAttention: mask of shape [3, 4] cannot be broadcast to the scores' shape [2, 4, 4]"],
    ['a mask that would widen the batch', () => sdpa(q, q, q, { mask: tg.ones([3, 2, 4, 4]).gt(0) }), "scaledDotProductAttention: mask of shape [3, 2, 4, 4] cannot be broadcast to the scores' shape [2, 4, 4]"],
    ['an int32 mask', () => sdpa(q, q, q, { mask: tg.ones([4, 4], { dtype: 'int32' }) }), 'scaledDotProductAttention: mask must be bool'],
    ['a dropout outside [0, 1]', () => sdpa(q, q, q, { dropout: 1.5 }), 'scaledDotProductAttention: dropout must be a probability in [0, 1] (got 1.5)'],
  ];
  for (const [what, call, message] of cases) it(what, () => expect(call).to.throw(message));
});

// packedAttention: the heads of one [B, T, 3C] projection, read in place by the products
const packed = F.packedAttention;

/** qkv [B, T, 3·H·d] shapes with their head count. */
const packedShapes = fc.tuple(int(1, 3), int(1, 4), int(1, 3), int(1, 3)).map(([B, T, H, d]) => ({ B, T, H, d }));

/** The same computation through split, heads moved to dim 1, scaledDotProductAttention, merge. */
function unpacked(qkvT: Tensor, H: number, opts: Parameters<typeof sdpa>[3] = {}): Tensor {
  const [B, T, C3] = qkvT.shape, C = C3 / 3, d = C / H;
  const [q, k, v] = qkvT.split(C, -1).map((t) => t.reshape(B, T, H, d).transpose(1, 2));
  return sdpa(q, k, v, opts).transpose(1, 2).reshape(B, T, C);
}

const packedRows: Record<string, GradRow> = {
  'packed, no mask': { shapes: packedShapes.map(({ B, T, H, d }) => [[B, T, 3 * H * d], [H]]), fn: (x, h) => packed(x, h.shape[0]) },
  'packed, causal': { shapes: packedShapes.map(({ B, T, H, d }) => [[B, T, 3 * H * d], [H]]), fn: (x, h) => packed(x, h.shape[0], { causal: true }) },
  'packed, float mask [1, H, T, T] (with its gradient)': {
    shapes: packedShapes.map(({ B, T, H, d }) => [[B, T, 3 * H * d], [1, H, T, T]]),
    fn: (x, m) => packed(x, m.shape[1], { mask: m }),
  },
  'packed, dropout (same seed for every evaluation)': {
    shapes: packedShapes.map(({ B, T, H, d }) => [[B, T, 3 * H * d], [H]]),
    fn: (x, h) => {
      tg.manualSeed(12);
      return packed(x, h.shape[0], { dropout: 0.3, causal: true });
    },
  },
};

describe('packedAttention: gradcheck (float64, random shapes and values)', () => {
  // the second input of the unmasked rows only carries H in its shape (its gradient is zero)
  for (const [name, row] of Object.entries(packedRows)) it(name, () => checkGradients(row));
});

describe('packedAttention equals split → heads → scaledDotProductAttention → merge', () => {
  it('in value and gradient (causal, bool and float masks, dropout), float64 and float32 (wasm reads the heads in place)', () => {
    const cases = fc.record({
      B: int(1, 3), T: int(1, 40), H: int(1, 4), d: int(1, 9), causal: fc.boolean(), mask: fc.constantFrom('none', 'bool', 'float'),
      dropout: fc.constantFrom(0, 0.25), dtype: fc.constantFrom('float64', 'float32'), seed: int(0, 1e6),
    });
    fc.assert(fc.property(cases, ({ B, T, H, d, causal, mask: kind, dropout, dtype, seed }) => {
      tg.manualSeed(seed);
      const x = tg.randn([B, T, 3 * H * d], { dtype: dtype as 'float64' }).requiresGrad_();
      const mask = kind === 'bool' ? tg.rand([B, 1, T, T]).sub(tg.eye(T)).lt(0.8) : kind === 'float' ? tg.randn([1, H, T, T], { dtype: dtype as 'float64' }) : null;
      const g = tg.randn([B, T, H * d], { dtype: dtype as 'float64' });
      const run = (f: typeof packed) => {
        tg.manualSeed(seed + 1); // the same dropout mask for both
        const y = f(x, H, { causal, mask, dropout });
        return [y, tg.grad([y], [x], { gradOutputs: [g] })[0]!];
      };
      const [y1, d1] = run(packed), [y2, d2] = run(unpacked as typeof packed);
      const tol = dtype === 'float64' ? 1e-12 : 1e-5;
      assertClose(y1.data, y2.data, tol, tol, 'y');
      assertClose(d1.data, d2.data, tol, tol, 'dqkv');
    }), { numRuns: 60, seed: 5 });
  });

  it('names the op and the shape on bad input', () => {
    expect(() => packed(tg.randn([2, 4, 10]), 2)).to.throw('packedAttention: qkv must be [B, T, 3C] with C a multiple of numHeads 2 (got shape [2, 4, 10])');
    expect(() => packed(tg.randn([4, 12]), 2)).to.throw('packedAttention: qkv must be [B, T, 3C]');
    expect(() => packed(tg.randn([1, 4, 12]), 2, { mask: tg.ones([3, 4]).gt(0) })).to.throw("packedAttention: mask of shape [3, 4] cannot be broadcast to the scores' shape [1, 2, 4, 4]");
  });
});
