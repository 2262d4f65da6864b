// SGD (D17: θ ← θ − α·∇L) with PyTorch's momentum, dampening, Nesterov and L2 weight decay:
//   g ← ∇L + λθ;  b ← g on the first step, else μb + (1 − τ)g;  g ← g + μb (Nesterov) or b;  θ ← θ − α·g.
import { peekGrad } from '../tensor/tensor.js';
import { kernelFor } from '../tensor/kernels/index.js';
import type { FloatArray } from '../tensor/kernels/types.js';
import { Optimizer, type ParamsInput } from './optimizer.js';

export interface SGDOptions {
  lr: number;
  momentum: number;
  dampening: number;
  nesterov: boolean;
  weightDecay: number;
}

export class SGD extends Optimizer<SGDOptions> {
  constructor(params: ParamsInput<SGDOptions>, { lr, momentum = 0, dampening = 0, nesterov = false, weightDecay = 0 }: Partial<SGDOptions> & { lr: number }) {
    super(params, { lr, momentum, dampening, nesterov, weightDecay });
  }

  protected override validate(g: SGDOptions): void {
    super.validate(g);
    if (!(g.momentum >= 0)) throw new Error(`SGD: invalid momentum ${g.momentum} (must be ≥ 0)`);
    if (!(g.weightDecay >= 0)) throw new Error(`SGD: invalid weightDecay ${g.weightDecay} (must be ≥ 0)`);
    if (g.nesterov && (g.momentum <= 0 || g.dampening !== 0)) throw new Error('SGD: nesterov momentum requires a momentum > 0 and zero dampening');
  }

  override step(): void {
    for (const group of this.paramGroups) {
      const { lr, momentum, dampening, nesterov, weightDecay } = group;
      for (const p of group.params) {
        const grad = peekGrad(p);
        if (!grad) continue;
        if (momentum === 0) {
          kernelFor('sgdUpdate', p.dtype, p.size)(p.data as FloatArray, grad.data as FloatArray, lr, weightDecay);
          continue;
        }
        const first = !this.state.has(p);
        const state = this.stateOf(p, () => ({ momentumBuffer: this.zerosLike(p) }));
        kernelFor('sgdMomentumUpdate', p.dtype, p.size)(p.data as FloatArray, grad.data as FloatArray, state.momentumBuffer as FloatArray, first, lr, momentum, dampening, nesterov, weightDecay);
      }
    }
  }
}
