// Feed-forward models as ONNX graphs: MLP, LeNet-5, and any nn.Sequential of the layers below, one
// ONNX node (or a few) per layer, in order. A layer with no ONNX counterpart here is an error that
// names it and where it sits.
import type { Tensor } from '../tensor/tensor.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/container.js';
import { Linear } from '../nn/linear.js';
import { Conv2d, MaxPool2d, AvgPool2d, Flatten } from '../nn/conv.js';
import { ReLU, Sigmoid, Tanh, GELU, Softmax } from '../nn/activation.js';
import { Dropout } from '../nn/dropout.js';
import { MLP } from '../models/mlp.js';
import { LeNet5 } from '../models/lenet.js';
import { GraphBuilder, int, ints, type Attr, type Dim } from './graph.js';
import { Params, gelu, linear } from './layers.js';

export const SEQUENTIAL_LAYERS = ['Linear', 'Conv2d', 'MaxPool2d', 'AvgPool2d', 'Flatten', 'ReLU', 'Sigmoid', 'Tanh', 'GELU', 'Softmax', 'Dropout', 'Sequential'];

const pair = (v: number | readonly number[]): [number, number] => (typeof v === 'number' ? [v, v] : [v[0], v[1]]);

/** ONNX pads are [top, left, bottom, right]; tsgrad's padding is symmetric [h, w]. */
const pads = (p: number | readonly number[]): Attr => { const [h, w] = pair(p); return ints([h, w, h, w]); };

function pooling(m: MaxPool2d | AvgPool2d): Record<string, Attr> {
  return {
    kernel_shape: ints(pair(m.kernelSize)), strides: ints(pair(m.stride)),
    pads: pads(m.opts.padding ?? 0), ceil_mode: int(m.opts.ceilMode ? 1 : 0),
  };
}

/** One layer applied to x; `path` is its stateDict prefix. */
function layer(b: GraphBuilder, p: Params, m: Module, path: string, x: string, where: string): string {
  const param = (name: string) => b.weight(`${path}.${name}`, p.get(`${path}.${name}`));
  if (m instanceof Sequential) {
    for (const [name, child] of m.namedChildren()) x = layer(b, p, child, path ? `${path}.${name}` : name, x, where);
    return x;
  }
  if (m instanceof Linear) return linear(b, x, p, path);
  if (m instanceof Conv2d) {
    const attrs: Record<string, Attr> = { kernel_shape: ints(m.kernelSize), strides: ints(m.stride), dilations: ints(m.dilation), group: int(m.groups) };
    if (typeof m.padding === 'string') {
      if (m.padding === 'same') {
        // PyTorch's 'same' puts the odd pixel after: pad = d·(k − 1), before = ⌊pad/2⌋
        const [ph, pw] = m.kernelSize.map((k, i) => m.dilation[i] * (k - 1));
        attrs.pads = ints([Math.floor(ph / 2), Math.floor(pw / 2), ph - Math.floor(ph / 2), pw - Math.floor(pw / 2)]);
      } else attrs.pads = ints([0, 0, 0, 0]);
    } else attrs.pads = pads(m.padding);
    const inputs = [x, param('weight')];
    if (m.bias) inputs.push(param('bias'));
    return b.node('Conv', inputs, attrs);
  }
  if (m instanceof MaxPool2d) {
    const attrs = pooling(m);
    if (m.opts.dilation !== undefined) attrs.dilations = ints(pair(m.opts.dilation));
    return b.node('MaxPool', [x], attrs);
  }
  if (m instanceof AvgPool2d) {
    return b.node('AveragePool', [x], { ...pooling(m), count_include_pad: int(m.opts.countIncludePad ?? true ? 1 : 0) });
  }
  if (m instanceof Flatten) {
    if (m.startDim !== 1 || m.endDim !== -1) throw new Error(`${where}: Flatten(${m.startDim}, ${m.endDim}) at '${path}' has no ONNX counterpart here (only Flatten(1, -1), ONNX's Flatten axis=1)`);
    return b.node('Flatten', [x], { axis: int(1) });
  }
  if (m instanceof ReLU) return b.node('Relu', [x]);
  if (m instanceof Sigmoid) return b.node('Sigmoid', [x]);
  if (m instanceof Tanh) return b.node('Tanh', [x]);
  if (m instanceof GELU) return gelu(b, x, m.approximate);
  if (m instanceof Softmax) return b.node('Softmax', [x], { axis: int(m.dim) });
  if (m instanceof Dropout) return x; // the identity at inference
  throw new Error(`${where}: module ${m.constructor.name} at '${path || '(root)'}' has no ONNX counterpart (exportable layers: ${SEQUENTIAL_LAYERS.join(', ')})`);
}

/** MLP, LeNet5 or a Sequential: `input` [batch, …example's other dims] → `logits` [batch, …outShape's other dims]. */
export function sequentialGraph(model: MLP | LeNet5 | Sequential, example: Tensor, outShape: readonly number[]): GraphBuilder {
  const where = `onnx.exportModel(${model.constructor.name})`;
  const b = new GraphBuilder(`tsgrad-${model.constructor.name}`);
  const p = new Params(model.stateDict(), where);
  const dims: Dim[] = ['batch', ...example.shape.slice(1)];
  let x = b.input('input', 'FLOAT', dims);
  if (model instanceof MLP) {
    if (example.ndim > 2) x = b.node('Flatten', [x], { axis: int(1) }); // MLP.forward flattens images
    x = layer(b, p, model.layers, 'layers', x, where);
  } else if (model instanceof LeNet5) {
    x = layer(b, p, model.features, 'features', x, where);
    x = layer(b, p, model.classifier, 'classifier', x, where);
  } else {
    x = layer(b, p, model, '', x, where);
  }
  b.output(x, 'logits', 'FLOAT', ['batch', ...outShape.slice(1)]);
  return b;
}
