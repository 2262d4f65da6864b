// Adam and AdamW. D18 (the documents' form, biasCorrection: false):
//   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ − α·m/(√v + ε).
// Standard Adam (the default) corrects the bias of the zero-initialised moments:
//   θ ← θ − (α/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + ε)   (PyTorch's arithmetic).
// Adam's weightDecay is L2 (g ← g + λθ); AdamW's is decoupled: θ ← θ(1 − αλ) before the step.
import type { TypedArray } from '../tensor/dtype.js';
import { Optimizer, type ParamsInput } from './optimizer.js';

export interface AdamOptions {
  lr: number;
  betas: [number, number];
  eps: number;
  weightDecay: number;
  biasCorrection: boolean;
}

type AdamArgs = Partial<AdamOptions>;

export class Adam extends Optimizer<AdamOptions> {
  /** Decoupled weight decay (AdamW) instead of L2. */
  protected readonly decoupled: boolean = false;

  constructor(params: ParamsInput<AdamOptions>, { lr = 1e-3, betas = [0.9, 0.999], eps = 1e-8, weightDecay = 0, biasCorrection = true }: AdamArgs = {}) {
    super(params, { lr, betas: [betas[0], betas[1]], eps, weightDecay, biasCorrection });
  }

  protected override validate(g: AdamOptions): void {
    super.validate(g);
    const name = this.constructor.name;
    if (!Array.isArray(g.betas) || g.betas.length !== 2) throw new Error(`${name}: betas must be a pair [β₁, β₂]`);
    g.betas.forEach((b, i) => {
      if (!(b >= 0 && b < 1)) throw new Error(`${name}: invalid beta parameter at index ${i}: ${b} (must be in [0, 1))`);
    });
    if (!(g.eps >= 0)) throw new Error(`${name}: invalid eps ${g.eps} (must be ≥ 0)`);
    if (!(g.weightDecay >= 0)) throw new Error(`${name}: invalid weightDecay ${g.weightDecay} (must be ≥ 0)`);
  }

  override step(): void {
    for (const group of this.paramGroups) {
      const { lr, betas: [b1, b2], eps, weightDecay, biasCorrection } = group;
      for (const p of group.params) {
        if (!p.grad) continue;
        const s = this.stateOf(p, () => ({ step: 0, expAvg: this.zerosLike(p), expAvgSq: this.zerosLike(p) }));
        const t = (s.step as number) + 1;
        s.step = t;
        const theta = p.data;
        if (this.decoupled && weightDecay !== 0) {
          const keep = 1 - lr * weightDecay;
          for (let i = 0; i < theta.length; i++) theta[i] *= keep;
        }
        const stepSize = biasCorrection ? lr / (1 - b1 ** t) : lr;
        const bc2Sqrt = biasCorrection ? Math.sqrt(1 - b2 ** t) : 1;
        adamUpdate(theta, p.grad.data, s.expAvg as TypedArray, s.expAvgSq as TypedArray, stepSize, b1, b2, eps, bc2Sqrt, this.decoupled ? 0 : weightDecay);
      }
    }
  }
}

/** The moment updates and θ ← θ − stepSize·m/(√v/bc2Sqrt + ε), one pass, in place, no allocation. */
function adamUpdate(
  theta: TypedArray, grad: TypedArray, m: TypedArray, v: TypedArray,
  stepSize: number, b1: number, b2: number, eps: number, bc2Sqrt: number, l2: number,
): void {
  const c1 = 1 - b1, c2 = 1 - b2;
  for (let i = 0; i < theta.length; i++) {
    const g = l2 === 0 ? grad[i] : grad[i] + l2 * theta[i];
    m[i] = b1 * m[i] + c1 * g;
    v[i] = b2 * v[i] + c2 * g * g;
    theta[i] -= stepSize * (m[i] / (Math.sqrt(v[i]) / bc2Sqrt + eps));
  }
}

/** AdamW: Adam with decoupled weight decay, default λ = 0.01 (PyTorch). */
export class AdamW extends Adam {
  protected override readonly decoupled = true;

  constructor(params: ParamsInput<AdamOptions>, { weightDecay = 0.01, ...rest }: AdamArgs = {}) {
    super(params, { ...rest, weightDecay });
  }
}
