// Recurrent layers (D21's RNN: memory over a sequence) with PyTorch's parameter names and gate
// layouts: weight_ih_l{k} [G·H, I], weight_hh_l{k} [G·H, H], bias_ih_l{k}, bias_hh_l{k} [G·H], rows
// in gate order (LSTM: i, f, g, o; GRU: r, z, n), all initialised U(−1/√H, 1/√H). Input [T, B, I]
// ([B, T, I] with batchFirst, [T, I] unbatched); hidden states are [numLayers, B, H].
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { stack } from '../autograd/index.js';
import { zeros } from '../tensor/creation.js';
import { Module, Parameter } from './module.js';
import * as init from './init.js';
import { empty } from './helpers.js';
import { dropout, linear } from './functional.js';

export interface RNNOptions {
  numLayers?: number;
  bias?: boolean;
  batchFirst?: boolean;
  /** Dropout on each layer's output except the last, in training. */
  dropout?: number;
}

interface LayerWeights {
  wIh: Parameter;
  wHh: Parameter;
  bIh: Parameter | null;
  bHh: Parameter | null;
}

abstract class RNNBase extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bias: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  /** Rows per gate block: 1 (RNN), 4 (LSTM), 3 (GRU). */
  readonly gates: number;

  /** One step of a layer: this step's input projection, the state ([h] or [h, c]), the weights → the new state. */
  protected abstract cell(gi: Tensor, state: Tensor[], w: LayerWeights): Tensor[];

  constructor(inputSize: number, hiddenSize: number, gates: number, { numLayers = 1, bias = true, batchFirst = false, dropout = 0 }: RNNOptions) {
    super();
    if (!Number.isInteger(numLayers) || numLayers < 1) throw new Error(`${new.target.name}: numLayers must be a positive integer (got ${numLayers})`);
    this.inputSize = inputSize;
    this.hiddenSize = hiddenSize;
    this.numLayers = numLayers;
    this.bias = bias;
    this.batchFirst = batchFirst;
    this.dropout = dropout;
    this.gates = gates;
    const bound = hiddenSize > 0 ? 1 / Math.sqrt(hiddenSize) : 0;
    const param = (shape: number[]) => new Parameter(init.uniform(empty(shape), -bound, bound));
    for (let k = 0; k < numLayers; k++) {
      const inSize = k === 0 ? inputSize : hiddenSize;
      this.registerParameter(`weight_ih_l${k}`, param([gates * hiddenSize, inSize]));
      this.registerParameter(`weight_hh_l${k}`, param([gates * hiddenSize, hiddenSize]));
      if (bias) {
        this.registerParameter(`bias_ih_l${k}`, param([gates * hiddenSize]));
        this.registerParameter(`bias_hh_l${k}`, param([gates * hiddenSize]));
      }
    }
  }

  /** Layer k's weights. */
  layerWeights(k: number): LayerWeights {
    const self = this as unknown as Record<string, Parameter | undefined>;
    return { wIh: self[`weight_ih_l${k}`]!, wHh: self[`weight_hh_l${k}`]!, bIh: self[`bias_ih_l${k}`] ?? null, bHh: self[`bias_hh_l${k}`] ?? null };
  }

  /** Run every layer over the sequence. states: per state kind, [numLayers, B, H] (zeros when absent). */
  protected run(x: Tensor, states: (Tensor | null | undefined)[]): [Tensor, Tensor[]] {
    const name = this.constructor.name;
    const unbatched = x.ndim === 2;
    if (x.ndim !== 2 && x.ndim !== 3) throw new Error(`${name}: expected input [T, B, ${this.inputSize}] (or [B, T, …] with batchFirst, or [T, ${this.inputSize}]), got shape ${fmt(x.shape)}`);
    if (unbatched) x = x.unsqueeze(1);
    else if (this.batchFirst) x = x.transpose(0, 1); // (T, B, I)
    const [T, B, I] = x.shape, H = this.hiddenSize, L = this.numLayers;
    if (I !== this.inputSize) throw new Error(`${name}: expected input size ${this.inputSize}, got ${I} (input shape ${fmt(x.shape)})`);
    const initial = states.map((s) => {
      if (!s) return zeros([L, B, H], { dtype: x.dtype });
      const t = unbatched ? s.unsqueeze(1) : s;
      if (t.ndim !== 3 || t.shape[0] !== L || t.shape[1] !== B || t.shape[2] !== H) throw new Error(`${name}: expected hidden state [${L}, ${B}, ${H}], got shape ${fmt(s.shape)}`);
      return t;
    });
    const finals: Tensor[][] = initial.map(() => []);
    let layerInput = x;
    for (let k = 0; k < L; k++) {
      const w = this.layerWeights(k);
      const gi = linear(layerInput, w.wIh, w.bIh); // (T, B, G·H): every step's input projection at once
      let state = initial.map((s) => s.slice(0, k, k + 1).reshape(B, H));
      const outputs: Tensor[] = [];
      for (let t = 0; t < T; t++) {
        state = this.cell(gi.slice(0, t, t + 1).reshape(B, this.gates * H), state, w);
        outputs.push(state[0]);
      }
      state.forEach((s, i) => finals[i].push(s));
      layerInput = stack(outputs, 0); // (T, B, H)
      if (k < L - 1 && this.dropout > 0) layerInput = dropout(layerInput, this.dropout, this.training);
    }
    let output = layerInput;
    let hidden = finals.map((f) => stack(f, 0)); // (L, B, H)
    if (unbatched) {
      output = output.squeeze(1);
      hidden = hidden.map((h) => h.squeeze(1));
    } else if (this.batchFirst) {
      output = output.transpose(0, 1);
    }
    return [output, hidden];
  }

  override extraRepr(): string {
    const extra = [`${this.inputSize}`, `${this.hiddenSize}`];
    if (this.numLayers !== 1) extra.push(`num_layers=${this.numLayers}`);
    if (!this.bias) extra.push('bias=false');
    if (this.batchFirst) extra.push('batch_first=true');
    if (this.dropout) extra.push(`dropout=${this.dropout}`);
    return extra.join(', ');
  }
}

export interface ElmanRNNOptions extends RNNOptions {
  nonlinearity?: 'tanh' | 'relu';
}

/** Elman RNN: h' = tanh(W_ih·x + b_ih + W_hh·h + b_hh). forward(x, h0?) → [output, hN]. */
export class RNN extends RNNBase {
  readonly nonlinearity: 'tanh' | 'relu';

  constructor(inputSize: number, hiddenSize: number, opts: ElmanRNNOptions = {}) {
    super(inputSize, hiddenSize, 1, opts);
    const { nonlinearity = 'tanh' } = opts;
    if (nonlinearity !== 'tanh' && nonlinearity !== 'relu') throw new Error(`RNN: nonlinearity must be 'tanh' or 'relu' (got '${nonlinearity}')`);
    this.nonlinearity = nonlinearity;
  }

  protected cell(gi: Tensor, [h]: Tensor[], w: LayerWeights): Tensor[] {
    const pre = gi.add(linear(h, w.wHh, w.bHh));
    return [this.nonlinearity === 'tanh' ? pre.tanh() : pre.relu()];
  }

  override forward(x: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const [output, [hN]] = this.run(x, [h0]);
    return [output, hN];
  }
}

/**
 * LSTM, gates [i, f, g, o] = W_ih·x + b_ih + W_hh·h + b_hh split in four:
 * c' = σ(f)⊙c + σ(i)⊙tanh(g),  h' = σ(o)⊙tanh(c'). forward(x, [h0, c0]?) → [output, [hN, cN]].
 */
export class LSTM extends RNNBase {

  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 4, opts);
  }

  protected cell(gi: Tensor, [h, c]: Tensor[], w: LayerWeights): Tensor[] {
    const [i, f, g, o] = gi.add(linear(h, w.wHh, w.bHh)).split(this.hiddenSize, -1);
    const c2 = f.sigmoid().mul(c).add(i.sigmoid().mul(g.tanh()));
    return [o.sigmoid().mul(c2.tanh()), c2];
  }

  override forward(x: Tensor, hx?: [Tensor, Tensor] | null): [Tensor, [Tensor, Tensor]] {
    const [output, [hN, cN]] = this.run(x, hx ?? [null, null]);
    return [output, [hN, cN]];
  }
}

/**
 * GRU: r = σ(W_ir·x + b_ir + W_hr·h + b_hr), z = σ(W_iz·x + b_iz + W_hz·h + b_hz),
 * n = tanh(W_in·x + b_in + r⊙(W_hn·h + b_hn)), h' = (1 − z)⊙n + z⊙h. forward(x, h0?) → [output, hN].
 */
export class GRU extends RNNBase {

  constructor(inputSize: number, hiddenSize: number, opts: RNNOptions = {}) {
    super(inputSize, hiddenSize, 3, opts);
  }

  protected cell(gi: Tensor, [h]: Tensor[], w: LayerWeights): Tensor[] {
    const [ir, iz, inn] = gi.split(this.hiddenSize, -1);
    const [hr, hz, hn] = linear(h, w.wHh, w.bHh).split(this.hiddenSize, -1);
    const r = ir.add(hr).sigmoid(), z = iz.add(hz).sigmoid();
    const n = inn.add(r.mul(hn)).tanh();
    return [n.add(z.mul(h.sub(n)))]; // (1 − z)·n + z·h
  }

  override forward(x: Tensor, h0?: Tensor | null): [Tensor, Tensor] {
    const [output, [hN]] = this.run(x, [h0]);
    return [output, hN];
  }
}
