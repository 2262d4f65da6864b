// The tsgrad playground: tsgrad itself, bundled for the browser (scripts/playground.ts), trains a
// small MLP on a 2-D problem while the page draws its decision boundary and loss curve, and
// replays one backward pass op by op. Matrix products run on gpu.js when the browser has WebGL,
// else on the plain TypeScript kernels; the page says which ran. window.__playground exposes
// the state for the browser test (test/deploy/playground.test.ts).
import { Tensor } from '../src/tensor/tensor.js';
import { manualSeed } from '../src/tensor/random.js';
import { setBackend, backendInfo, type BackendChoice } from '../src/tensor/kernels/index.js';
import { noGrad } from '../src/autograd/index.js';
import * as F from '../src/nn/functional.js';
import { Adam } from '../src/optim/adam.js';
import { MLP, type Activation } from '../src/models/mlp.js';
import { makeDataset, DATASETS, type DatasetName, type Points } from './data.js';
import { buildBackprop, type Backprop } from './backprop.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

// ---------------------------------------------------------------- kernels

let renderer: string | undefined;

/** gpu.js on WebGL when this browser has it, else the js kernels (gpu.js's cpu mode would only be slower). */
function chooseBackend(): void {
  const target = backendInfo().gpujsTarget; // loads gpu.js, which probes WebGL2, then WebGL
  setBackend(target === 'webgl2' || target === 'webgl' ? 'gpujs' : 'js');
}

/** The WebGL renderer's name where the browser tells it (e.g. a GPU's, or SwiftShader: software). */
function webglRenderer(): string | null {
  const gl = document.createElement('canvas').getContext('webgl2') ?? document.createElement('canvas').getContext('webgl');
  if (!gl) return null;
  const info = gl.getExtension('WEBGL_debug_renderer_info');
  return String(gl.getParameter(info ? info.UNMASKED_RENDERER_WEBGL : gl.RENDERER));
}

function describeBackend(): string {
  const info = backendInfo();
  const target = info.gpujsTarget ?? 'unavailable';
  if (info.chosen === 'gpujs') return `gpujs: gpu.js kernels on ${target}${target.startsWith('webgl') ? ` (renderer: ${renderer ??= webglRenderer() ?? 'unknown'})` : ''}`;
  const gl = target.startsWith('webgl') ? `WebGL is available (gpu.js: ${target}); choose gpujs to use it` : `no WebGL here (gpu.js would run in its ${target} mode)`;
  return `${info.chosen}: ${info.chosen === 'auto' ? 'per call' : 'plain TypeScript loops'} · ${gl}`;
}

// ---------------------------------------------------------------- training

interface Run {
  data: Points;
  x: Tensor;
  y: Tensor;
  model: MLP;
  optimizer: Adam;
  losses: number[];
  accuracy: number;
  step: number;
  msPerStep: number;
}

const VIEW = 1.6; // the canvas shows [-VIEW, VIEW]²
const GRID = 60; // decision boundary resolution

function settings() {
  return {
    dataset: $<HTMLSelectElement>('dataset').value as DatasetName,
    hidden: $<HTMLInputElement>('hidden').value.split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0 && n <= 256),
    activation: $<HTMLSelectElement>('activation').value as Activation,
    lr: Number($<HTMLInputElement>('lr').value) || 0.03,
    noise: Number($<HTMLInputElement>('noise').value) || 0,
    seed: Number($<HTMLInputElement>('seed').value) || 0,
  };
}

function newRun(): Run {
  const s = settings();
  manualSeed(s.seed);
  const data = makeDataset(s.dataset, 240, s.noise);
  const model = new MLP([2, ...(s.hidden.length ? s.hidden : [16, 16]), 2], { activation: s.activation });
  return {
    data,
    x: new Tensor(data.xy, [data.n, 2], 'float32'),
    y: new Tensor(data.labels, [data.n], 'int32'),
    model,
    optimizer: new Adam(model.parameters(), { lr: s.lr }),
    losses: [],
    accuracy: 0,
    step: 0,
    msPerStep: 0,
  };
}

/** One full-batch Adam step; returns the loss before it. */
function trainStep(run: Run): number {
  const t0 = performance.now();
  const { logits, loss } = run.model.forward(run.x, run.y);
  run.optimizer.zeroGrad();
  loss!.backward();
  run.optimizer.step();
  const value = loss!.item();
  const pred = logits.argmax(1).data;
  let right = 0;
  for (let i = 0; i < run.data.n; i++) if (pred[i] === run.data.labels[i]) right++;
  run.accuracy = right / run.data.n;
  run.losses.push(value);
  run.step++;
  run.msPerStep = 0.9 * run.msPerStep + 0.1 * (performance.now() - t0) || performance.now() - t0;
  return value;
}

// ---------------------------------------------------------------- drawing

const COLORS = [[66, 133, 244], [244, 140, 40]];

function drawBoundary(run: Run, canvas: HTMLCanvasElement): void {
  const grid = new Float32Array(GRID * GRID * 2);
  for (let r = 0; r < GRID; r++) {
    for (let c = 0; c < GRID; c++) {
      grid[2 * (r * GRID + c)] = -VIEW + (2 * VIEW * (c + 0.5)) / GRID;
      grid[2 * (r * GRID + c) + 1] = VIEW - (2 * VIEW * (r + 0.5)) / GRID;
    }
  }
  const probs = noGrad(() => F.softmax(run.model.forward(new Tensor(grid, [GRID * GRID, 2], 'float32')).logits, 1)).data;
  const small = document.createElement('canvas');
  small.width = small.height = GRID;
  const sctx = small.getContext('2d')!;
  const img = sctx.createImageData(GRID, GRID);
  for (let i = 0; i < GRID * GRID; i++) {
    const p = probs[2 * i + 1];
    for (let k = 0; k < 3; k++) img.data[4 * i + k] = 255 - (255 - (p * COLORS[1][k] + (1 - p) * COLORS[0][k])) * 0.45;
    img.data[4 * i + 3] = 255;
  }
  sctx.putImageData(img, 0, 0);
  const ctx = canvas.getContext('2d')!;
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(small, 0, 0, canvas.width, canvas.height);
  const px = (v: number) => ((v + VIEW) / (2 * VIEW)) * canvas.width;
  const py = (v: number) => ((VIEW - v) / (2 * VIEW)) * canvas.height;
  for (let i = 0; i < run.data.n; i++) {
    const [r, g, b] = COLORS[run.data.labels[i]];
    ctx.beginPath();
    ctx.arc(px(run.data.xy[2 * i]), py(run.data.xy[2 * i + 1]), 4, 0, 2 * Math.PI);
    ctx.fillStyle = `rgb(${r},${g},${b})`;
    ctx.fill();
    ctx.strokeStyle = '#fff';
    ctx.lineWidth = 1;
    ctx.stroke();
  }
}

function drawLoss(losses: number[], canvas: HTMLCanvasElement): void {
  const ctx = canvas.getContext('2d')!;
  const { width: w, height: h } = canvas;
  const pad = { l: 44, r: 10, t: 10, b: 22 };
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  ctx.strokeStyle = '#999';
  ctx.strokeRect(pad.l, pad.t, w - pad.l - pad.r, h - pad.t - pad.b);
  ctx.fillStyle = '#444';
  ctx.font = '11px monospace';
  if (losses.length === 0) return;
  const max = Math.max(...losses), n = Math.max(losses.length - 1, 1);
  ctx.fillText(max.toFixed(2), 4, pad.t + 8);
  ctx.fillText('0', 4, h - pad.b);
  ctx.fillText(`step ${losses.length}`, w - pad.r - 70, h - 6);
  ctx.beginPath();
  losses.forEach((v, i) => {
    const x = pad.l + ((w - pad.l - pad.r) * i) / n, y = h - pad.b - ((h - pad.t - pad.b) * v) / max;
    if (i === 0) ctx.moveTo(x, y);
    else ctx.lineTo(x, y);
  });
  ctx.strokeStyle = '#d0452f';
  ctx.lineWidth = 1.5;
  ctx.stroke();
}

// ---------------------------------------------------------------- page

interface PlaygroundState {
  ready: boolean;
  backend: ReturnType<typeof backendInfo> | null;
  backendText: string;
  losses: number[];
  accuracy: number;
  step: number;
  /** Recent milliseconds per training step (moving average). */
  msPerStep: number;
  running: boolean;
  backprop: { frames: number; at: number; matchesEngine: boolean } | null;
  /** Train n steps at once (for the test), then redraw. */
  train(n: number): number;
  errors: string[];
}

declare global {
  interface Window {
    __playground: PlaygroundState;
  }
}

function main(): void {
  $<HTMLSelectElement>('dataset').innerHTML = DATASETS.map((d) => `<option value="${d}">${d}</option>`).join('');
  chooseBackend();
  $<HTMLSelectElement>('backend').value = backendInfo().chosen;

  let run = newRun();
  let running = true;
  const boundary = $<HTMLCanvasElement>('boundary'), lossCanvas = $<HTMLCanvasElement>('loss');

  const state: PlaygroundState = {
    ready: false, backend: null, backendText: '', losses: run.losses, accuracy: 0, step: 0, msPerStep: 0, running, backprop: null, errors: [],
    train(n: number) {
      for (let i = 0; i < n; i++) trainStep(run);
      redraw();
      return run.losses.at(-1) ?? NaN;
    },
  };
  window.__playground = state;

  function redraw(): void {
    drawBoundary(run, boundary);
    drawLoss(run.losses, lossCanvas);
    const last = run.losses.at(-1);
    $('stats').textContent = `step ${run.step} · loss ${last === undefined ? '–' : last.toFixed(4)} · accuracy ${(run.accuracy * 100).toFixed(1)}% · ${run.msPerStep.toFixed(1)} ms/step`;
    state.backend = backendInfo();
    state.backendText = describeBackend();
    $('backend-info').textContent = state.backendText;
    Object.assign(state, { losses: run.losses, accuracy: run.accuracy, step: run.step, msPerStep: run.msPerStep, running });
  }

  function frame(): void {
    if (running && run.step < 5000) {
      const start = performance.now();
      do trainStep(run);
      while (performance.now() - start < 12);
      redraw(); // only when something changed: on WebGL the boundary's forward pass is not free
    }
    requestAnimationFrame(frame);
  }

  $('toggle').addEventListener('click', () => {
    running = !running;
    state.running = running;
    $('toggle').textContent = running ? 'Pause' : 'Train';
  });
  $('step').addEventListener('click', () => state.train(1));
  $('reset').addEventListener('click', () => {
    run = newRun();
    redraw();
  });
  for (const id of ['dataset', 'hidden', 'activation', 'lr', 'noise', 'seed']) $(id).addEventListener('change', () => $('reset').click());
  $('backend').addEventListener('change', () => {
    try {
      setBackend($<HTMLSelectElement>('backend').value as BackendChoice);
    } catch (e) {
      $('backend-info').textContent = (e as Error).message;
    }
    redraw();
  });

  setupBackprop(state);
  redraw();
  state.ready = true;
  requestAnimationFrame(frame);
}

function setupBackprop(state: PlaygroundState): void {
  const bp: Backprop = buildBackprop();
  let at = 0;
  const show = () => {
    const f = bp.frames[at];
    $('bp-graph').innerHTML = f.svg;
    const box = $('bp-graph');
    const marked = f.highlight.map((id) => box.querySelector(`[id="${id}"]`)).filter((el): el is Element => el !== null);
    for (const el of marked) el.classList.add('current');
    // scroll the wide picture so that the op at work is in the middle
    if (marked.length > 0) {
      const left = Math.min(...marked.map((el) => el.getBoundingClientRect().left)), right = Math.max(...marked.map((el) => el.getBoundingClientRect().right));
      box.scrollLeft += (left + right) / 2 - (box.getBoundingClientRect().left + box.clientWidth / 2);
    }
    $('bp-caption').textContent = `${at + 1}/${bp.frames.length} · ${f.caption}`;
    $('bp-rule').textContent = f.rule;
    state.backprop = { frames: bp.frames.length, at, matchesEngine: bp.matchesEngine };
  };
  $('bp-prev').addEventListener('click', () => {
    at = Math.max(0, at - 1);
    show();
  });
  $('bp-next').addEventListener('click', () => {
    at = Math.min(bp.frames.length - 1, at + 1);
    show();
  });
  show();
}

window.addEventListener('error', (e) => window.__playground?.errors.push(String(e.message)));
try {
  main();
} catch (e) {
  document.body.insertAdjacentHTML('afterbegin', `<pre class="fatal">${String((e as Error)?.stack ?? e)}</pre>`);
  throw e;
}
