// Symmetric int8 quantization, one scale per output channel (D28: model compression).
// A weight W [out, in] (a Linear's, or an Embedding table's, one row per token) becomes
//   scale_o = max_i |W_oi| / 127,   q_oi = round(W_oi / scale_o) ∈ [-127, 127],
// and is read back as W_oi ≈ q_oi · scale_o, off by at most scale_o / 2 per entry. A row's own
// scale keeps a row of small weights from losing its precision to another row's large ones.
// -128 is never used and halves round away from zero, so q(−W) = −q(W) and q = 0 is exactly 0.

/** The int8 codes (row-major [rows, cols]) and one float32 scale per row. */
export interface Int8Rows {
  q: Int8Array;
  scale: Float32Array;
  rows: number;
  cols: number;
}

/** Quantize a row-major [rows, cols] matrix row by row. A row of zeros gets scale 0 and codes 0. */
export function quantizeRows(w: ArrayLike<number>, rows: number, cols: number): Int8Rows {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 0 || w.length !== rows * cols) {
    throw new Error(`quantizeRows: ${w.length} values do not make a [${rows}, ${cols}] matrix`);
  }
  const q = new Int8Array(rows * cols);
  const scale = new Float32Array(rows);
  for (let o = 0; o < rows; o++) {
    const start = o * cols;
    let max = 0;
    for (let i = start; i < start + cols; i++) {
      const a = Math.abs(w[i]);
      if (!(a <= Number.MAX_VALUE)) throw new Error(`quantizeRows: row ${o} holds ${w[i]}; only finite weights can be quantized`);
      if (a > max) max = a;
    }
    scale[o] = max / 127;
    if (max === 0) continue;
    const s = scale[o]; // the float32 value that is stored, so that q · s is what loading computes
    for (let i = start; i < start + cols; i++) {
      const x = w[i] / s;
      q[i] = Math.min(127, Math.round(Math.abs(x))) * Math.sign(x); // half away from zero: q(−w) = −q(w)
    }
  }
  return { q, scale, rows, cols };
}

/** W ≈ q · scale, row by row, as float32. */
export function dequantizeRows({ q, scale, rows, cols }: Int8Rows): Float32Array {
  if (q.length !== rows * cols || scale.length !== rows) throw new Error(`dequantizeRows: ${q.length} codes and ${scale.length} scales do not make a [${rows}, ${cols}] matrix`);
  const out = new Float32Array(rows * cols);
  for (let o = 0; o < rows; o++) {
    const s = scale[o];
    for (let i = o * cols; i < (o + 1) * cols; i++) out[i] = q[i] * s;
  }
  return out;
}

/** How far the int8 copy is from the original: the largest entry error and the error's RMS over the weight's RMS. */
export function quantizationError(w: ArrayLike<number>, dq: ArrayLike<number>): { maxAbs: number; relativeRms: number } {
  let maxAbs = 0, err2 = 0, w2 = 0;
  for (let i = 0; i < w.length; i++) {
    const e = Math.abs(w[i] - dq[i]);
    if (e > maxAbs) maxAbs = e;
    err2 += e * e;
    w2 += w[i] * w[i];
  }
  return { maxAbs, relativeRms: w2 > 0 ? Math.sqrt(err2 / w2) : 0 };
}
