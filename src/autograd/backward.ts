// The backward engine: walk the graph from the outputs in reverse topological order, apply each
// op's gradient rule, sum broadcast gradients back to their input's shape, accumulate. Rules are
// written with the recorded ops, so with createGraph the walk itself is recorded and the
// gradients it returns can be differentiated again (PyTorch's create_graph).
import { Tensor, peekGrad, storeGrad } from '../tensor/tensor.js';
import { fmt, shapesEqual } from '../tensor/shape.js';
import * as raw from '../tensor/raw.js';
import { anomalyDetection, isAccumulator, markAccumulator, releaseAccumulator, withGradMode } from './engine.js';
import { kernelFor } from '../tensor/kernels/index.js';
import { add } from './ops/arithmetic.js';
import { alias, to } from './ops/shape.js';
import { sumTo } from './ops/broadcast.js';
import { beginWalk, collectMade, endWalk, release, stopCollecting, storageOf } from '../tensor/pool.js';

export interface BackwardOptions {
  /** Record the gradient computation, so the gradients can be differentiated again (default false). */
  createGraph?: boolean;
  /** Keep the graph for another backward (default true in tsgrad: the graph is kept unless told otherwise). */
  retainGraph?: boolean;
}

export interface GradOptions extends BackwardOptions {
  /** ∂L/∂output for each output; may be omitted for single-element outputs. */
  gradOutputs?: (Tensor | null | undefined)[];
  /** Return null for an input the outputs do not depend on, instead of throwing (default false). */
  allowUnused?: boolean;
}

/**
 * The tensors that lead from the roots to a leaf and need a gradient, inputs first (iterative
 * DFS, so deep graphs do not overflow the stack).
 */
function topologicalOrder(roots: Tensor[]): Tensor[] {
  const order: Tensor[] = [];
  const visited = new Set<Tensor>(roots);
  const stack: [Tensor, number][] = roots.map((r) => [r, 0]);
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

function seedGradient(root: Tensor, grad: Tensor | null | undefined, where: string): Tensor {
  if (!root.requiresGrad) {
    throw new Error(`${where}: the tensor does not require grad and has no grad_fn (did you set requiresGrad on an input?)`);
  }
  if (!grad) {
    if (root.size !== 1) {
      throw new Error(`${where}: grad can be omitted only for a single-element tensor (got shape ${fmt(root.shape)}); pass a gradient of that shape`);
    }
    return raw.view(raw.scalar(1, root.dtype), root.shape);
  }
  if (!shapesEqual(grad.shape, root.shape)) {
    throw new Error(`${where}: grad of shape ${fmt(grad.shape)} does not match the tensor's shape ${fmt(root.shape)}`);
  }
  return grad.dtype === root.dtype ? grad : raw.cast(grad, root.dtype);
}

/** The gradients of a fused op's inputs through its composite twin, recorded (used under createGraph). */
function compositeGradients(node: Tensor, g: Tensor, needs: readonly boolean[]): (Tensor | null)[] {
  const fn = node.gradFn!;
  // stand-ins keep each input's partial derivative apart (an input may depend on another one)
  const standIns = fn.inputs.map((t, k) => (needs[k] ? alias(t) : t));
  const out = fn.composite!(...standIns);
  const wanted = standIns.filter((_, k) => needs[k]);
  const grads = propagate([out], [g], wanted, true, true);
  let w = 0;
  return needs.map((n) => (n ? grads[w++] : null));
}

/**
 * previous + g. Without a recorded graph, the sum goes in place into whichever of the two the
 * engine owns (a fresh sum, or a rule's brand-new output such as unslice's), else into a new one.
 */
function addGradient(previous: Tensor | undefined, g: Tensor, createGraph: boolean): Tensor {
  if (!previous) return g;
  if (!createGraph && previous.dtype === g.dtype && shapesEqual(previous.shape, g.shape)) {
    const into = isAccumulator(previous) ? previous : isAccumulator(g) ? g : null;
    if (into) {
      const other = into === previous ? g : previous;
      kernelFor('binary', into.dtype, into.size)('add', into.data, into.shape, other.data, other.shape, into.data, into.shape);
      return into;
    }
  }
  const sum = add(previous, g);
  return createGraph ? sum : markAccumulator(sum);
}

/**
 * The walk's own gradient buffers: how many of the gradients waiting in the walk hold each one.
 * A buffer the walk made that no waiting gradient holds and that was never handed out (a .grad,
 * a returned gradient) is dead, and goes back to the pool for the next arrayFor (pool.ts).
 * Without `made` (createGraph, or a walk inside a walk) nothing is recycled.
 */
class WalkBuffers {
  private readonly held = new Map<object, number>();
  private readonly escaped = new Map<object, number>(); // buffer → how many gradients that left the walk hold it
  constructor(private readonly made: Set<object> | null) {}

  hold(t: Tensor): void {
    if (this.made) WalkBuffers.count(this.held, storageOf(t.data), 1);
  }

  drop(t: Tensor): void {
    if (this.made) WalkBuffers.count(this.held, storageOf(t.data), -1);
  }

  /** t leaves the walk (stored in .grad or returned): never recycled. */
  escape(t: Tensor): void {
    if (this.made) WalkBuffers.count(this.escaped, storageOf(t.data), 1);
  }

  /** Adds `by` to a storage's count, deleting it at 0. */
  private static count(counts: Map<object, number>, key: object, by: number): void {
    const n = (counts.get(key) ?? 0) + by;
    if (n > 0) counts.set(key, n);
    else counts.delete(key);
  }

  /** After the walk: whether t (a .grad it stored) is the only holder of a buffer the walk made. */
  soleOwner(t: Tensor): boolean {
    const b = storageOf(t.data);
    return this.made !== null && this.made.has(b) && this.escaped.get(b) === 1 && !this.held.has(b);
  }

  recycle(t: Tensor | null | undefined): void {
    if (!this.made || !t) return;
    const b = storageOf(t.data);
    if (this.held.has(b) || this.escaped.has(b) || !this.made.has(b)) return;
    this.made.delete(b); // once: if arrayFor hands it out again, it is made anew
    release(t.dtype, t.data);
  }

  finish(): void {
    if (!this.made) return;
    stopCollecting(this.made);
    endWalk();
  }
}

/**
 * The walk shared by backward and grad: gradients of the roots flow back; the gradients reaching
 * each `capture` tensor are returned (null where none arrives). With accumulate, every leaf (and
 * each tensor with retainsGrad) also adds its gradient into .grad.
 */
function propagate(roots: Tensor[], seeds: Tensor[], capture: Tensor[], createGraph: boolean, retainGraph: boolean, accumulate = false): (Tensor | null)[] {
  const captureSet = new Set(capture);
  let order = topologicalOrder(roots);
  let leads: Set<Tensor> | null = null;
  if (!accumulate) {
    // only the part of the graph that leads to a captured tensor needs to run
    const reaching = new Set<Tensor>();
    for (const node of order) if (captureSet.has(node) || node.gradFn?.inputs.some((t) => reaching.has(t))) reaching.add(node);
    order = order.filter((node) => reaching.has(node));
    leads = reaching;
  }
  const made = createGraph ? null : collectMade();
  if (made) beginWalk();
  const buffers = new WalkBuffers(made);
  const grads = new Map<Tensor, Tensor>();
  const store = (t: Tensor, g: Tensor) => {
    const old = grads.get(t);
    buffers.hold(g);
    if (old) buffers.drop(old);
    grads.set(t, g);
  };
  roots.forEach((r, i) => store(r, grads.has(r) ? add(grads.get(r)!, seeds[i]) : seeds[i]));
  const captured = new Map<Tensor, Tensor>();
  const stored: Tensor[] = []; // the tensors whose .grad this walk set
  try {
    withGradMode(createGraph, () => {
      for (let i = order.length - 1; i >= 0; i--) {
        const node = order[i];
        const g = grads.get(node);
        if (!g) continue;
        grads.delete(node); // free memory as soon as the node is done
        releaseAccumulator(g); // from here on g is the rules' (and maybe a .grad): never added into again
        if (captureSet.has(node)) {
          captured.set(node, g);
          buffers.escape(g);
        }
        if (accumulate && (!node.gradFn || node.retainsGrad)) {
          const previous = peekGrad(node);
          const sum = previous ? add(previous, g) : g;
          storeGrad(node, sum, false);
          buffers.escape(sum);
          stored.push(node);
        }
        const dead = [g]; // what this node may leave behind unheld: recycled once it is done
        const fn = node.gradFn;
        if (fn) {
          if (fn.released) throw new Error(`backward: the graph through ${fn.op} was already freed (backward ran with retainGraph: false); keep it with retainGraph: true`);
          const needs = fn.inputs.map((t) => t.requiresGrad && (leads === null || leads.has(t))); // the one "does this input need a gradient" check
          const inputGrads = createGraph && fn.composite ? compositeGradients(node, g, needs) : fn.backward(g, needs);
          if (fn.composite && !createGraph) for (const t of inputGrads) if (t) markAccumulator(t); // a fused op's gradients are new buffers
          if (!retainGraph) fn.released = true;
          fn.inputs.forEach((input, k) => {
            const ig = inputGrads[k];
            if (!ig || !needs[k]) return;
            const shaped = sumTo(ig, input.shape); // broadcast operands: summed back here, for every op
            if (!shapesEqual(shaped.shape, input.shape)) {
              throw new Error(`backward: ${fn.op} returned a gradient of shape ${fmt(ig.shape)} for an input of shape ${fmt(input.shape)}`);
            }
            const typed = shaped.dtype === input.dtype ? shaped : to(shaped, input.dtype);
            if (anomalyDetection() && typed.data.some((v) => !Number.isFinite(v))) {
              throw new Error(`backward: ${fn.op} produced a non-finite gradient for its input ${k} (shape ${fmt(input.shape)})`);
            }
            const previous = grads.get(input);
            store(input, addGradient(previous, typed, createGraph));
            dead.push(ig, shaped, typed);
            if (previous) dead.push(previous);
          });
        }
        buffers.drop(g);
        for (const t of dead) buffers.recycle(t);
      }
    });
    // a .grad whose storage only the walk holds may be recycled by zeroGrad, until someone reads it
    for (const node of stored) if (buffers.soleOwner(peekGrad(node)!)) storeGrad(node, peekGrad(node), true);
  } finally {
    buffers.finish();
  }
  return capture.map((t) => captured.get(t) ?? null);
}

/**
 * ∂root/∂leaf for every leaf that requires a gradient, added into leaf.grad (gradients
 * accumulate across calls, as in PyTorch: zero them between steps). The graph is kept by default,
 * so calling backward twice adds the gradient twice.
 */
export function backward(root: Tensor, grad?: Tensor | null, opts: BackwardOptions = {}): void {
  const seed = seedGradient(root, grad, 'backward');
  propagate([root], [seed], [], opts.createGraph ?? false, opts.retainGraph ?? true, true);
}

/**
 * The gradients of outputs with respect to inputs, as torch.autograd.grad: one per input, with
 * every .grad left untouched. Σ_i gradOutputs_i · ∂outputs_i/∂input.
 */
export function grad(outputs: Tensor[], inputs: Tensor[], opts: GradOptions = {}): (Tensor | null)[] {
  if (!Array.isArray(outputs) || !Array.isArray(inputs)) throw new Error('grad: outputs and inputs must be arrays of tensors');
  inputs.forEach((t, i) => {
    if (!(t instanceof Tensor) || !t.requiresGrad) throw new Error(`grad: input ${i} does not require grad`);
  });
  const seeds = outputs.map((o, i) => seedGradient(o, opts.gradOutputs?.[i], `grad: output ${i}`));
  const result = propagate(outputs, seeds, inputs, opts.createGraph ?? false, opts.retainGraph ?? true);
  result.forEach((g, i) => {
    if (!g && !opts.allowUnused) throw new Error(`grad: input ${i} (shape ${fmt(inputs[i].shape)}) was not used to compute the outputs; pass allowUnused: true to get null for it`);
  });
  return result;
}
