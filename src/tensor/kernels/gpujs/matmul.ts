// gpu.js matmul: one thread per output element, out[i][j] = Σ_p op(A)[i][p] · op(B)[p][j].
import type { MatmulArgs } from '../types.js';
import { addRowBias, matmul } from '../js/matmul.js';
import { cachedKernels, matrix, ran, type GpuKernel } from './runtime.js';

// Kernel sources are strings, not TypeScript functions: gpu.js parses the source text, and a
// transpiler or coverage tool may rewrite a function body into something it cannot parse.
// The loop bound is this.constants.K, never an argument: an argument-derived bound is silently
// capped at 1000 iterations. `0.0` makes the accumulator a float, not an integer.
// A transposed operand is read with swapped indices, so Aᵀ/Bᵀ are never materialised.
function matmulSource(transA: boolean, transB: boolean): string {
  const aRead = transA ? 'a[p][this.thread.y]' : 'a[this.thread.y][p]'; // A as [k, m] or [m, k]
  const bRead = transB ? 'b[this.thread.x][p]' : 'b[p][this.thread.x]'; // B as [n, k] or [k, n]
  return `function (a, b) {
    let sum = 0.0;
    for (let p = 0; p < this.constants.K; p++) {
      sum += ${aRead} * ${bRead};
    }
    return sum;
  }`;
}

function matmulKernel(m: number, n: number, k: number, transA: boolean, transB: boolean): GpuKernel {
  const key = `matmul ${m}x${k}x${n} ${transA ? 'T' : 'N'}${transB ? 'T' : 'N'}`;
  const [kernel] = cachedKernels(key, (create) => [
    // output is [x, y] = [n, m]: thread.x walks a row of C, as gpu.js stores x fastest.
    create(matmulSource(transA, transB), { output: [n, m], constants: { K: k }, precision: 'single' }),
  ]);
  return kernel;
}

/**
 * out[b] = op(A_b) · op(B_b), run as one 2-D kernel per batch entry on input() views of A_b and
 * B_b. This is right for any offsets (broadcast operands repeat one), and keeps offsets out of the
 * kernel, where gpu.js would carry them as float32 (exact only below 2^24). The per-entry cost is
 * the copy of A_b and B_b into the kernel's memory, which one 3-D kernel would make as well.
 */
export function matmulGpujs(args: MatmulArgs): void {
  const { a, b, out, batch, m, n, k, transA, transB, aOffsets, bOffsets, bias } = args;
  if (args.lda !== undefined || args.ldb !== undefined) return matmul(args); // matrices read in place: the js kernel
  if (m === 0 || n === 0 || batch === 0) return;
  if (k === 0) {
    out.fill(0, 0, batch * m * n); // an empty sum; gpu.js cannot build a zero-length input
    if (bias) addRowBias(out, batch * m, n, bias);
    return;
  }
  const kernel = matmulKernel(m, n, k, transA, transB);
  for (let bi = 0; bi < batch; bi++) {
    const aOff = aOffsets[bi];
    const bOff = bOffsets[bi];
    const aView = a.subarray(aOff, aOff + m * k);
    const bView = b.subarray(bOff, bOff + k * n);
    const rows = kernel(
      transA ? matrix(aView, k, m) : matrix(aView, m, k),
      transB ? matrix(bView, n, k) : matrix(bView, k, n),
    ) as ArrayLike<number>[];
    copyRows(rows, out, bi * m * n, n);
  }
  if (bias) addRowBias(out, batch * m, n, bias);
  ran(kernel);
}

/** A 2-D gpu.js result (an array of rows) into a flat array at `offset`. */
export function copyRows(rows: ArrayLike<number>[], out: Float32Array | Float64Array, offset: number, cols: number): void {
  for (let i = 0; i < rows.length; i++) out.set(rows[i], offset + i * cols);
}
