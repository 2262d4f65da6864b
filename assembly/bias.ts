// The bias epilogue of a product: c[r, :] += bias for every row, four lanes at a time, on C while
// it is still in wasm memory (one pass there instead of one more over the result in JS).

/** c[r, j] += bias[j] for r < rows, j < cols; pointers are byte offsets. */
export function addRowBias(c: usize, bias: usize, rows: i32, cols: i32): void {
  const vecEnd = cols & ~3;
  const rowBytes = <usize>cols << 2;
  for (let r = 0; r < rows; r++) {
    const row = c + <usize>r * rowBytes;
    let j = 0;
    for (; j < vecEnd; j += 4) {
      const p = <usize>j << 2;
      v128.store(row + p, f32x4.add(v128.load(row + p), v128.load(bias + p)));
    }
    for (; j < cols; j++) {
      const p = <usize>j << 2;
      store<f32>(row + p, load<f32>(row + p) + load<f32>(bias + p));
    }
  }
}
