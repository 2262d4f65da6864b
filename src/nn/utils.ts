// tg.nn.utils: gradient clipping and the L1/L2 penalties of D19 (regularisation).
import { Tensor, gradIsUnseen, peekGrad, storeGrad } from '../tensor/tensor.js';
import { arrayFor } from '../tensor/dtype.js';
import { add } from '../autograd/index.js';
import { zeros } from '../tensor/creation.js';

type Params = Iterable<Tensor> | Tensor;

const list = (params: Params): Tensor[] => (params instanceof Tensor ? [params] : [...params]);

export interface ClipGradNormOptions {
  /** Throw when the total norm is NaN or ±∞ instead of scaling by it. */
  errorIfNonfinite?: boolean;
}

/**
 * Clip the gradients' global norm (D19, as torch.nn.utils.clip_grad_norm_): with
 * ‖g‖ = (Σ over all gradient elements |g|ᵖ)^(1/p) (p = ∞: max |g|), every gradient is scaled by
 * min(1, maxNorm / (‖g‖ + 1e-6)). Returns ‖g‖ before clipping, as a number. Parameters with no
 * gradient are skipped. Each gradient is scaled through mapGrads (in place only where the engine
 * alone holds its storage).
 */
export function clipGradNorm(params: Params, maxNorm: number, normType = 2, { errorIfNonfinite = false }: ClipGradNormOptions = {}): number {
  const grads = list(params).map(peekGrad).filter((g): g is Tensor => g !== null);
  if (!(normType > 0)) throw new Error(`clipGradNorm: normType must be positive (got ${normType})`);
  let total = 0;
  for (const g of grads) {
    const d = g.data;
    if (normType === Infinity) for (let i = 0; i < d.length; i++) total = Math.max(total, Math.abs(d[i]));
    else if (normType === 2) for (let i = 0; i < d.length; i++) total += d[i] * d[i];
    else for (let i = 0; i < d.length; i++) total += Math.abs(d[i]) ** normType;
  }
  if (normType !== Infinity) total = total ** (1 / normType);
  if (errorIfNonfinite && !Number.isFinite(total)) {
    throw new Error(`clipGradNorm: the total norm of order ${normType} of the gradients is ${total}; set errorIfNonfinite false to scale by it anyway`);
  }
  const coef = maxNorm / (total + 1e-6);
  if (coef < 1 || Number.isNaN(coef)) {
    mapGrads(params, (v) => v * coef);
  }
  return total;
}

/** Clip every gradient element into [−clipValue, clipValue] (torch.nn.utils.clip_grad_value_). */
export function clipGradValue(params: Params, clipValue: number): void {
  mapGrads(params, (v) => Math.min(clipValue, Math.max(-clipValue, v)));
}

/**
 * Replace every gradient g by f(g) elementwise: in place where the engine alone holds its storage
 * (gradIsUnseen), else as a copy, since the storage may be shared with a tensor of the user's.
 */
function mapGrads(params: Params, f: (v: number) => number): void {
  for (const p of list(params)) {
    const g = peekGrad(p);
    if (!g) continue;
    const unseen = gradIsUnseen(p);
    const mapped = unseen ? g.data : arrayFor(g.dtype, g.size);
    for (let i = 0; i < mapped.length; i++) mapped[i] = f(g.data[i]);
    storeGrad(p, unseen ? g : new Tensor(mapped, g.shape, g.dtype), true);
  }
}

/** L1 penalty Σ|θ| over all parameters (differentiable): add λ·l1Penalty(params) to the loss. */
export function l1Penalty(params: Params): Tensor {
  return list(params).map((p) => p.abs().sum()).reduce((a, b) => add(a, b), zeros([]));
}

/**
 * L2 penalty Σθ² over all parameters (differentiable). Adding (λ/2)·l2Penalty to the loss adds
 * λ·θ to each gradient: the same as SGD's weightDecay λ.
 */
export function l2Penalty(params: Params): Tensor {
  return list(params).map((p) => p.mul(p).sum()).reduce((a, b) => add(a, b), zeros([]));
}
