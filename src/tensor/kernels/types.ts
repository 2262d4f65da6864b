// The kernel table: every numeric primitive the ops use, as a function over typed arrays, shapes
// and strides (never Tensors). The `js` family implements all of them (the readable reference);
// `wasm` and `gpujs` implement what they can and the dispatch (kernels/index.ts) falls back to
// `js` per primitive. Kernels only compute: the ops check shapes and allocate the outputs.
import type { TypedArray } from '../dtype.js';

export type FloatArray = Float32Array | Float64Array;
export type BackendName = 'js' | 'wasm' | 'gpujs';

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'pow' | 'maximum' | 'minimum' | 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le';
/** Elementwise maps; 'gelu' is x·Φ(x), 'geluTanh' GPT-2's tanh form, 'not' the logical not, 'copy' a cast. */
export type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'abs' | 'sign' | 'tanh' | 'sigmoid' | 'erf' | 'relu' | 'gelu' | 'geluTanh' | 'not' | 'copy';
/** Maps whose derivative has its own kernel: dx = g · f′(x). */
export type UnaryGradOp = 'relu' | 'gelu' | 'geluTanh';
export type ReduceKind = 'sum' | 'max' | 'min' | 'prod';

/**
 * A batch of matrix products: out[b] = op(A_b) · op(B_b), where op(X) is X or Xᵀ.
 * Per batch entry b, A_b starts at a[aOffsets[b]] and is stored row-major as [m, k] (or [k, m]
 * when transA), B_b starts at b[bOffsets[b]] as [k, n] (or [n, k] when transB). out is
 * contiguous [batch, m, n] and is overwritten (not accumulated into), with `bias` added to each row.
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
  /** [n], added to every row of every output matrix (linear's bias, fused so C is written once). */
  bias?: FloatArray | null;
  /** Row strides of the stored A and B (default: packed, k or m and n or k), for matrices read in place (attention's heads). */
  lda?: number;
  ldb?: number;
}

/** Where a sliding window sits: output (oh, ow) reads input (oh·strideH − padH + ki·dilationH, …). */
export interface WindowGeometry {
  inH: number;
  inW: number;
  outH: number;
  outW: number;
  kernelH: number;
  kernelW: number;
  strideH: number;
  strideW: number;
  /** Padding before the first row / column (padding after is implied by outH, outW). */
  padH: number;
  padW: number;
  dilationH: number;
  dilationW: number;
}

/** A 2-D convolution's operands: x [batch, channels, inH, inW], weight [outChannels, channels/groups, kernelH, kernelW]. */
export interface Conv2dArgs {
  x: FloatArray;
  weight: FloatArray;
  batch: number;
  channels: number;
  outChannels: number;
  groups: number;
  window: WindowGeometry;
}

export interface AvgPoolMode {
  countIncludePad: boolean;
  divisorOverride?: number;
}

/** Class-index targets for cross-entropy over contiguous rows of C logits. */
export interface CrossEntropyArgs {
  logits: FloatArray;
  rows: number;
  classes: number;
  target: Int32Array;
  ignoreIndex: number;
  /** A weight per class, or null. */
  weight: ArrayLike<number> | null;
  /** ε of label smoothing. */
  smoothing: number;
  /** Filled by the forward kernel: log Σ_c exp z_c per row. */
  lse: Float64Array;
}

export interface AdamArgs {
  theta: FloatArray;
  grad: FloatArray;
  m: FloatArray;
  v: FloatArray;
  stepSize: number;
  beta1: number;
  beta2: number;
  eps: number;
  /** √(1 − β₂ᵗ) (1 without bias correction). */
  bc2Sqrt: number;
  /** L2 weight decay added to the gradient (Adam). */
  l2: number;
  /** θ is first multiplied by this (AdamW's decoupled decay 1 − αλ; 1 for Adam). */
  decay: number;
}

/**
 * Multi-head attention over a packed projection qkv [batch, T, 3C]: q, k and v side by side, each
 * C = heads·headDim wide, head h in columns h·headDim …; no mask beyond `causal`.
 */
export interface PackedAttentionArgs {
  qkv: FloatArray;
  batch: number;
  T: number;
  heads: number;
  headDim: number;
  scale: number;
  /** Query i sees keys j ≤ i only. */
  causal: boolean;
  /** Dropout on the weights: [batch, heads, T, T] factors, 0 or 1/(1 − p); null for none. */
  keep: FloatArray | null;
}

/** A linear layer's operands for its gradient: y = x·Wᵀ + b, g = ∂L/∂y. */
export interface LinearBackwardArgs {
  g: FloatArray; // [rows, outF]
  x: FloatArray; // [rows, inF]
  w: FloatArray; // [outF, inF]
  rows: number;
  inF: number;
  outF: number;
}

export interface Kernels {
  /** out = a ∘ b over outShape, NumPy broadcasting (a and b contiguous in their own shapes). */
  binary(op: BinaryOp, a: TypedArray, aShape: readonly number[], b: TypedArray, bShape: readonly number[], out: TypedArray, outShape: readonly number[]): void;
  /** out = f(x) elementwise (out may have another dtype). */
  unary(op: UnaryOp, x: TypedArray, out: TypedArray): void;
  /** dx = g · f′(x) elementwise. */
  unaryGrad(op: UnaryGradOp, x: TypedArray, g: TypedArray, dx: TypedArray): void;
  /** out = cond ? a : b over arrays of one size. */
  where(cond: TypedArray, a: TypedArray, b: TypedArray, out: TypedArray): void;
  /** Reduce the middle dim of x viewed as [outer, len, inner] into out [outer, inner]. */
  reduce(kind: ReduceKind, x: TypedArray, outer: number, len: number, inner: number, out: TypedArray): void;
  /** Index of the largest (smallest) value along the middle dim; first wins ties, NaN counts as largest. */
  argReduce(largest: boolean, x: TypedArray, outer: number, len: number, inner: number, out: Int32Array): void;
  /** out[i₀…iₙ] = src[offset + Σ i_d·strides[d]] over outShape: transpose, permute, expand, slice. */
  stridedCopy(src: TypedArray, offset: number, strides: readonly number[], outShape: readonly number[], out: TypedArray): void;
  /** The adjoint write: out[offset + Σ i_d·strides[d]] = src[i₀…iₙ] over shape: pad, cat. */
  stridedScatter(src: TypedArray, shape: readonly number[], out: TypedArray, offset: number, strides: readonly number[]): void;
  /** out[o, r, :] = src[o, index[r], :] for src [outer, len, inner]: indexSelect, embedding. */
  gatherRows(src: TypedArray, outer: number, len: number, inner: number, index: Int32Array, out: TypedArray): void;
  /** out[o, index[r], :] += src[o, r, :], skipping rows whose index is `skip`: their gradients. */
  scatterAddRows(src: TypedArray, outer: number, len: number, inner: number, index: Int32Array, out: TypedArray, skip: number): void;
  matmul(args: MatmulArgs): void;
  /** Row softmax over x viewed as [rows, cols]: out = exp(x − max) / Σ exp(x − max). */
  softmax(x: FloatArray, out: FloatArray, rows: number, cols: number): void;
  /** dx = y ⊙ (dy − Σ_j dy_j y_j), y the softmax output. */
  softmaxBackward(y: FloatArray, dy: FloatArray, dx: FloatArray, rows: number, cols: number): void;
  /** out [batch, T, C] = the heads of (softmax(Q·Kᵀ·scale (+ causal mask)) ⊙ keep)·V, merged; probs [batch, heads, T, T] = the softmax. */
  packedAttention(args: PackedAttentionArgs, out: FloatArray, probs: FloatArray): void;
  /** dqkv [batch, T, 3C] (overwritten) from dOut [batch, T, C] and the forward's probs. */
  packedAttentionBackward(args: PackedAttentionArgs, probs: FloatArray, dOut: FloatArray, dqkv: FloatArray): void;
  /** dx = g·W [rows, inF], dw = gᵀ·x [outF, inF], db = Σ_rows g [outF], each overwritten; null: not wanted. */
  linearBackward(args: LinearBackwardArgs, dx: FloatArray | null, dw: FloatArray | null, db: FloatArray | null): void;
  /** Per-row losses (0 on ignored rows) of −Σ_c q_c log softmax(z)_c, q the smoothed one-hot; fills args.lse. */
  crossEntropy(args: CrossEntropyArgs, losses: Float64Array): void;
  /** dz = s_r·(A·softmax(z) − a), a the (weighted, smoothed) target, after crossEntropy; s one number or one per row. */
  crossEntropyBackward(args: CrossEntropyArgs, scale: number | Float64Array, dz: FloatArray): void;
  /** y = (x − μ)/√(σ² + ε)·w + b per row of D; fills mean and rstd. */
  layerNorm(x: FloatArray, rows: number, D: number, w: FloatArray | null, b: FloatArray | null, eps: number, y: FloatArray, mean: Float64Array, rstd: Float64Array): void;
  /** dx = rstd·(dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)), dx̂ = g·w; dw += Σ g·x̂; db += Σ g. */
  layerNormBackward(x: FloatArray, g: FloatArray, rows: number, D: number, w: FloatArray | null, mean: Float64Array, rstd: Float64Array, dx: FloatArray | null, dw: Float64Array, db: Float64Array): void;
  /** col[p, ki, kj, oh, ow] = x[p, window] (0 in the padding), for `planes` [H, W] planes. */
  im2col(x: FloatArray, col: FloatArray, planes: number, g: WindowGeometry): void;
  /** The adjoint of im2col: dx[p, window] += col[p, ki, kj, oh, ow]. */
  col2im(col: FloatArray, dx: FloatArray, planes: number, g: WindowGeometry): void;
  /** y[n, o] = b[o] + W_o ⋆ x[n, o's group] for y [batch, outChannels, outH·outW]: im2col and a product per image and group. */
  conv2d(args: Conv2dArgs, bias: FloatArray | null, y: FloatArray): void;
  /** dx = col2im(W_gᵀ · dy[n, g]) and dw = Σ_n dy[n, g] · col[n, g]ᵀ, both overwritten (null: not wanted); col is recomputed from x. */
  conv2dBackward(args: Conv2dArgs, dy: FloatArray, dx: FloatArray | null, dw: FloatArray | null): void;
  maxPool2d(x: FloatArray, out: FloatArray, argmax: Int32Array, planes: number, g: WindowGeometry): void;
  maxPool2dBackward(dy: FloatArray, argmax: Int32Array, dx: FloatArray, planes: number, g: WindowGeometry): void;
  avgPool2d(x: FloatArray, out: FloatArray, planes: number, g: WindowGeometry, mode: AvgPoolMode): void;
  avgPool2dBackward(dy: FloatArray, dx: FloatArray, planes: number, g: WindowGeometry, mode: AvgPoolMode): void;
  /** θ ← θ − α(g + λθ), in place. */
  sgdUpdate(theta: FloatArray, grad: FloatArray, lr: number, weightDecay: number): void;
  /** PyTorch's momentum update in place on θ and the buffer. */
  sgdMomentumUpdate(theta: FloatArray, grad: FloatArray, buf: FloatArray, first: boolean, lr: number, momentum: number, dampening: number, nesterov: boolean, weightDecay: number): void;
  /** One Adam/AdamW step in place on θ, m, v. */
  adamUpdate(args: AdamArgs): void;
}

export type KernelName = keyof Kernels;

/** A kernel family: what it is, whether it runs here, and the kernels it implements. */
export interface KernelFamily extends Partial<Kernels> {
  readonly name: BackendName;
  /** Whether this family can run here (the wasm module loaded, gpu.js importable, ...). */
  available(): boolean;
  /** Which gpu.js target ran, for the gpujs family ('webasm', 'headlessgl', 'webgl', 'webgpu', 'cpu'). */
  target?(): string;
}
