// Optimizer updates over flat parameter buffers, in place, no allocation: SGD (D17) and Adam (D18).
import type { AdamArgs, FloatArray } from '../types.js';

export function sgdUpdate(theta: FloatArray, grad: FloatArray, lr: number, weightDecay: number): void {
  for (let i = 0; i < theta.length; i++) theta[i] -= lr * (grad[i] + weightDecay * theta[i]);
}

/** g ← ∇L + λθ;  b ← g on the first step, else μb + (1 − τ)g;  θ ← θ − α·(g + μb if Nesterov, else b). */
export function sgdMomentumUpdate(
  theta: FloatArray, grad: FloatArray, buf: FloatArray, first: boolean,
  lr: number, momentum: number, dampening: number, nesterov: boolean, weightDecay: number,
): void {
  for (let i = 0; i < theta.length; i++) {
    const g = grad[i] + weightDecay * theta[i];
    buf[i] = first ? g : momentum * buf[i] + (1 - dampening) * g;
    theta[i] -= lr * (nesterov ? g + momentum * buf[i] : buf[i]);
  }
}

/** m ← β₁m + (1 − β₁)g, v ← β₂v + (1 − β₂)g², θ ← θ·decay − stepSize·m/(√v/bc2Sqrt + ε). */
export function adamUpdate({ theta, grad, m, v, stepSize, beta1, beta2, eps, bc2Sqrt, l2, decay }: AdamArgs): void {
  const c1 = 1 - beta1, c2 = 1 - beta2;
  if (decay !== 1) for (let i = 0; i < theta.length; i++) theta[i] *= decay;
  for (let i = 0; i < theta.length; i++) {
    const g = l2 === 0 ? grad[i] : grad[i] + l2 * theta[i];
    m[i] = beta1 * m[i] + c1 * g;
    v[i] = beta2 * v[i] + c2 * g * g;
    theta[i] -= stepSize * (m[i] / (Math.sqrt(v[i]) / bc2Sqrt + eps));
  }
}
