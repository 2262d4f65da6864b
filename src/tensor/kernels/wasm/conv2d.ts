// conv2d and its gradient on the wasm module, without the columns ever leaving it: for each image
// and group, im2col into a per-thread scratch, then gemm against the weights (assembly/conv.ts,
// matmul.ts). Only x, the weights and y (dy, dx and dw backward) cross into and out of wasm
// memory: the columns are K = C/G·kH·kW times x's size, and copying them out and back in for a
// separate matmul cost about as much as the products on LeNet-5.
//
// Images go in chunks of at most CHUNK_FLOATS per array. The images of a chunk are cut in two
// halves by count alone: with the worker thread each half runs on its own thread, and the
// weight gradient of each half sums into its own accumulator, added at the end (first + second),
// so one thread and two give the same bits.
import type { Conv2dArgs, FloatArray } from '../types.js';
import * as js from '../js/conv.js';
import { convSizes } from '../js/conv.js';
import { geometry } from './conv.js';
import { layout, memoryF32, threadsRequested, wasmModule, type WasmModule } from './loader.js';
import { CALL_WORDS, THREAD_MIN_FLOPS, run, type KernelCall } from './threads.js';
import { runShared } from './jobs.js';

/** 4 MB of images per array per chunk (LeNet-5's batch of 32 fits in one). */
const CHUNK_FLOATS = 1 << 20;
/** Larger columns of one image and group (16 MB) run the js kernel rather than grow the memory further. */
const MAX_COL_FLOATS = 1 << 22;
const ADD = 0; // assembly/maps.ts's op code for +

export function conv2dWasm(args: Conv2dArgs, bias: FloatArray | null, y: FloatArray): void {
  conv2dOn(wasmModule(), args, bias, y);
}

export function conv2dBackwardWasm(args: Conv2dArgs, dy: FloatArray, dx: FloatArray | null, dw: FloatArray | null): void {
  conv2dBackwardOn(wasmModule(), args, dy, dx, dw);
}

const f32 = (...arrays: (FloatArray | null)[]): boolean => arrays.every((a) => a === null || a instanceof Float32Array);

/** Byte offsets of a thread's scratch: columns, their gradient, one image's dW, the gemm packing. */
interface Scratch { col: number; dcol: number; dwImage: number; packA: number; packB: number; edge: number }

/**
 * Where everything sits in wasm memory for a call that takes `images` images per chunk, or null
 * when it does not fit (the js kernel runs instead).
 */
function place(w: WasmModule, a: Conv2dArgs, images: number, backward: boolean) {
  const { C, O, K, L, P, G } = convSizes(a);
  const e = w.exports;
  const perThread = [K * L, backward ? K * L : 0, backward ? O * K : 0, e.packAFloats(), e.packBFloats(), e.edgeFloats()];
  const callsPerHalf = Math.ceil(images / 2) * (4 * G + 2);
  const { offsets, end } = layout(
    w.heapBase, O * K, O, images * C * P, images * O * L, backward ? images * C * P : 0,
    ...perThread, ...perThread, callsPerHalf * CALL_WORDS, backward ? O * K : 0, backward ? O * K : 0,
  );
  const mem = memoryF32(w, end);
  if (mem === null) return null;
  const [weight, bias, x, y, dx] = offsets;
  const scratch = (at: number): Scratch => {
    const [col, dcol, dwImage, packA, packB, edge] = offsets.slice(at, at + 6);
    return { col, dcol, dwImage, packA, packB, edge };
  };
  // each half's dW sum has a region of its own: binarySame rounds its length up to 4 lanes
  return { mem, weight, bias, x, y, dx, scratch: [scratch(5), scratch(11)], table: offsets[17], acc: [offsets[18], offsets[19]] };
}

/** Images per chunk, or 0 when one image's columns are too large for the module (js). */
function imagesPerChunk(a: Conv2dArgs): number {
  const { N, C, O, K, L, P } = convSizes(a);
  if (K * L > MAX_COL_FLOATS) return 0;
  return Math.max(1, Math.min(N, Math.floor(CHUNK_FLOATS / Math.max(C * P, O * L, 1))));
}

/** gemm's arguments for C[m, n] = op(A) · op(B) with row strides lda, ldb, ldc (floats), on scratch s. */
const gemm = (a: number, transA: boolean, lda: number, b: number, transB: boolean, ldb: number, c: number, ldc: number, m: number, n: number, k: number, s: Scratch): KernelCall =>
  ({ op: 'gemm', args: [a, transA ? 1 : 0, lda, b, transB ? 1 : 0, ldb, c, ldc, m, n, k, s.packA, s.packB, s.edge] });

/** Runs the calls of the chunk's two halves: on two threads when `threaded`, else one after the other here. */
function runHalves(w: WasmModule, threaded: boolean, halves: [KernelCall[], KernelCall[]], table: number): void {
  if (threaded) runShared(w, halves[0], halves[1], table);
  else for (const call of [...halves[0], ...halves[1]]) run(w, call);
}

/** Whether a call of these flops splits its images over the worker (chunks of one image cannot). */
const splits = (w: WasmModule, flops: number, images: number): boolean => w.shared && images >= 2 && threadsRequested() && flops >= THREAD_MIN_FLOPS;

/** conv2dWasm on a given module (the tests run both builds through this). */
export function conv2dOn(w: WasmModule | null, a: Conv2dArgs, bias: FloatArray | null, y: FloatArray): void {
  const per = imagesPerChunk(a);
  if (w === null || per === 0 || !f32(a.x, a.weight, bias, y)) return js.conv2d(a, bias, y);
  const { N, C, O, G, Og, Cg, K, L, P } = convSizes(a);
  if (N * O * L === 0) return;
  if (K === 0) return js.conv2d(a, bias, y); // no inputs per output: the bias alone
  const at = place(w, a, per, false);
  if (at === null) return js.conv2d(a, bias, y);
  const { mem } = at;
  const threaded = splits(w, 2 * N * O * K * L, per);
  const geo = geometry(a.window);
  mem.set(a.weight.subarray(0, O * K), at.weight >> 2);
  if (bias) mem.set(bias.subarray(0, O), at.bias >> 2);
  for (let n0 = 0; n0 < N; n0 += per) {
    const images = Math.min(per, N - n0);
    mem.set(a.x.subarray(n0 * C * P, (n0 + images) * C * P), at.x >> 2);
    const half = images >> 1;
    const halves: [KernelCall[], KernelCall[]] = [[], []];
    for (let i = 0; i < images; i++) {
      const t = i < half ? 0 : 1, s = at.scratch[t];
      const yImage = at.y + i * O * L * 4;
      for (let gi = 0; gi < G; gi++) {
        // Y[n, g] = W_g · col[n, g]
        halves[t].push({ op: 'im2col', args: [at.x + (i * C + gi * Cg) * P * 4, s.col, Cg, 0, a.window.kernelH * a.window.kernelW, ...geo] });
        halves[t].push(gemm(at.weight + gi * Og * K * 4, false, K, s.col, false, L, yImage + gi * Og * L * 4, L, Og, L, K, s));
      }
      if (bias) halves[t].push({ op: 'binaryCols', args: [ADD, yImage, at.bias, yImage, O, L] }); // y[o, :] += b[o]
    }
    runHalves(w, threaded, halves, at.table);
    y.set(mem.subarray(at.y >> 2, (at.y >> 2) + images * O * L), n0 * O * L);
  }
}

/** conv2dBackwardWasm on a given module. */
export function conv2dBackwardOn(w: WasmModule | null, a: Conv2dArgs, dy: FloatArray, dx: FloatArray | null, dw: FloatArray | null): void {
  const per = imagesPerChunk(a);
  if (w === null || per === 0 || !f32(a.x, a.weight, dy, dx, dw)) return js.conv2dBackward(a, dy, dx, dw);
  const { N, C, O, G, Og, Cg, K, L, P } = convSizes(a);
  if (N * O * L === 0 || K === 0 || (!dx && !dw)) return js.conv2dBackward(a, dy, dx, dw); // nothing to multiply: js's zeros
  const at = place(w, a, per, true);
  if (at === null) return js.conv2dBackward(a, dy, dx, dw);
  const { mem } = at;
  const threaded = splits(w, 2 * N * O * K * L * ((dx ? 1 : 0) + (dw ? 1 : 0)), per);
  const geo = geometry(a.window);
  const kk = a.window.kernelH * a.window.kernelW;
  mem.set(a.weight.subarray(0, O * K), at.weight >> 2);
  for (const sum of at.acc) mem.fill(0, sum >> 2, (sum >> 2) + O * K);
  for (let n0 = 0; n0 < N; n0 += per) {
    const images = Math.min(per, N - n0);
    if (dw) mem.set(a.x.subarray(n0 * C * P, (n0 + images) * C * P), at.x >> 2);
    mem.set(dy.subarray(n0 * O * L, (n0 + images) * O * L), at.y >> 2);
    if (dx) mem.fill(0, at.dx >> 2, (at.dx >> 2) + images * C * P); // col2im adds into it
    const half = images >> 1;
    const halves: [KernelCall[], KernelCall[]] = [[], []];
    for (let i = 0; i < images; i++) {
      const t = i < half ? 0 : 1, s = at.scratch[t], calls = halves[t];
      for (let gi = 0; gi < G; gi++) {
        const dyGroup = at.y + (i * O + gi * Og) * L * 4, wGroup = at.weight + gi * Og * K * 4;
        if (dw) {
          // dW_g(n) = dY[n, g] · col[n, g]ᵀ
          calls.push({ op: 'im2col', args: [at.x + (i * C + gi * Cg) * P * 4, s.col, Cg, 0, kk, ...geo] });
          calls.push(gemm(dyGroup, false, L, s.col, true, L, s.dwImage + gi * Og * K * 4, K, Og, K, L, s));
        }
        if (dx) {
          // dcol = W_gᵀ · dY[n, g], added back into the image's planes
          calls.push(gemm(wGroup, true, K, dyGroup, false, L, s.dcol, L, K, L, Og, s));
          calls.push({ op: 'col2im', args: [s.dcol, at.dx + (i * C + gi * Cg) * P * 4, Cg, 0, kk, ...geo] });
        }
      }
      if (dw) calls.push({ op: 'binarySame', args: [ADD, at.acc[t], s.dwImage, at.acc[t], O * K] }); // this half's Σ_n
    }
    runHalves(w, threaded, halves, at.table);
    if (dx) dx.set(mem.subarray(at.dx >> 2, (at.dx >> 2) + images * C * P), n0 * C * P);
  }
  if (dw) for (let j = 0, p = at.acc[0] >> 2, q = at.acc[1] >> 2; j < O * K; j++) dw[j] = mem[p + j] + mem[q + j];
}
