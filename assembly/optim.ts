// Optimizer updates over flat float32 buffers, in place, four lanes at a time (the formulas of
// src/tensor/kernels/js/optim.ts, which computes them in float64 and rounds once per store).
// Pointers are byte offsets into the module's memory; n floats each.
import { madd } from './simd';

/** θ ← θ − lr·(g + λθ). */
export function sgdStep(theta: usize, grad: usize, n: i32, lr: f32, weightDecay: f32): void {
  const nlr = f32x4.splat(-lr), wd = f32x4.splat(weightDecay);
  const vecEnd = n & ~3;
  let i = 0;
  for (; i < vecEnd; i += 4) {
    const p = <usize>i << 2;
    const t = v128.load(theta + p);
    v128.store(theta + p, madd(nlr, madd(wd, t, v128.load(grad + p)), t));
  }
  for (; i < n; i++) {
    const p = <usize>i << 2;
    const t = load<f32>(theta + p);
    store<f32>(theta + p, t - lr * (load<f32>(grad + p) + weightDecay * t));
  }
}

/**
 * PyTorch's momentum SGD: g ← ∇L + λθ; b ← g on the first step (`first` non-zero), else
 * μb + (1 − τ)g; θ ← θ − lr·(g + μb if Nesterov, else b). 1 − τ comes from the caller, in float64.
 */
export function sgdMomentumStep(
  theta: usize, grad: usize, buf: usize, n: i32, first: i32, lr: f32, momentum: f32, oneMinusDampening: f32, nesterov: i32, weightDecay: f32,
): void {
  const nlr = f32x4.splat(-lr), mu = f32x4.splat(momentum), keep = f32x4.splat(oneMinusDampening), wd = f32x4.splat(weightDecay);
  const vecEnd = n & ~3;
  let i = 0;
  for (; i < vecEnd; i += 4) {
    const p = <usize>i << 2;
    const t = v128.load(theta + p);
    const g = madd(wd, t, v128.load(grad + p));
    const b = first != 0 ? g : madd(mu, v128.load(buf + p), f32x4.mul(keep, g));
    v128.store(buf + p, b);
    v128.store(theta + p, madd(nlr, nesterov != 0 ? madd(mu, b, g) : b, t));
  }
  for (; i < n; i++) {
    const p = <usize>i << 2;
    const t = load<f32>(theta + p);
    const g = load<f32>(grad + p) + weightDecay * t;
    const b = first != 0 ? g : momentum * load<f32>(buf + p) + oneMinusDampening * g;
    store<f32>(buf + p, b);
    store<f32>(theta + p, t - lr * (nesterov != 0 ? g + momentum * b : b));
  }
}

/**
 * One Adam/AdamW step: θ ← θ·decay; g ← ∇L + l2·θ; m ← β₁m + (1 − β₁)g; v ← β₂v + (1 − β₂)g²;
 * θ ← θ − stepSize·m/(√v/bc2Sqrt + ε). Dividing by bc2Sqrt is a multiply by its inverse here.
 * 1 − β₁ and 1 − β₂ come from the caller, computed in float64: 1 − f32(0.999) is 1.3e-5 off 0.001.
 */
export function adamStep(
  theta: usize, grad: usize, m: usize, v: usize, n: i32,
  stepSize: f32, beta1: f32, oneMinusBeta1: f32, beta2: f32, oneMinusBeta2: f32, eps: f32, invBc2Sqrt: f32, l2: f32, decay: f32,
): void {
  const b1 = f32x4.splat(beta1), b2 = f32x4.splat(beta2), c1 = f32x4.splat(oneMinusBeta1), c2 = f32x4.splat(oneMinusBeta2);
  const nstep = f32x4.splat(-stepSize), epsv = f32x4.splat(eps), inv = f32x4.splat(invBc2Sqrt);
  const l2v = f32x4.splat(l2), dec = f32x4.splat(decay);
  const vecEnd = n & ~3;
  let i = 0;
  for (; i < vecEnd; i += 4) {
    const p = <usize>i << 2;
    const t = f32x4.mul(v128.load(theta + p), dec);
    const g = l2 == 0 ? v128.load(grad + p) : madd(l2v, t, v128.load(grad + p)); // js skips l2·θ when l2 = 0 (θ = ±∞)
    const mi = madd(b1, v128.load(m + p), f32x4.mul(c1, g));
    const vi = madd(b2, v128.load(v + p), f32x4.mul(f32x4.mul(c2, g), g));
    v128.store(m + p, mi);
    v128.store(v + p, vi);
    const denom = madd(f32x4.sqrt(vi), inv, epsv);
    v128.store(theta + p, madd(nstep, f32x4.div(mi, denom), t));
  }
  for (; i < n; i++) {
    const p = <usize>i << 2;
    const t = load<f32>(theta + p) * decay;
    const g = l2 == 0 ? load<f32>(grad + p) : load<f32>(grad + p) + l2 * t;
    const mi = beta1 * load<f32>(m + p) + oneMinusBeta1 * g;
    const vi = beta2 * load<f32>(v + p) + oneMinusBeta2 * g * g;
    store<f32>(m + p, mi);
    store<f32>(v + p, vi);
    store<f32>(theta + p, t - stepSize * (mi / (Mathf.sqrt(vi) * invBc2Sqrt + eps)));
  }
}

/**
 * adamStep with its nine numbers read from `params` (float32: stepSize, β₁, 1 − β₁, β₂, 1 − β₂, ε,
 * 1/bc2Sqrt, l2, decay): the form the worker thread runs, whose call table holds integers only.
 */
export function adamStepAt(theta: usize, grad: usize, m: usize, v: usize, n: i32, params: usize): void {
  adamStep(
    theta, grad, m, v, n,
    load<f32>(params), load<f32>(params, 4), load<f32>(params, 8), load<f32>(params, 12), load<f32>(params, 16),
    load<f32>(params, 20), load<f32>(params, 24), load<f32>(params, 28), load<f32>(params, 32),
  );
}
