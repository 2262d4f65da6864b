// Recording the graph: every differentiable op returns through record (or recordFused), which
// attaches the op's gradient rule to its output when recording is on and an input needs a
// gradient. The walk back through the graph is in backward.ts.
import { Tensor, noteView } from '../tensor/tensor.js';
import { isFloat } from '../tensor/dtype.js';
import { noteRecording } from '../tensor/pool.js';

let gradEnabled = true;
let detectAnomaly = false;

export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run fn with recording on or off, restoring the previous mode afterwards. */
export function withGradMode<T>(enabled: boolean, fn: () => T): T {
  const previous = gradEnabled;
  gradEnabled = enabled;
  noteRecording(enabled);
  try {
    return fn();
  } finally {
    gradEnabled = previous;
    noteRecording(previous);
  }
}

/** Run fn without recording a graph (like `with torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  return withGradMode(false, fn);
}

/** Check every gradient for NaN/Inf during backward and name the op that produced it. */
export function setDetectAnomaly(on: boolean): void {
  detectAnomaly = on;
}

export function anomalyDetection(): boolean {
  return detectAnomaly;
}

/** ∂L/∂input_k from ∂L/∂out, written with recorded ops so that it can be differentiated again. */
export type GradRule = (grad: Tensor) => Tensor;

/**
 * A primitive: one gradient rule per input, called only for inputs that need a gradient. A rule
 * may return the broadcast shape of out; the engine sums it back (sumTo) once for every op.
 */
export function record(out: Tensor, op: string, inputs: Tensor[], rules: GradRule[]): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = { op, inputs, backward: (g, needs) => rules.map((rule, k) => (needs[k] ? rule(g) : null)) };
  }
  return out;
}

/**
 * A fused op: a fast gradient over raw kernels for every input at once, plus the same function
 * composed of recorded ops, which the engine differentiates instead when it records gradients
 * (createGraph), so a fused op has higher-order gradients without a second hand-written rule.
 * The fast backward must return new tensors (never `grad` itself or a view of it): the engine
 * adds later gradients into them in place.
 */
export function recordFused(
  out: Tensor, op: string, inputs: Tensor[],
  backward: (grad: Tensor, needs: readonly boolean[]) => (Tensor | null)[],
  composite: (...inputs: Tensor[]) => Tensor,
): Tensor {
  if (gradEnabled && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.gradFn = { op, inputs, backward, composite };
  }
  return out;
}

// Gradients the engine may add into in place: a rule's brand-new output that nothing else holds
// (unslice's zeros-with-a-slab, the engine's own sums), until the engine hands it on to a rule.
const accumulators = new WeakSet<Tensor>();

/** Declare t a fresh gradient no one else holds (only meaningful while no graph is recorded). */
export function markAccumulator(t: Tensor): Tensor {
  if (!gradEnabled) accumulators.add(t);
  return t;
}

/** Whether t may be added into in place; it stops being so once released (handed to a rule or stored). */
export function isAccumulator(t: Tensor): boolean {
  return accumulators.has(t);
}

export function releaseAccumulator(t: Tensor): void {
  accumulators.delete(t);
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
  return noteView(new Tensor(t.data, t.shape, t.dtype));
}
