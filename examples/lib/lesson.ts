// Small printing helpers shared by the numbered examples, so that each lesson shows only its math.
// Every hand-vs-autograd comparison prints one line `max |hand − autograd| = …`, which the tests
// in test/examples/ parse and hold to 1e-10.
import { Tensor } from '../../src/index.js';

const argv = process.argv.slice(2);

/** `--fast`: a run of seconds (used by the tests). */
export const fast = argv.includes('--fast');

/** The value after `--name`, or fallback. */
export function option(name: string, fallback: string): string {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
}

/** A number in a fixed width: fixed-point when readable, exponent form when tiny or huge. */
export function num(v: number, digits = 6): string {
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  if (v !== 0 && (a < 1e-4 || a >= 1e6)) return v.toExponential(2);
  return v.toFixed(digits);
}

/**
 * [a, b, c] of a tensor's values or a list of numbers; a matrix (or any tensor of 2+ dims) with its
 * shape and its rows: `2×3 [[a, b, c], [d, e, f]]`, so that a lesson never prints W flattened.
 */
export function vec(values: Tensor | ArrayLike<number>, digits = 4): string {
  if (values instanceof Tensor && values.ndim >= 2) {
    const rows = (dim: number, offset: number, size: number): string => {
      const n = values.shape[dim], inner = size / n;
      if (dim === values.ndim - 1) return `[${Array.from(values.data.subarray(offset, offset + n), (v) => num(v, digits)).join(', ')}]`;
      return `[${Array.from({ length: n }, (_, i) => rows(dim + 1, offset + i * inner, inner)).join(', ')}]`;
    };
    return `${values.shape.join('×')} ${rows(0, 0, values.size)}`;
  }
  return `[${Array.from(values instanceof Tensor ? values.data : values, (v) => num(v, digits)).join(', ')}]`;
}

/** The largest |a_i − b_i|; the two must have the same number of values. */
export function maxAbsDiff(a: Tensor | ArrayLike<number>, b: Tensor | ArrayLike<number>): number {
  const x = a instanceof Tensor ? a.data : a, y = b instanceof Tensor ? b.data : b;
  if (x.length !== y.length) throw new Error(`maxAbsDiff: ${x.length} values vs ${y.length}`);
  let m = 0;
  for (let i = 0; i < x.length; i++) m = Math.max(m, Math.abs(x[i] - y[i]));
  return m;
}

/** Print `name  hand [..]  autograd [..]` and the agreement line; returns the difference. */
export function compare(name: string, hand: Tensor | ArrayLike<number>, autograd: Tensor | ArrayLike<number>, digits = 6): number {
  const diff = maxAbsDiff(hand, autograd);
  // a matrix shows its shape and rows on both lines, hand values (often a flat list) in its shape
  const matrix = [autograd, hand].find((v): v is Tensor => v instanceof Tensor && v.ndim >= 2);
  const shaped = (v: Tensor | ArrayLike<number>) => (matrix && !(v instanceof Tensor && v.ndim >= 2) ? new Tensor(Float64Array.from(v instanceof Tensor ? v.data : v), matrix.shape, 'float64') : v);
  console.log(`  ${name}`);
  console.log(`    by hand:  ${vec(shaped(hand), digits)}`);
  console.log(`    autograd: ${vec(shaped(autograd), digits)}`);
  console.log(`    max |hand − autograd| = ${diff.toExponential(1)}`);
  return diff;
}

/** The agreement line alone (when the values were printed another way); against: 'autograd' or 'library'. */
export function agreement(diff: number, what = '', against: 'autograd' | 'library' = 'autograd'): void {
  console.log(`  max |hand − ${against}| = ${diff.toExponential(1)}${what ? `  (${what})` : ''}`);
}

/** A section title with its D-numbers. */
export function section(title: string): void {
  console.log(`\n== ${title} ==`);
}

/** Rows of cells, each column padded to its widest cell. */
export function table(rows: (string | number)[][], indent = '  '): void {
  const cells = rows.map((row) => row.map(String));
  const widths = cells[0].map((_, c) => Math.max(...cells.map((row) => (row[c] ?? '').length)));
  for (const row of cells) console.log(indent + row.map((cell, c) => cell.padStart(widths[c])).join('  '));
}
