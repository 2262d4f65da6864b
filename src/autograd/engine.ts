// The backward engine: record how each tensor was made, then walk the graph in reverse
// topological order, applying each op's gradient rule and accumulating into the leaves.
import { Tensor } from '../tensor/tensor.js';
import { isFloat } from '../tensor/dtype.js';
import { fmt, shapesEqual } from '../tensor/shape.js';
import { binary, cast, unary } from '../tensor/kernels/js/elementwise.js';

let gradEnabled = true;
let detectAnomaly = false;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run fn without recording a graph (like `with torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = previous;
  }
}

/** Check every gradient for NaN/Inf during backward and name the op that produced it. */
export function setDetectAnomaly(on: boolean): void {
  detectAnomaly = on;
}

/**
 * Attach the op's gradient rule to out when recording is on and an input needs a gradient.
 * Every differentiable op returns through here, so this is where the graph is built.
 */
export function record(out: Tensor, op: string, inputs: Tensor[], backward: (grad: Tensor) => (Tensor | null)[]): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = { op, inputs, backward };
  }
  return out;
}

/** Tensors that lead to root and need a gradient, in topological order (inputs first). Iterative DFS. */
function topologicalOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>();
  const stack: [Tensor, number][] = [[root, 0]];
  visited.add(root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1];
    const [node, next] = top;
    const inputs = node.gradFn?.inputs ?? [];
    if (next < inputs.length) {
      top[1]++;
      const child = inputs[next];
      if (child.requiresGrad && !visited.has(child)) {
        visited.add(child);
        stack.push([child, 0]);
      }
    } else {
      stack.pop();
      order.push(node);
    }
  }
  return order;
}

function accumulate(into: Tensor | undefined, g: Tensor): Tensor {
  return into ? binary('add', into, g) : g;
}

/**
 * ∂root/∂leaf for every leaf that requires a gradient, added into leaf.grad (gradients
 * accumulate across calls, as in PyTorch: zero them between steps). The graph is kept, so
 * calling backward twice adds the gradient twice.
 */
export function backward(root: Tensor, grad?: Tensor | null): void {
  if (!root.requiresGrad) {
    throw new Error('backward: the tensor does not require grad and has no grad_fn (did you set requiresGrad on an input?)');
  }
  if (!grad) {
    if (root.size !== 1) {
      throw new Error(`backward: grad can be omitted only for a single-element tensor (got shape ${fmt(root.shape)}); pass a gradient of that shape`);
    }
    grad = unary(root, () => 1);
  } else if (!shapesEqual(grad.shape, root.shape)) {
    throw new Error(`backward: grad of shape ${fmt(grad.shape)} does not match the tensor's shape ${fmt(root.shape)}`);
  } else if (grad.dtype !== root.dtype) {
    grad = cast(grad, root.dtype);
  }
  const order = topologicalOrder(root);
  const grads = new Map<Tensor, Tensor>([[root, grad]]);
  noGrad(() => {
    for (let i = order.length - 1; i >= 0; i--) {
      const node = order[i];
      const g = grads.get(node);
      if (!g) continue;
      grads.delete(node); // free memory as soon as the node is done
      if (!node.gradFn || node.retainsGrad) node.grad = node.grad ? binary('add', node.grad, g) : g;
      if (!node.gradFn) continue;
      const inputGrads = node.gradFn.backward(g);
      node.gradFn.inputs.forEach((input, k) => {
        const ig = inputGrads[k];
        if (!ig || !input.requiresGrad) return;
        if (!shapesEqual(ig.shape, input.shape)) {
          throw new Error(`backward: ${node.gradFn!.op} returned a gradient of shape ${fmt(ig.shape)} for an input of shape ${fmt(input.shape)}`);
        }
        const typed = ig.dtype === input.dtype ? ig : cast(ig, input.dtype);
        if (detectAnomaly && typed.data.some((v) => !Number.isFinite(v))) {
          throw new Error(`backward: ${node.gradFn!.op} produced a non-finite gradient for its input ${k} (shape ${fmt(input.shape)})`);
        }
        grads.set(input, accumulate(grads.get(input), typed));
      });
    }
  });
}

/** Mark a leaf as needing a gradient (floats only). */
export function requiresGrad_(t: Tensor, flag = true): Tensor {
  if (flag && !isFloat(t.dtype)) {
    throw new Error(`requiresGrad_: only float tensors can require gradients (got ${t.dtype})`);
  }
  if (!flag && t.gradFn) throw new Error('requiresGrad_: cannot turn off requiresGrad on a non-leaf tensor; use detach()');
  t.requiresGrad = flag;
  return t;
}

/** A tensor sharing t's values with no history: gradients stop here. */
export function detach(t: Tensor): Tensor {
  return new Tensor(t.data, t.shape, t.dtype);
}
