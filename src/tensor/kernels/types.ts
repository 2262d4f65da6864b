// The kernel interface: what every kernel family (js, wasm, gpujs) implements.
// Kernels only compute: they know nothing of tensors, gradients or modules. Shapes are checked by
// the ops before a kernel is called; the caller allocates the output.

export type FloatArray = Float32Array | Float64Array;
export type BackendName = 'js' | 'wasm' | 'gpujs';

/**
 * A batch of matrix products: out[b] = op(A_b) · op(B_b), where op(X) is X or Xᵀ.
 * Per batch entry b, A_b starts at a[aOffsets[b]] and is stored row-major as [m, k] (or [k, m]
 * when transA), B_b starts at b[bOffsets[b]] as [k, n] (or [n, k] when transB). out is
 * contiguous [batch, m, n] and is overwritten (not accumulated into).
 */
export interface MatmulArgs {
  a: FloatArray;
  b: FloatArray;
  out: FloatArray;
  batch: number;
  m: number;
  n: number;
  k: number;
  transA: boolean;
  transB: boolean;
  aOffsets: Int32Array; // length batch
  bOffsets: Int32Array; // length batch
}

export interface KernelFamily {
  readonly name: BackendName;
  /** Whether this family can run here (the wasm module loaded, gpu.js importable, ...). */
  available(): boolean;
  /** Which gpu.js target ran, for the gpujs family ('webasm', 'headlessgl', 'webgl', 'webgpu', 'cpu'). */
  target?(): string;
  matmul(args: MatmulArgs): void;
  /** Row softmax over the last dim of x viewed as [rows, cols]: out = exp(x - max) / Σ exp(x - max). */
  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void;
  /** Softmax backward over rows: dx = y ⊙ (dy - Σ_j dy_j y_j), y the softmax output. */
  softmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void;
}
