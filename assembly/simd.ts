// Small SIMD helpers shared by the kernels.
//
// The same sources are compiled twice (see scripts/build-wasm.mjs):
//  - tsgrad-simd.wasm     plain 128-bit SIMD: a·b + c is a multiply then an add (two roundings);
//  - tsgrad-relaxed.wasm  relaxed SIMD: a·b + c is one fused multiply-add on FMA hardware.
// `ASC_FEATURE_RELAXED_SIMD` is a compile-time constant, so each build keeps only one branch.

/** a·b + c on four float32 lanes. */
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    return f32x4.relaxed_madd(a, b, c);
  } else {
    return f32x4.add(f32x4.mul(a, b), c);
  }
}

/** Sum of the four lanes. */
// @ts-ignore: decorator
@inline export function hsum(v: v128): f32 {
  return (f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1)) + (f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3));
}
