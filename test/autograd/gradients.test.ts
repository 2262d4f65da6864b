// One row per differentiable core op: random shapes (scalars, size-1 dims, broadcasting) and values,
// float64, analytic gradients against central differences through the shared helper.
import { expect } from 'chai';
import fc from 'fast-check';
import * as tg from '../../src/index.js';
import { broadcastPair, checkGradients, shape, type GradRow } from '../helpers.js';

const one = (s: fc.Arbitrary<number[]>) => s.map((x) => [x]);
const pair = broadcastPair().map(([a, b]) => [a, b]);
const nonEmpty = shape(1, 3, 4);
/** A shape with at least 1 dim and a dim index inside it. */
const withDim = nonEmpty.chain((s) => fc.integer({ min: -s.length, max: s.length - 1 }).map((d) => ({ s, d })));

const rows: Record<string, GradRow> = {
  add: { shapes: pair, fn: (a, b) => a.add(b) },
  sub: { shapes: pair, fn: (a, b) => a.sub(b) },
  mul: { shapes: pair, fn: (a, b) => a.mul(b) },
  div: { shapes: pair, fn: (a, b) => a.div(b), values: 'positive' },
  pow: { shapes: pair, fn: (a, b) => a.pow(b), values: 'positive' },
  'pow (number exponent)': { shapes: one(shape()), fn: (a) => a.pow(3) },
  neg: { shapes: one(shape()), fn: (a) => a.neg() },
  exp: { shapes: one(shape()), fn: (a) => a.exp() },
  log: { shapes: one(shape()), fn: (a) => a.log(), values: 'positive' },
  sqrt: { shapes: one(shape()), fn: (a) => a.sqrt(), values: 'positive' },
  abs: { shapes: one(shape()), fn: (a) => a.abs() },
  tanh: { shapes: one(shape()), fn: (a) => a.tanh() },
  erf: { shapes: one(shape()), fn: (a) => a.erf() },
  sigmoid: { shapes: one(shape()), fn: (a) => a.sigmoid() },
  relu: { shapes: one(shape()), fn: (a) => a.relu() },
  'gelu (erf)': { shapes: one(shape()), fn: (a) => a.gelu() },
  'gelu (tanh)': { shapes: one(shape()), fn: (a) => a.gelu({ approximate: 'tanh' }) },
  clamp: { shapes: one(shape()), fn: (a) => a.clamp(-0.5, 0.7) },
  'clamp (one-sided)': { shapes: one(shape()), fn: (a) => a.clamp(null, 0.3) },
  where: { shapes: pair, fn: (a, b) => tg.where(a.gt(0), a, b) },
  maximum: { shapes: pair, fn: (a, b) => a.maximum(b) },
  minimum: { shapes: pair, fn: (a, b) => a.minimum(b) },
  'sum (all)': { shapes: one(shape()), fn: (a) => a.sum() },
  'sum (dim, keepdim)': { shapes: withDim.map(({ s }) => [s]), fn: (a) => a.sum(-1, true) },
  'sum (dims)': { shapes: one(shape(2, 3)), fn: (a) => a.sum([0, -1]) },
  'mean (all)': { shapes: one(shape()), fn: (a) => a.mean() },
  'mean (dim)': { shapes: one(nonEmpty), fn: (a) => a.mean(0) },
  'max (dim)': { shapes: one(nonEmpty), fn: (a) => a.max(-1) },
  'min (all)': { shapes: one(shape()), fn: (a) => a.min() },
  'var (dim)': { shapes: one(shape(1, 3, 4).filter((s) => s[0] > 1)), fn: (a) => a.var(0) },
  'var (all, correction 0)': { shapes: one(shape()), fn: (a) => a.var(null, false, { correction: 0 }) },
  logsumexp: { shapes: one(nonEmpty), fn: (a) => a.logsumexp(-1) },
  reshape: { shapes: one(shape()), fn: (a) => a.reshape(-1) },
  transpose: { shapes: one(shape(2, 3)), fn: (a) => a.transpose(0, -1) },
  permute: { shapes: one(shape(3, 3)), fn: (a) => a.permute(2, 0, 1) },
  T: { shapes: one(shape(2, 2)), fn: (a) => a.T },
  squeeze: { shapes: one(shape()), fn: (a) => a.squeeze() },
  unsqueeze: { shapes: one(shape()), fn: (a) => a.unsqueeze(0) },
  expand: { shapes: one(shape(1, 3)), fn: (a) => a.unsqueeze(0).expand(3, ...a.shape.map((d) => (d === 1 ? 2 : d))) },
  flatten: { shapes: one(shape(2, 3)), fn: (a) => a.flatten(1) },
  slice: { shapes: one(nonEmpty), fn: (a) => a.slice(0, -2, null, 1) },
  'slice (step)': { shapes: one(nonEmpty), fn: (a) => a.slice(-1, 0, undefined, 2) },
  cat: { shapes: nonEmpty.map((s) => [s, [...s.slice(0, -1), 2]]), fn: (a, b) => tg.cat([a, b], -1) },
  stack: { shapes: nonEmpty.map((s) => [s, s]), fn: (a, b) => tg.stack([a, b], 1) },
  split: { shapes: one(nonEmpty), fn: (a) => { const parts = a.split(2, 0); return parts[parts.length - 1].mul(parts[0].sum()); } },
  indexSelect: { shapes: one(nonEmpty), fn: (a) => a.indexSelect(0, tg.tensor([0, a.shape[0] - 1, 0], { dtype: 'int32' })) },
  clone: { shapes: one(shape()), fn: (a) => a.clone().mul(2) },
  'matmul (2-D)': { shapes: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map(([m, k, n]) => [[m, k], [k, n]]), fn: (a, b) => a.matmul(b) },
  'matmul (1-D · 1-D)': { shapes: fc.integer({ min: 1, max: 5 }).map((k) => [[k], [k]]), fn: (a, b) => a.matmul(b) },
  'matmul (1-D · N-D)': { shapes: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map(([k, n]) => [[k], [2, k, n]]), fn: (a, b) => a.matmul(b) },
  'matmul (N-D · 1-D)': { shapes: fc.tuple(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 4 })).map(([m, k]) => [[3, m, k], [k]]), fn: (a, b) => a.matmul(b) },
  'matmul (broadcast batch)': { shapes: fc.tuple(fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 })).map(([m, k, n]) => [[2, 1, m, k], [3, k, n]]), fn: (a, b) => a.matmul(b) },
  softmax: { shapes: withDim.map(({ s }) => [s]), fn: (a) => a.softmax(0) },
  'softmax (last dim)': { shapes: one(nonEmpty), fn: (a) => a.softmax(-1) },
  logSoftmax: { shapes: one(nonEmpty), fn: (a) => a.logSoftmax(0) },
  'logSoftmax (last dim)': { shapes: one(nonEmpty), fn: (a) => a.logSoftmax(-1) },
};

describe('gradcheck of every core op (float64, random shapes and values)', () => {
  for (const [name, row] of Object.entries(rows)) it(name, () => checkGradients(row));
});

describe('erf values', () => {
  it('matches known values in float64 and float32 (a primitive of its own since GELU is composed from it)', () => {
    const x = [-2, -0.5, 0, 0.5, 1, 3];
    const want = [-0.9953222650189527, -0.5204998778130465, 0, 0.5204998778130465, 0.8427007929497149, 0.9999779095030014];
    tg.tensor(x, { dtype: 'float64' }).erf().toArray().forEach((v: number, i: number) => expect(v).to.be.closeTo(want[i], 1e-15));
    tg.tensor(x).erf().toArray().forEach((v: number, i: number) => expect(v).to.be.closeTo(want[i], 1e-7));
  });
});
