// Learning merges, shared by byte-level BPE and WordPiece training (one way to do a thing).
// Words are sequences of integer symbols with a count each; each step merges the most frequent
// adjacent pair everywhere into a new symbol. Ties go to the smallest (first, second) pair of
// ids, so training is deterministic whatever order the words came in.
// Pair counts are updated only for the words that contain the merged pair (found through an index
// from pair to words), and the best pair comes from a heap, so a merge costs the words it touches,
// not the whole corpus (WordPiece on the 6,000 spam e-mails: 120k distinct words).

const SHIFT = 2 ** 22; // pair key = first * SHIFT + second: exact in a double while ids < 2^22

export interface LearnOptions {
  /** Stop when the best pair occurs fewer times than this (default 1: merge while any pair exists). */
  minFrequency?: number;
  /**
   * Called after each merge with (first, second, newId): lets the caller name the new symbol.
   * Return false when the merge made nothing new (a string the vocabulary already has, reached by
   * another path): it is kept as a merge but does not count toward `budget`.
   */
  onMerge?: (first: number, second: number, id: number) => boolean | void;
}

/**
 * Learn merges until `budget` of them made new symbols; the k-th merge creates id `firstNewId + k`.
 * `words` are modified in place into their merged form. Returns the merged pairs in order.
 */
export function learnMerges(words: number[][], counts: readonly number[], firstNewId: number, budget: number, opts: LearnOptions = {}): [number, number][] {
  const minFrequency = opts.minFrequency ?? 1;
  const pairCounts = new Map<number, number>();
  const where = new Map<number, Set<number>>(); // may list words that lost the pair since: checked on use

  const changed = new Set<number>();
  const change = (w: number, key: number, sign: number) => {
    const c = (pairCounts.get(key) ?? 0) + sign * counts[w];
    if (c === 0) pairCounts.delete(key);
    else pairCounts.set(key, c);
    changed.add(key);
    if (sign > 0) {
      let set = where.get(key);
      if (!set) where.set(key, (set = new Set()));
      set.add(w);
    }
  };
  // Heap entries go stale when a count changes; the changed pairs get fresh entries after each merge.
  const heap = new PairHeap();
  const pushChanged = () => {
    for (const key of changed) {
      const c = pairCounts.get(key);
      if (c !== undefined) heap.push(c, key);
    }
    changed.clear();
  };
  for (let w = 0; w < words.length; w++) {
    const word = words[w];
    for (let i = 0; i + 1 < word.length; i++) change(w, word[i] * SHIFT + word[i + 1], 1);
  }
  pushChanged();

  const merges: [number, number][] = [];
  for (let k = 0; budget > 0; k++) {
    if (firstNewId + k >= SHIFT) throw new Error(`learnMerges: at most ${SHIFT} symbols are supported`);
    let bestKey = -1;
    let bestCount = 0;
    while (heap.size > 0) {
      const [c, key] = heap.pop();
      if (pairCounts.get(key) === c) {
        [bestKey, bestCount] = [key, c];
        break;
      }
    }
    if (bestKey < 0 || bestCount < minFrequency) break;
    const first = Math.floor(bestKey / SHIFT);
    const second = bestKey - first * SHIFT;
    const id = firstNewId + k;
    for (const w of where.get(bestKey) ?? []) {
      const merged = mergeWord(words[w], first, second, id, (x, y, sign) => {
        const key = x * SHIFT + y;
        if (key !== bestKey) change(w, key, sign); // (first, second) itself is gone everywhere: dropped below
      });
      if (merged) words[w] = merged;
    }
    pairCounts.delete(bestKey);
    where.delete(bestKey);
    pushChanged();
    merges.push([first, second]);
    if (opts.onMerge?.(first, second, id) !== false) budget--;
  }
  return merges;
}

/**
 * Merge every (a, b) of a word, left to right, reporting the pairs that disappear (-1) and appear
 * (+1) around each merge: only the neighbours change, which is what makes a merge cheap.
 * Returns null when the word has no (a, b).
 */
function mergeWord(word: readonly number[], a: number, b: number, id: number, report: (x: number, y: number, sign: number) => void): number[] | null {
  let out: number[] | null = null;
  for (let i = 0; i < word.length; i++) {
    if (i + 1 < word.length && word[i] === a && word[i + 1] === b) {
      out ??= word.slice(0, i);
      if (out.length > 0) {
        const left = out[out.length - 1]; // may be the id merged just before: 'a b a b' → X X
        report(left, a, -1);
        report(left, id, 1);
      }
      if (i + 2 < word.length) {
        report(b, word[i + 2], -1);
        report(id, word[i + 2], 1);
      }
      out.push(id);
      i++;
    } else out?.push(word[i]);
  }
  return out;
}

/** A binary max-heap of (count, key): the highest count first, then the smallest key (BPE's encoder
 *  uses it as a min-heap of (rank, position) by pushing -rank). */
export class PairHeap {
  private counts: number[] = [];
  private keys: number[] = [];
  get size(): number {
    return this.counts.length;
  }
  private before(i: number, j: number): boolean {
    return this.counts[i] > this.counts[j] || (this.counts[i] === this.counts[j] && this.keys[i] < this.keys[j]);
  }
  private swap(i: number, j: number): void {
    [this.counts[i], this.counts[j]] = [this.counts[j], this.counts[i]];
    [this.keys[i], this.keys[j]] = [this.keys[j], this.keys[i]];
  }
  push(count: number, key: number): void {
    this.counts.push(count);
    this.keys.push(key);
    for (let i = this.counts.length - 1; i > 0; ) {
      const parent = (i - 1) >> 1;
      if (!this.before(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }
  pop(): [number, number] {
    const top: [number, number] = [this.counts[0], this.keys[0]];
    const last = this.counts.length - 1;
    this.swap(0, last);
    this.counts.pop();
    this.keys.pop();
    for (let i = 0; ; ) {
      const l = 2 * i + 1;
      const r = l + 1;
      let best = i;
      if (l < last && this.before(l, best)) best = l;
      if (r < last && this.before(r, best)) best = r;
      if (best === i) break;
      this.swap(i, best);
      i = best;
    }
    return top;
  }
}
