// tg.viz.graph: the computation graph as nodes and edges, its DOT text and its SVG picture.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tg from '../../src/index.js';
import { graph, graphToDot, graphToSvg, writeGraph, type TensorNode } from '../../src/viz/index.js';

const f64 = { dtype: 'float64' } as const;

/** L = Σ (a ⊙ b): 4 tensors (a, b, c, L), 2 ops (mul, sum), 5 edges; gradients set. */
function smallGraph() {
  const a = tg.tensor([1, 2], { ...f64, requiresGrad: true });
  const b = tg.tensor([3, 4], { ...f64, requiresGrad: true });
  const c = a.mul(b).retainGrad();
  const L = c.sum();
  [a.label, b.label, c.label, L.label] = ['a', 'b', 'c', 'L'];
  L.backward();
  return { a, b, c, L };
}

/** Tags balance, attributes are quoted, text has no raw '<' or stray '&': enough to call it well-formed XML. */
function checkWellFormed(svg: string): void {
  expect(svg.trimStart().startsWith('<svg')).to.equal(true);
  const stack: string[] = [];
  const tag = /<(\/?)([a-zA-Z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(svg); m; m = tag.exec(svg)) {
    const text = svg.slice(last, m.index);
    expect(text, `text before <${m[2]}>`).not.to.match(/[<>]/);
    expect(text.replace(/&(amp|lt|gt|quot|apos);/g, ''), 'unescaped &').not.to.include('&');
    last = tag.lastIndex;
    const [, closing, name, , selfClosing] = m;
    if (selfClosing) continue;
    if (closing) expect(stack.pop(), `closing </${name}>`).to.equal(name);
    else stack.push(name);
  }
  expect(svg.slice(last).trim()).to.equal('');
  expect(stack).to.deep.equal([]);
}

describe('viz.graph', () => {
  it('collects every tensor and op once, with edges input → op → output', () => {
    const { a, b, c, L } = smallGraph();
    const g = graph(L);
    const tensors = g.nodes.filter((n): n is TensorNode => n.kind === 'tensor');
    const ops = g.nodes.filter((n) => n.kind === 'op');
    expect(tensors.map((n) => n.tensor)).to.have.members([a, b, c, L]);
    expect(ops.map((n) => (n.kind === 'op' ? n.op : ''))).to.have.members(['mul', 'sum']);
    expect(g.edges).to.have.length(5);
    const id = (t: tg.Tensor) => tensors.find((n) => n.tensor === t)!.id;
    const mul = ops.find((n) => n.kind === 'op' && n.op === 'mul')!.id;
    expect(g.edges).to.deep.include.members([{ from: id(a), to: mul }, { from: id(b), to: mul }, { from: mul, to: id(c) }]);
    expect(tensors.find((n) => n.tensor === a)!.role).to.equal('parameter');
    expect(tensors.find((n) => n.tensor === c)!.role).to.equal('intermediate');
    expect(tensors.find((n) => n.tensor === L)!.role).to.equal('root');
  });

  it('puts every edge left to right (a column for each node)', () => {
    const x = tg.tensor([[0.5, -1]], f64);
    const W1 = tg.randn([3, 2], { ...f64, requiresGrad: true }), W2 = tg.randn([1, 3], { ...f64, requiresGrad: true });
    const L = x.matmul(W1.T).sigmoid().matmul(W2.T).sigmoid().sub(1).pow(2).sum();
    const g = graph(L);
    const layer = new Map(g.nodes.map((n) => [n.id, n.layer]));
    for (const e of g.edges) expect(layer.get(e.from)!, `${e.from} → ${e.to}`).to.be.lessThan(layer.get(e.to)!);
    // W2 is used late: it is drawn next to its use, not in the first column
    const w2 = g.nodes.find((n) => n.kind === 'tensor' && n.tensor === W2)!;
    expect(w2.layer).to.be.greaterThan(2);
  });

  it('draws a tensor used twice once, with two edges; constants as constant leaves', () => {
    const a = tg.tensor([2], { ...f64, requiresGrad: true });
    const y = a.mul(a).mul(3);
    const g = graph(y);
    expect(g.nodes.filter((n) => n.kind === 'tensor')).to.have.length(4); // a, a·a, 3, y
    const aId = g.nodes.find((n) => n.kind === 'tensor' && n.tensor === a)!.id;
    expect(g.edges.filter((e) => e.from === aId)).to.have.length(2);
    const constants = g.nodes.filter((n) => n.kind === 'tensor' && n.role === 'constant') as TensorNode[];
    expect(constants.map((n) => n.tensor.item())).to.deep.equal([3]);
  });

  it('prints labels, shapes, values and gradients into DOT and SVG', () => {
    const { L } = smallGraph();
    const dot = graphToDot(L), svg = graphToSvg(L);
    expect(dot.startsWith('digraph')).to.equal(true);
    expect(dot.match(/->/g)).to.have.length(5);
    for (const text of [dot, svg]) {
      for (const s of ['a', 'b', 'c', 'L', 'mul', 'sum', '[2] float64', '[] float64', 'data [1, 2]', 'data [3, 4]', 'grad [3, 4]', 'grad [1, 2]', 'grad [1, 1]', 'data 11']) {
        expect(text, s).to.include(s);
      }
    }
    expect(svg.match(/<g class="op"/g)).to.have.length(2);
    expect(svg.match(/<g class="tensor/g)).to.have.length(4);
    expect(svg.match(/<path class="edge"/g)).to.have.length(5);
    checkWellFormed(svg);
  });

  it('summarises big tensors and escapes labels for DOT and XML', () => {
    const big = tg.arange(0, 100).to('float64').requiresGrad_();
    big.label = 'x <"big"> & {odd|record}';
    const y = big.mul(2).sum();
    const svg = graphToSvg(y), dot = graphToDot(y);
    expect(svg).to.include('mean 49.5, range 0…99');
    expect(svg).to.include('x &lt;&quot;big&quot;&gt; &amp; {odd|record}');
    expect(dot).to.include('x \\<\\"big\\"\\> & \\{odd\\|record\\}');
    checkWellFormed(svg);
    expect(graphToSvg(y, { maxValues: 1000 })).to.include('data [0, 1, 2, 3');
  });

  it('writeGraph writes .dot and .svg; too big a graph and a non-tensor are errors', () => {
    const dir = mkdtempSync(join(tmpdir(), 'tsgrad-viz-'));
    try {
      const { L } = smallGraph();
      const paths = writeGraph(L, join(dir, 'sub', 'g'));
      expect(paths).to.deep.equal({ dot: join(dir, 'sub', 'g.dot'), svg: join(dir, 'sub', 'g.svg') });
      expect(readFileSync(paths.dot, 'utf8')).to.equal(graphToDot(L));
      checkWellFormed(readFileSync(paths.svg, 'utf8'));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    let t = tg.tensor([1], { ...f64, requiresGrad: true });
    for (let i = 0; i < 30; i++) t = t.add(1);
    expect(() => graph(t, { maxNodes: 20 })).to.throw(/viz\.graph: the graph has \d+ nodes, more than maxNodes = 20/);
    expect(() => graph(42 as unknown as tg.Tensor)).to.throw(/viz\.graph: root must be a Tensor/);
  });

  it('draws a lone leaf (no op) as one node', () => {
    const g = graph(tg.tensor([1, 2]));
    expect(g.nodes).to.have.length(1);
    expect(g.edges).to.have.length(0);
    checkWellFormed(g.toSvg());
  });
});

describe('tg.viz.graph: a deep graph', () => {
  it('wraps into bands no wider than 1,600 px instead of one long row, every box inside the picture', () => {
    let x = tg.tensor([0.5], { dtype: 'float64', requiresGrad: true });
    for (let i = 0; i < 60; i++) x = x.mul(1.01).tanh(); // 120 ops in a chain
    const svg = graphToSvg(x.sum());
    const [, w, h] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
    expect(w).to.be.at.most(1600);
    expect(h).to.be.above(3 * 60); // several bands, one under another
    for (const [, bx, by] of svg.matchAll(/<rect x="([\d.]+)" y="([\d.]+)"/g)) {
      expect(Number(bx)).to.be.below(w);
      expect(Number(by)).to.be.below(h);
    }
  });
});
