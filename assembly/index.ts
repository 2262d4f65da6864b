// Entry point of the tsgrad wasm module: float32 kernels over an imported memory.
// All pointers are byte offsets into that memory; the JS side (src/tensor/kernels/wasm/) copies
// inputs in, calls these, and copies results out. Built by scripts/build-wasm.mjs.
export { gemm, packAFloats, packBFloats, edgeFloats, packedAFloats, packedBFloats, packAAll, packBAll, gemmPackedA, gemmPackedB } from './matmul';
export { gemvRows, gemvCols } from './gemv';
export { softmaxRows, softmaxBackwardRows, expArray } from './softmax';
export { attentionHead, attentionHeadBackward } from './attention';
export { addRowBias } from './bias';
export { layerNormRows, layerNormBackwardRows, crossEntropyRows, crossEntropyBackwardRows } from './rows';
export { sgdStep, sgdMomentumStep, adamStep, adamStepAt } from './optim';
export { unaryMap, unaryGradMap, binarySame, binaryScalar, binaryRows, binaryCols, reduceSum } from './maps';
export { im2col, col2im } from './conv';
export { maxPool2d, maxPool2dBackward } from './maxpool';
export { avgPool2d, avgPool2dBackward } from './avgpool';
export { stridedCopy, stridedScatter } from './layout';
export { gatherRows, scatterAddRows } from './gather';

/** First free byte after the module's static data: JS places its buffers from here on. */
export function heapBase(): usize {
  return __heap_base;
}

/** Zero n bytes at ptr (resident storage hands out zero-filled blocks: a bulk fill here beats a JS fill of a shared array 8×). */
export function zeroBytes(ptr: usize, n: usize): void {
  memory.fill(ptr, 0, n);
}
