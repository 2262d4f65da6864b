// releaseGraph: hand a finished graph's activations back to the pool.
//
// JavaScript has no reference counts, so tsgrad cannot see when a step's intermediate tensors die:
// they wait for the garbage collector, and each step allocates its activations anew (W5: 26 MiB,
// 43 arrays per step). Those arrays survive the minor collections of the step that made them, so
// only the major collections that this external memory sets off free them. A training loop that
// is done with a step's graph says so here: the intermediates' storage goes back to the pool
// (pool.ts), and the next forward pass takes its arrays from there.
//
// Safety: every released intermediate is marked, so reading it afterwards throws instead of
// seeing another tensor's numbers; a buffer that any other tensor shares (a view, a detach, a
// leaf, the root, a .grad) is spared; and a backward through the released graph throws.
import { Tensor, forgetViews, isView, peekGrad, viewsOf } from '../tensor/tensor.js';
import { noteGraphReleased, release, storageOf } from '../tensor/pool.js';

export interface ReleaseGraphOptions {
  /** Intermediates to spare: they stay readable (their storage is not recycled). */
  keep?: Tensor[];
}

const RELEASED = 'this tensor is an intermediate of a graph freed by releaseGraph (its storage went back to the pool); '
  + "keep it with releaseGraph(root, { keep: [t] }), or read it before releasing (Trainer: releaseGraph: false)";

const released = new WeakSet<Tensor>();

/** Reading a released intermediate's data throws (it would otherwise see whatever reuses its storage). */
function markReleased(t: Tensor): void {
  released.add(t);
  Object.defineProperty(t, 'data', {
    configurable: true,
    get(): never {
      throw new Error(`${t.gradFn?.op ?? 'tensor'} (shape [${t.shape.join(', ')}]): ${RELEASED}`);
    },
    set(): never {
      throw new Error(`${t.gradFn?.op ?? 'tensor'}: ${RELEASED}`);
    },
  });
}

/**
 * Frees root's graph after its last backward: every intermediate tensor that led to root (not
 * root itself, not a leaf, not one in `keep` or with retainsGrad) becomes unreadable, and its
 * storage is recycled unless a tensor outside those shares it (a leaf, root, a kept one, a .grad,
 * or a view made by reshape, alias or detach that the graph does not hold). Returns the bytes the
 * pool took (it keeps arrays of 16 KiB and more, up to its bound).
 */
export function releaseGraph(root: Tensor, opts: ReleaseGraphOptions = {}): number {
  if (!(root instanceof Tensor)) throw new Error('releaseGraph: root must be a Tensor');
  const keep = opts.keep ?? [];
  const spared = new Set<object>(); // buffers that a tensor outside the intermediates reads
  const spare = (t: Tensor | null) => t && !released.has(t) && spared.add(storageOf(t.data));
  for (const t of [root, ...keep]) spare(t);
  const intermediates: Tensor[] = [];
  const saved: Tensor[] = [];
  const seen = new Set<Tensor>([root]);
  const stack: Tensor[] = [root];
  while (stack.length > 0) {
    const t = stack.pop()!;
    const fn = t.gradFn;
    if (released.has(t)) continue;
    if (fn === null) {
      spare(t);
      spare(peekGrad(t));
      continue;
    }
    if (t.retainsGrad) (spare(t), spare(peekGrad(t)));
    else if (t !== root && !keep.includes(t)) intermediates.push(t);
    fn.released = true;
    if (fn.saved) saved.push(...fn.saved);
    fn.saved = undefined;
    for (const input of fn.inputs) {
      if (!seen.has(input)) {
        seen.add(input);
        stack.push(input);
      }
    }
  }
  // per buffer: one tensor to release it through, and how many of the graph's tensors over it are views
  const buffers = new Map<object, { t: Tensor; views: number }>();
  for (const t of new Set([...intermediates, ...saved])) {
    const key = storageOf(t.data);
    const entry = buffers.get(key) ?? { t, views: 0 };
    if (isView(t)) entry.views++;
    buffers.set(key, entry);
  }
  let bytes = 0;
  for (const [buffer, { t, views }] of buffers) {
    if (spared.has(buffer) || views !== viewsOf(buffer)) continue; // someone outside still reads it
    forgetViews(buffer);
    if (release(t.dtype, t.data)) bytes += t.data.byteLength;
  }
  for (const t of intermediates) markReleased(t);
  noteGraphReleased();
  return bytes;
}
