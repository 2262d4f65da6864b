// Gradient checking: analytic gradients from backward() against central finite differences,
// ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε, in float64.
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import * as raw from '../tensor/raw.js';
import { noGrad, withGradMode } from './engine.js';
import { backward, grad } from './backward.js';
import { add, mul } from './ops/arithmetic.js';
import { sum } from './ops/broadcast.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /** Accept an output that does not depend on the inputs (its gradient is zero); used by gradgradcheck. */
  allowConstant?: boolean;
}

/** Fixed pseudo-random weights (not from the global stream, so checking never changes a seeded run). */
function fixedWeights(shape: readonly number[], salt: number): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return new Tensor(Float64Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898 + 1.2345 + salt * 78.233) * 0.5 + 0.75), shape, 'float64');
}

/**
 * Check fn's second derivatives: with fixed random u (for the output) and v (one per input),
 * h(x) = Σ_i ⟨∂(u·fn)/∂x_i, v_i⟩ is computed with createGraph, and gradcheck compares its analytic
 * gradient (a Hessian-vector product) with finite differences of h itself.
 */
export function gradgradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): boolean {
  const checked = inputs.filter((t) => t.requiresGrad);
  const probe = noGrad(() => fn(...inputs));
  const u = fixedWeights(probe.shape, 1);
  const vs = checked.map((t, i) => fixedWeights(t.shape, i + 2));
  // h records its own graph even when gradcheck evaluates it under noGrad for finite differences
  const h = (...xs: Tensor[]): Tensor => withGradMode(true, () => {
    const out = fn(...xs);
    const wanted = xs.filter((t) => t.requiresGrad);
    if (!out.requiresGrad) return raw.scalar(0, 'float64');
    const grads = grad([out], wanted, { gradOutputs: [u], createGraph: true, allowUnused: true });
    return grads.reduce<Tensor>((acc, g, i) => (g ? add(acc, sum(mul(g, vs[i]))) : acc), raw.scalar(0, 'float64'));
  });
  try {
    return gradcheck(h, inputs, { ...opts, allowConstant: true });
  } catch (e) {
    throw new Error(`gradgradcheck: ${(e as Error).message.replace(/^gradcheck: /, '')} (second derivative)`);
  }
}

/**
 * Check fn's gradients with respect to every input that requires grad. A non-scalar output is
 * reduced as Σ out ⊙ w with fixed random weights w, so every output element is tested.
 * Throws an error naming the input, the element and both values; returns true otherwise.
 */
export function gradcheck(fn: (...inputs: Tensor[]) => Tensor, inputs: Tensor[], opts: GradcheckOptions = {}): boolean {
  const eps = opts.eps ?? 1e-6, atol = opts.atol ?? 1e-5, rtol = opts.rtol ?? 1e-3;
  inputs.forEach((t, i) => {
    if (t.requiresGrad && t.dtype !== 'float64') {
      throw new Error(`gradcheck: input ${i} must be float64 for finite differences to be accurate (got ${t.dtype})`);
    }
  });
  const probe = noGrad(() => fn(...inputs));
  const weights = fixedWeights(probe.shape, 0);
  const scalar = (out: Tensor) => raw.reduce(raw.binary('mul', out, weights), out.shape.map((_, d) => d), 'sum', false).data[0];

  for (const t of inputs) t.grad = null;
  const out = fn(...inputs);
  if (!out.requiresGrad && !opts.allowConstant) throw new Error('gradcheck: the output does not depend on any input that requires grad');
  if (out.requiresGrad) backward(out, weights);

  inputs.forEach((t, i) => {
    if (t.requiresGrad) compareWithDifferences(t, t.grad?.data ?? new Float64Array(t.size), () => scalar(fn(...inputs)), `input ${i}`, { eps, atol, rtol });
  });
  for (const t of inputs) t.grad = null;
  return true;
}

/** Central differences of evaluate() in each (chosen) entry of t, compared with the analytic gradient. */
function compareWithDifferences(
  t: Tensor, analytic: ArrayLike<number>, evaluate: () => number, label: string,
  { eps, atol, rtol }: { eps: number; atol: number; rtol: number }, entries: Iterable<number> = Array.from({ length: t.size }, (_, j) => j),
): void {
  for (const j of entries) {
    const original = t.data[j];
    t.data[j] = original + eps;
    const plus = noGrad(evaluate);
    t.data[j] = original - eps;
    const minus = noGrad(evaluate);
    t.data[j] = original;
    const numeric = (plus - minus) / (2 * eps);
    const a = analytic[j];
    if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
      throw new Error(`gradcheck: ${label} (shape ${fmt(t.shape)}), element ${j}: analytic gradient ${a} vs numerical ${numeric}`);
    }
  }
}

export interface ParamGradcheckOptions extends GradcheckOptions {
  /** Check at most this many entries per parameter, spread evenly (default 8). */
  entriesPerParam?: number;
}

/**
 * Check the gradients of a scalar loss with respect to named parameters (e.g. a whole model in
 * float64): loss() is evaluated with each entry nudged by ±eps and compared with backward().
 */
export function gradcheckParameters(loss: () => Tensor, params: [string, Tensor][], opts: ParamGradcheckOptions = {}): boolean {
  const o = { eps: opts.eps ?? 1e-6, atol: opts.atol ?? 1e-5, rtol: opts.rtol ?? 1e-3 };
  for (const [name, p] of params) {
    if (p.dtype !== 'float64') throw new Error(`gradcheckParameters: parameter '${name}' must be float64 (got ${p.dtype})`);
    p.grad = null;
  }
  const out = loss();
  if (out.size !== 1) throw new Error(`gradcheckParameters: the loss must be a single number (got shape ${fmt(out.shape)})`);
  backward(out);
  const count = opts.entriesPerParam ?? 8;
  for (const [name, p] of params) {
    const analytic = p.grad?.data ?? new Float64Array(p.size);
    const step = Math.max(1, Math.floor(p.size / count));
    const entries = Array.from({ length: Math.min(count, p.size) }, (_, k) => k * step);
    compareWithDifferences(p, analytic, () => loss().data[0], `parameter '${name}'`, o, entries);
    p.grad = null;
  }
  return true;
}
