// Adam and AdamW. D18 (the documents' form, biasCorrection: false):
//   m ← β₁m + (1 − β₁)g,  v ← β₂v + (1 − β₂)g²,  θ ← θ − α·m/(√v + ε).
// Standard Adam (the default) corrects the bias of the zero-initialised moments:
//   θ ← θ − (α/(1 − β₁ᵗ))·m/(√v/√(1 − β₂ᵗ) + ε)   (PyTorch's arithmetic).
// Adam's weightDecay is L2 (g ← g + λθ); AdamW's is decoupled: θ ← θ(1 − αλ) before the step.
import { peekGrad } from '../tensor/tensor.js';
import { kernelFor } from '../tensor/kernels/index.js';
import type { FloatArray } from '../tensor/kernels/types.js';
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
        const grad = peekGrad(p);
        if (!grad) continue;
        const s = this.stateOf(p, () => ({ step: 0, expAvg: this.zerosLike(p), expAvgSq: this.zerosLike(p) }));
        const t = (s.step as number) + 1;
        s.step = t;
        kernelFor('adamUpdate', p.dtype, p.size)({
          theta: p.data as FloatArray, grad: grad.data as FloatArray, m: s.expAvg as FloatArray, v: s.expAvgSq as FloatArray,
          stepSize: biasCorrection ? lr / (1 - b1 ** t) : lr, beta1: b1, beta2: b2, eps,
          bc2Sqrt: biasCorrection ? Math.sqrt(1 - b2 ** t) : 1,
          l2: this.decoupled ? 0 : weightDecay, decay: this.decoupled ? 1 - lr * weightDecay : 1, // AdamW: θ ← θ(1 − αλ) first
        });
      }
    }
  }
}

/** AdamW: Adam with decoupled weight decay, default λ = 0.01 (PyTorch). */
export class AdamW extends Adam {
  protected override readonly decoupled = true;

  constructor(params: ParamsInput<AdamOptions>, { weightDecay = 0.01, ...rest }: AdamArgs = {}) {
    super(params, { ...rest, weightDecay });
  }
}
