// One backward pass of a tiny network, one op at a time. The frames replay the engine's loop
// (src/autograd/engine.ts): walk the tensors in reverse topological order, hand each op the
// gradient of its output, and add what its rule returns into its inputs' gradients. Each frame
// is the graph picture (src/viz) with the gradients known at that moment; the last frame's leaf
// gradients are checked against tensor.backward().
import { Tensor } from '../src/tensor/tensor.js';
import { tensor, onesLike } from '../src/tensor/creation.js';
import { noGrad, add } from '../src/autograd/index.js';
import { sumTo } from '../src/autograd/ops/broadcast.js';
import { graph, type TensorNode } from '../src/viz/index.js';

/** Each op's rule, as the ops' files write it (one line). */
const RULES: Record<string, string> = {
  matmul: 'C = A·B  →  dA = dC·Bᵀ,  dB = Aᵀ·dC',
  add: 'c = a + b  →  da = dc,  db = dc (summed over broadcast rows)',
  div: 'c = a / b  →  da = dc / b,  db = −dc·c / b',
  mul: 'c = a·b  →  da = dc·b,  db = dc·a',
  tanh: 'h = tanh(u)  →  du = dh·(1 − h²)',
  sigmoid: 's = σ(u)  →  du = ds·s·(1 − s)',
  relu: 'r = max(u, 0)  →  du = dr·[u > 0]',
  pow: 'c = aⁿ  →  da = dc·n·aⁿ⁻¹',
  sum: 'c = Σ a  →  da = dc for every element',
};

export interface Frame {
  /** What this frame shows, in one or two sentences. */
  caption: string;
  /** The op rule applied in this frame ('' for the first and last frames). */
  rule: string;
  /** Graph ids to highlight: the tensor whose op ran, and the op. */
  highlight: string[];
  svg: string;
}

export interface Backprop {
  frames: Frame[];
  /** Whether the replay's leaf gradients equal those of tensor.backward(). */
  matchesEngine: boolean;
  loss: number;
}

/** The network: x [1, 2] → h = tanh(x·W1 + b1) [1, 2] → ŷ = h·W2 + b2 [1, 1]; L = mean((ŷ − y)²). */
function tinyNetwork(): { loss: Tensor; leaves: Tensor[] } {
  const named = (t: Tensor, label: string) => Object.assign(t, { label });
  const x = named(tensor([[1.0, -2.0]]), 'x');
  const y = named(tensor([[1.0]]), 'y (target)');
  const W1 = named(tensor([[0.5, -0.3], [0.2, 0.8]]).requiresGrad_(), 'W1');
  const b1 = named(tensor([0.1, -0.1]).requiresGrad_(), 'b1');
  const W2 = named(tensor([[1.5], [-1.0]]).requiresGrad_(), 'W2');
  const b2 = named(tensor([0.2]).requiresGrad_(), 'b2');
  const u = named(named(x.matmul(W1), 'x·W1').add(b1), 'u = x·W1 + b1');
  const h = named(u.tanh(), 'h = tanh(u)');
  const yHat = named(named(h.matmul(W2), 'h·W2').add(b2), 'ŷ = h·W2 + b2');
  const error = named(yHat.sub(y), 'e = ŷ − y');
  const loss = named(named(error.pow(2), 'e²').mean(), 'L = mean(e²)');
  return { loss, leaves: [W1, b1, W2, b2] };
}

export function buildBackprop(): Backprop {
  const { loss, leaves } = tinyNetwork();
  const g = graph(loss, { digits: 3 });
  const tensors = g.nodes.filter((n): n is TensorNode => n.kind === 'tensor'); // inputs before outputs
  const idOf = new Map(tensors.map((n) => [n.tensor, n.id]));
  const known = new Map<Tensor, Tensor>(); // the gradient each tensor has received so far

  const picture = (highlight: string[], caption: string, rule = ''): Frame => {
    // the picture prints t.grad: lend each tensor its gradient so far, then take it back
    for (const { tensor: t } of tensors) t.grad = known.get(t) ?? null;
    const svg = graph(loss, { digits: 3 }).toSvg();
    for (const { tensor: t } of tensors) t.grad = null;
    return { caption, rule, highlight, svg };
  };

  const frames: Frame[] = [picture([], `Forward pass done: L = ${loss.item().toFixed(4)}. No gradients yet. Next: seed the backward pass.`)];
  noGrad(() => {
    known.set(loss, onesLike(loss));
    frames.push(picture([idOf.get(loss)!], 'Seed: dL/dL = 1. Now visit the ops from the output back to the inputs (reverse topological order).'));
    for (let i = tensors.length - 1; i >= 0; i--) {
      const out = tensors[i].tensor;
      const grad = known.get(out);
      if (!out.gradFn || !grad) continue;
      const { op, inputs } = out.gradFn;
      const inputGrads = out.gradFn.backward(grad, inputs.map((t) => t.requiresGrad));
      const receivers: string[] = [];
      inputs.forEach((input, k) => {
        const broadcast = inputGrads[k];
        if (!broadcast || !input.requiresGrad) return;
        const ig = sumTo(broadcast, input.shape); // what the engine does for every op: broadcast gradients summed back
        known.set(input, known.has(input) ? add(known.get(input)!, ig) : ig);
        receivers.push(input.label ?? idOf.get(input)!);
      });
      const id = idOf.get(out)!;
      frames.push(picture(
        [id, `op${id.slice(1)}`],
        `${op} (which made ${out.label ?? id}) gets its output's gradient and sends one to ${receivers.join(' and ')}.`,
        RULES[op] ?? op,
      ));
    }
  });
  // the same gradients from the engine
  loss.backward();
  const matchesEngine = leaves.every((leaf) => {
    const mine = known.get(leaf)!, engine = leaf.grad!;
    return mine.data.every((v, i) => Math.abs(v - engine.data[i]) <= 1e-6 * Math.max(1, Math.abs(v)));
  });
  frames.push({ ...frames[frames.length - 1], highlight: leaves.map((l) => idOf.get(l)!), rule: '', caption: `Done: every parameter has dL/dθ. ${matchesEngine ? '✓ The same values as loss.backward() computes at once.' : '✗ These differ from loss.backward()!'}` });
  for (const leaf of leaves) leaf.grad = null;
  return { frames, matchesEngine, loss: loss.item() };
}
