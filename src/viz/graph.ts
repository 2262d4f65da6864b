// A picture of a computation graph, as micrograd's draw_dot: walk tensor.gradFn.inputs from the
// root and draw every tensor (label, shape, value, grad) and every op, inputs left of outputs.
// Two renderings of one structure: Graphviz DOT text, and an SVG laid out here (no dependency).
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';

export interface GraphOptions {
  /** Print the values (and gradient) of tensors with at most this many elements; larger ones get a summary. Default 6. */
  maxValues?: number;
  /** Significant digits of the printed numbers. Default 4. */
  digits?: number;
  /** Refuse graphs with more nodes than this (a picture of a big model is unreadable). Default 400. */
  maxNodes?: number;
}

/** What a tensor node is: a leaf that trains, a constant leaf, an intermediate result, or the root. */
export type TensorRole = 'parameter' | 'constant' | 'intermediate' | 'root';

export interface TensorNode {
  kind: 'tensor';
  id: string;
  tensor: Tensor;
  role: TensorRole;
  /** The tensor's .label, or '' */
  label: string;
  /** One line each: label (if any), shape and dtype, data, grad (if any). */
  lines: string[];
  /** Column in the picture, 0 = leftmost. */
  layer: number;
}

export interface OpNode {
  kind: 'op';
  id: string;
  /** gradFn.op of the tensor it produced */
  op: string;
  layer: number;
}

export type GraphNode = TensorNode | OpNode;

export interface GraphEdge {
  from: string;
  to: string;
}

export interface ComputationGraph {
  root: Tensor;
  nodes: GraphNode[];
  edges: GraphEdge[];
  toDot(): string;
  toSvg(): string;
  /** Write `<pathWithoutExt>.dot` and `<pathWithoutExt>.svg`; returns both paths. */
  write(pathWithoutExt: string): { dot: string; svg: string };
}

function formatNumber(v: number, digits: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (a >= 1e5 || a < 1e-3) return v.toExponential(Math.max(digits - 1, 0)).replace('e+', 'e');
  return String(Number(v.toPrecision(digits)));
}

/** Small tensors in full ([[1, 2], [3, 4]]); bigger ones as a summary of their range. */
function formatValues(t: Tensor, maxValues: number, digits: number): string {
  const d = t.data;
  if (t.size <= maxValues) {
    const f = (i: number) => formatNumber(t.dtype === 'bool' ? Number(d[i] !== 0) : d[i], digits);
    if (t.ndim === 0) return f(0);
    const build = (dim: number, offset: number, stride: number): string => {
      const n = t.shape[dim], inner = stride / Math.max(n, 1);
      const parts: string[] = [];
      for (let i = 0; i < n; i++) parts.push(dim === t.ndim - 1 ? f(offset + i) : build(dim + 1, offset + i * inner, inner));
      return `[${parts.join(', ')}]`;
    };
    return build(0, 0, t.size);
  }
  let min = Infinity, max = -Infinity, sum = 0;
  for (let i = 0; i < d.length; i++) {
    min = Math.min(min, d[i]);
    max = Math.max(max, d[i]);
    sum += d[i];
  }
  return `mean ${formatNumber(sum / d.length, digits)}, range ${formatNumber(min, digits)}…${formatNumber(max, digits)}`;
}

/** Every tensor that leads to root, inputs before outputs (iterative DFS; constants included). */
function collect(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: [Tensor, number][] = [[root, 0]];
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const inputs = top[0].gradFn?.inputs ?? [];
    if (top[1] < inputs.length) {
      const child = inputs[top[1]++];
      if (!seen.has(child)) {
        seen.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(top[0]);
    }
  }
  return order;
}

/** The graph of root: its tensors and ops, edges input → op → output, and a column for each node. */
export function graph(root: Tensor, opts: GraphOptions = {}): ComputationGraph {
  if (!(root instanceof Tensor)) throw new Error('viz.graph: root must be a Tensor');
  const { maxValues = 6, digits = 4, maxNodes = 400 } = opts;
  const tensors = collect(root);
  const nodeCount = tensors.length + tensors.filter((t) => t.gradFn).length;
  if (nodeCount > maxNodes) {
    throw new Error(`viz.graph: the graph has ${nodeCount} nodes, more than maxNodes = ${maxNodes}; draw a smaller computation or raise maxNodes`);
  }
  const tensorId = new Map<Tensor, string>(tensors.map((t, i) => [t, `t${i}`]));
  const nodes: GraphNode[] = [];
  const edges: GraphEdge[] = [];
  const byId = new Map<string, GraphNode>();
  const add = (n: GraphNode) => (nodes.push(n), byId.set(n.id, n));

  // Columns: an op sits right of all its inputs, its output right of it (longest path from the left).
  const layer = new Map<Tensor, number>();
  for (const t of tensors) {
    const id = tensorId.get(t)!;
    const role: TensorRole = t === root ? 'root' : t.gradFn ? 'intermediate' : t.requiresGrad ? 'parameter' : 'constant';
    const lines: string[] = [];
    if (t.label) lines.push(t.label);
    lines.push(`${fmt(t.shape)} ${t.dtype}`);
    lines.push(`data ${formatValues(t, maxValues, digits)}`);
    if (t.grad) lines.push(`grad ${formatValues(t.grad, maxValues, digits)}`);
    let col = 0;
    if (t.gradFn) {
      const opId = `op${id.slice(1)}`;
      const opLayer = Math.max(0, ...t.gradFn.inputs.map((x) => layer.get(x)! + 1));
      add({ kind: 'op', id: opId, op: t.gradFn.op, layer: opLayer });
      for (const x of t.gradFn.inputs) edges.push({ from: tensorId.get(x)!, to: opId });
      edges.push({ from: opId, to: id });
      col = opLayer + 1;
    }
    layer.set(t, col);
    add({ kind: 'tensor', id, tensor: t, role, label: t.label ?? '', lines, layer: col });
  }
  // Then pull every node right, to just left of its first consumer (as late as possible), so a
  // weight used near the end is drawn near the end, not in column 0.
  for (let i = nodes.length - 1; i >= 0; i--) {
    const n = nodes[i];
    const consumers = edges.filter((e) => e.from === n.id).map((e) => byId.get(e.to)!.layer);
    if (consumers.length > 0) n.layer = Math.min(...consumers) - 1;
  }

  const g: ComputationGraph = {
    root,
    nodes,
    edges,
    toDot: () => toDot(g),
    toSvg: () => toSvg(g),
    write: (pathWithoutExt: string) => {
      const paths = { dot: `${pathWithoutExt}.dot`, svg: `${pathWithoutExt}.svg` };
      mkdirSync(dirname(paths.dot), { recursive: true });
      writeFileSync(paths.dot, g.toDot());
      writeFileSync(paths.svg, g.toSvg());
      return paths;
    },
  };
  return g;
}

const FILL: Record<TensorRole | 'op', string> = {
  parameter: '#fff4c2',
  constant: '#eeeeee',
  intermediate: '#ffffff',
  root: '#d8f5d0',
  op: '#dbe9ff',
};

/** Escape for a quoted DOT record label: the record's own syntax and the string's. */
const dotRecord = (s: string) => s.replace(/[\\"{}|<>]/g, (c) => `\\${c}`);

/** Graphviz DOT: records for tensors (label | shape | data | grad), ellipses for ops, left to right. */
export function toDot(g: ComputationGraph): string {
  const out = ['digraph tsgrad {', '  rankdir=LR;', '  node [fontname="monospace", fontsize=10];'];
  for (const n of g.nodes) {
    if (n.kind === 'op') out.push(`  ${n.id} [label="${dotRecord(n.op)}", shape=ellipse, style=filled, fillcolor="${FILL.op}"];`);
    else out.push(`  ${n.id} [label="${n.lines.map(dotRecord).join(' | ')}", shape=record, style=filled, fillcolor="${FILL[n.role]}"];`);
  }
  for (const e of g.edges) out.push(`  ${e.from} -> ${e.to};`);
  out.push('}');
  return `${out.join('\n')}\n`;
}

const xml = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

const CHAR_W = 6.6; // monospace 11px
const LINE_H = 15;
const PAD = 8;
const COL_GAP = 46;
const ROW_GAP = 18;
const MAX_ROW_WIDTH = 1600; // px: wider graphs wrap into bands
const BAND_GAP = 40;

interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/** Order the nodes of each column to keep edges short: a few barycenter sweeps, left→right and back. */
function orderColumns(g: ComputationGraph): GraphNode[][] {
  const columns: GraphNode[][] = [];
  for (const n of g.nodes) (columns[n.layer] ??= []).push(n);
  for (let c = 0; c < columns.length; c++) columns[c] ??= [];
  const position = new Map<string, number>();
  const index = () => columns.forEach((col) => col.forEach((n, i) => position.set(n.id, i / Math.max(col.length, 1))));
  const neighbours = (id: string, dir: 'in' | 'out') => g.edges.filter((e) => (dir === 'in' ? e.to === id : e.from === id)).map((e) => (dir === 'in' ? e.from : e.to));
  const sweep = (c: number, dir: 'in' | 'out') => {
    const key = (n: GraphNode) => {
      const ps = neighbours(n.id, dir).map((id) => position.get(id)!);
      return ps.length ? ps.reduce((a, b) => a + b, 0) / ps.length : position.get(n.id)!;
    };
    const keyed = columns[c].map((n) => [key(n), n] as const);
    columns[c] = keyed.sort((a, b) => a[0] - b[0]).map(([, n]) => n); // stable: ties keep their order
    index();
  };
  index();
  for (let pass = 0; pass < 4; pass++) {
    for (let c = 1; c < columns.length; c++) sweep(c, 'in');
    for (let c = columns.length - 2; c >= 0; c--) sweep(c, 'out');
  }
  return columns;
}

/** SVG: the columns of orderColumns, each vertically centred; edges as curves with arrowheads. */
export function toSvg(g: ComputationGraph): string {
  const columns = orderColumns(g);
  const size = (n: GraphNode) => {
    if (n.kind === 'op') return { w: Math.max(n.op.length * CHAR_W + 2 * PAD + 10, 40), h: LINE_H + 2 * PAD };
    return { w: Math.max(...n.lines.map((l) => l.length)) * CHAR_W + 2 * PAD, h: n.lines.length * LINE_H + PAD };
  };
  const boxes = new Map<string, Box>();
  const heights = columns.map((col) => col.reduce((h, n) => h + size(n).h, 0) + ROW_GAP * Math.max(col.length - 1, 0));
  const widths = columns.map((col) => Math.max(0, ...col.map((n) => size(n).w)));
  // a deep graph wraps into bands of at most MAX_ROW_WIDTH, read like lines of text, instead of one
  // row thousands of pixels wide; an edge into the next band runs down to its start
  const bands: number[][] = [[]];
  let used = COL_GAP / 2;
  widths.forEach((w, c) => {
    if (bands.at(-1)!.length > 0 && used + w + COL_GAP / 2 > MAX_ROW_WIDTH) { bands.push([]); used = COL_GAP / 2; }
    bands.at(-1)!.push(c);
    used += w + COL_GAP;
  });
  let top = 0, width = 0;
  for (const band of bands) {
    const bandHeight = Math.max(0, ...band.map((c) => heights[c])) + 2 * ROW_GAP;
    let x = COL_GAP / 2;
    for (const c of band) {
      let y = top + (bandHeight - heights[c]) / 2;
      for (const n of columns[c]) {
        const { w, h } = size(n);
        boxes.set(n.id, { x: x + (widths[c] - w) / 2, y, w, h });
        y += h + ROW_GAP;
      }
      x += widths[c] + COL_GAP;
    }
    width = Math.max(width, x - COL_GAP / 2);
    top += bandHeight + (bands.length > 1 ? BAND_GAP : 0);
  }
  const height = top - (bands.length > 1 ? BAND_GAP : 0);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${Math.ceil(width)}" height="${Math.ceil(height)}" viewBox="0 0 ${Math.ceil(width)} ${Math.ceil(height)}" font-family="monospace" font-size="11">`,
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#555"/></marker></defs>',
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
  ];
  for (const e of g.edges) {
    const a = boxes.get(e.from)!, b = boxes.get(e.to)!;
    const x1 = a.x + a.w, y1 = a.y + a.h / 2, x2 = b.x, y2 = b.y + b.h / 2, mid = (x1 + x2) / 2;
    out.push(`<path class="edge" d="M ${r(x1)} ${r(y1)} C ${r(mid)} ${r(y1)}, ${r(mid)} ${r(y2)}, ${r(x2)} ${r(y2)}" fill="none" stroke="#555" stroke-width="1.2" marker-end="url(#arrow)"/>`);
  }
  for (const n of g.nodes) {
    const b = boxes.get(n.id)!;
    if (n.kind === 'op') {
      out.push(`<g class="op" id="${n.id}">`);
      out.push(`<ellipse cx="${r(b.x + b.w / 2)}" cy="${r(b.y + b.h / 2)}" rx="${r(b.w / 2)}" ry="${r(b.h / 2)}" fill="${FILL.op}" stroke="#335"/>`);
      out.push(`<text x="${r(b.x + b.w / 2)}" y="${r(b.y + b.h / 2 + 4)}" text-anchor="middle">${xml(n.op)}</text>`);
    } else {
      out.push(`<g class="tensor ${n.role}" id="${n.id}">`);
      out.push(`<rect x="${r(b.x)}" y="${r(b.y)}" width="${r(b.w)}" height="${r(b.h)}" rx="3" fill="${FILL[n.role]}" stroke="#333"/>`);
      n.lines.forEach((line, i) => {
        if (i > 0) out.push(`<line x1="${r(b.x)}" y1="${r(b.y + i * LINE_H + PAD / 2)}" x2="${r(b.x + b.w)}" y2="${r(b.y + i * LINE_H + PAD / 2)}" stroke="#bbb"/>`);
        const bold = i === 0 && n.label ? ' font-weight="bold"' : '';
        out.push(`<text x="${r(b.x + PAD)}" y="${r(b.y + (i + 1) * LINE_H)}"${bold}>${xml(line)}</text>`);
      });
    }
    out.push('</g>');
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

const r = (v: number) => Math.round(v * 10) / 10;

/** DOT text of root's graph. */
export const graphToDot = (root: Tensor, opts?: GraphOptions): string => graph(root, opts).toDot();

/** SVG text of root's graph. */
export const graphToSvg = (root: Tensor, opts?: GraphOptions): string => graph(root, opts).toSvg();

/** Write `<pathWithoutExt>.dot` and `.svg` for root's graph (creating the folder); returns the paths. */
export const writeGraph = (root: Tensor, pathWithoutExt: string, opts?: GraphOptions): { dot: string; svg: string } => graph(root, opts).write(pathWithoutExt);
