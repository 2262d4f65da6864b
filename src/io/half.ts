// 16-bit floats of checkpoints (F16, BF16) widened to float32, by hand from their bit layouts.

/**
 * IEEE half: 1 sign bit, 5 exponent bits (bias 15), 10 fraction bits.
 * normal: (1 + f/1024)·2^(e−15) = (1024 + f)·2^(e−25); subnormal (e = 0): f·2^−24; e = 31: ±inf or NaN.
 */
export function halfToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1024 + fraction) * 2 ** (exponent - 25);
}

const scratch = new Float32Array(1);
const scratchBits = new Uint32Array(scratch.buffer);

/** bfloat16 is the top half of a float32 (same sign and 8-bit exponent, 7 fraction bits). */
export function bfloat16ToFloat32(bits: number): number {
  scratchBits[0] = (bits & 0xffff) << 16;
  return scratch[0];
}
