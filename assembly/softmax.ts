// Row softmax, forward and backward, four lanes at a time. Pointers are byte offsets into the
// module's memory; rows are contiguous, `cols` floats each. A row of 1024 floats is 4 KB, so the
// three passes over a row (max, exp+sum, scale) all hit L1 after the first.
import { expSubSum } from './exp';
import { hsum, madd } from './simd';

/** out_ij = exp(x_ij − max_j x_ij) / Σ_j exp(x_ij − max_j x_ij). `out` may equal `x`. */
export function softmaxRows(x: usize, out: usize, rows: i32, cols: i32): void {
  const vecEnd = cols & ~3; // the columns covered by whole 4-lane vectors
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = out + <usize>r * rowBytes;
    // Pass 1: row max. pmax(m, v) = m < v ? v : m ignores NaN in v; a NaN still poisons the sum below.
    // Four accumulators: pmax has a 3-cycle latency, one chain would wait on itself.
    let m0 = f32x4.splat(-Infinity), m1 = m0, m2 = m0, m3 = m0;
    let j = 0;
    for (; j + 16 <= vecEnd; j += 16) {
      const p = xr + (<usize>j << 2);
      m0 = f32x4.pmax(m0, v128.load(p));
      m1 = f32x4.pmax(m1, v128.load(p, 16));
      m2 = f32x4.pmax(m2, v128.load(p, 32));
      m3 = f32x4.pmax(m3, v128.load(p, 48));
    }
    for (; j < vecEnd; j += 4) m0 = f32x4.pmax(m0, v128.load(xr + (<usize>j << 2)));
    const mv = f32x4.pmax(f32x4.pmax(m0, m1), f32x4.pmax(m2, m3));
    let rowMax = max<f32>(max<f32>(f32x4.extract_lane(mv, 0), f32x4.extract_lane(mv, 1)), max<f32>(f32x4.extract_lane(mv, 2), f32x4.extract_lane(mv, 3)));
    for (; j < cols; j++) {
      const v = load<f32>(xr + (<usize>j << 2));
      if (v > rowMax) rowMax = v;
    }
    if (rowMax == -Infinity) rowMax = 0; // a fully masked row: all exps are 0, 0/0 → NaN as in PyTorch
    // Pass 2: e_j = exp(x_j − max), stored, and their sum.
    const sum = expSubSum(xr, yr, cols, rowMax);
    // Pass 3: scale by 1/sum.
    const inv = <f32>1 / sum;
    const invv = f32x4.splat(inv);
    j = 0;
    for (; j + 16 <= vecEnd; j += 16) { // unrolled: the loop overhead would cost as much as the work
      const p = yr + (<usize>j << 2);
      v128.store(p, f32x4.mul(v128.load(p), invv));
      v128.store(p, f32x4.mul(v128.load(p, 16), invv), 16);
      v128.store(p, f32x4.mul(v128.load(p, 32), invv), 32);
      v128.store(p, f32x4.mul(v128.load(p, 48), invv), 48);
    }
    for (; j < vecEnd; j += 4) {
      const p = <usize>j << 2;
      v128.store(yr + p, f32x4.mul(v128.load(yr + p), invv));
    }
    for (; j < cols; j++) store<f32>(yr + (<usize>j << 2), load<f32>(yr + (<usize>j << 2)) * inv);
  }
}

/** dx_ij = y_ij · (dy_ij − Σ_k dy_ik y_ik), y the softmax output. `dx` may equal `dy` or `y`. */
export function softmaxBackwardRows(y: usize, dy: usize, dx: usize, rows: i32, cols: i32): void {
  const vecEnd = cols & ~3;
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const yr = y + off;
    const gr = dy + off;
    const dr = dx + off;
    // Pass 1: dot = Σ dy·y: float32 vectors over blocks of 256 values, float64 across blocks
    // (as in expSubSum), two vector sums so consecutive adds do not wait on each other.
    let total: f64 = 0;
    let j = 0;
    while (j < vecEnd) {
      const blockEnd = min(vecEnd, j + 256);
      let d0 = f32x4.splat(0);
      let d1 = f32x4.splat(0);
      for (; j + 8 <= blockEnd; j += 8) {
        const p = <usize>j << 2;
        d0 = madd(v128.load(gr + p), v128.load(yr + p), d0);
        d1 = madd(v128.load(gr + p, 16), v128.load(yr + p, 16), d1);
      }
      for (; j < blockEnd; j += 4) {
        const p = <usize>j << 2;
        d0 = madd(v128.load(gr + p), v128.load(yr + p), d0);
      }
      total += <f64>hsum(f32x4.add(d0, d1));
    }
    for (; j < cols; j++) total += <f64>(load<f32>(gr + (<usize>j << 2)) * load<f32>(yr + (<usize>j << 2)));
    const dot = <f32>total;
    // Pass 2: dx = y · (dy − dot)
    const dotv = f32x4.splat(dot);
    j = 0;
    for (; j < vecEnd; j += 4) {
      const p = <usize>j << 2;
      v128.store(dr + p, f32x4.mul(v128.load(yr + p), f32x4.sub(v128.load(gr + p), dotv)));
    }
    for (; j < cols; j++) {
      const p = <usize>j << 2;
      store<f32>(dr + p, load<f32>(yr + p) * (load<f32>(gr + p) - dot));
    }
  }
}

/** out_i = exp(x_i), exported so the tests can check the polynomial's accuracy directly. */
export function expArray(x: usize, out: usize, len: i32): void {
  expSubSum(x, out, len, 0);
}
