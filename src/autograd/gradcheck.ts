// Gradient checking: analytic gradients from backward() against central finite differences,
// ∂f/∂xᵢ ≈ (f(x + εeᵢ) − f(x − εeᵢ)) / 2ε, in float64.
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { backward, noGrad } from './engine.js';
import { binary } from '../tensor/kernels/js/elementwise.js';
import { reduce } from '../tensor/kernels/js/reduce.js';

export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
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
  // fixed pseudo-random weights (not from the global stream, so checking never changes a seeded run)
  const weights = new Tensor(Float64Array.from({ length: probe.size }, (_, i) => Math.sin(i * 12.9898 + 1.2345) * 0.5 + 0.75), probe.shape, 'float64');
  const scalar = (out: Tensor) => reduce(binary('mul', out, weights), out.shape.map((_, d) => d), 'sum', false).data[0];

  for (const t of inputs) t.grad = null;
  const out = fn(...inputs);
  if (!out.requiresGrad) throw new Error('gradcheck: the output does not depend on any input that requires grad');
  backward(out, weights.shape.length === out.ndim ? weights : null);

  inputs.forEach((t, i) => {
    if (!t.requiresGrad) return;
    const analytic = t.grad?.data ?? new Float64Array(t.size);
    for (let j = 0; j < t.size; j++) {
      const original = t.data[j];
      t.data[j] = original + eps;
      const plus = noGrad(() => scalar(fn(...inputs)));
      t.data[j] = original - eps;
      const minus = noGrad(() => scalar(fn(...inputs)));
      t.data[j] = original;
      const numeric = (plus - minus) / (2 * eps);
      const a = analytic[j];
      if (!(Math.abs(a - numeric) <= atol + rtol * Math.abs(numeric))) {
        throw new Error(`gradcheck: input ${i} (shape ${fmt(t.shape)}), element ${j}: analytic gradient ${a} vs numerical ${numeric}`);
      }
    }
  });
  for (const t of inputs) t.grad = null;
  return true;
}
