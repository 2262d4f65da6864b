// tg.onnx.exportModel: a tsgrad model → an ONNX file (opset 17) that ONNX Runtime and other ONNX
// tools run. The example inputs are checked by one tsgrad forward pass; the graph itself comes from
// the model's config and stateDict (transformers.ts, sequential.ts), with dynamic batch and sequence.
import * as path from 'node:path';
import { Tensor } from '../tensor/tensor.js';
import { fmt } from '../tensor/shape.js';
import { noGrad } from '../autograd/engine.js';
import { Module } from '../nn/module.js';
import { Sequential } from '../nn/container.js';
import { writeFileAtomic } from '../io/index.js';
import { GPT, BertModel, BertForMaskedLM, BertForSequenceClassification } from '../models/index.js';
import { MLP } from '../models/mlp.js';
import { LeNet5 } from '../models/lenet.js';
import { OPSET, type GraphBuilder } from './graph.js';
import type { ValueInfoProto } from './proto.js';
import { gptGraph, bertGraph } from './transformers.js';
import { sequentialGraph } from './sequential.js';

export interface ExportOptions {
  /** Free text stored in the model's doc_string. */
  docString?: string;
  /** Extra key/value pairs stored in the model's metadata_props. */
  metadata?: Record<string, string>;
}

export interface ExportSummary {
  /** The file written (exportModel only). */
  file?: string;
  bytes: number;
  opset: number;
  /** Each graph input and output as `name: TYPE [dims]`, dynamic dims by name. */
  inputs: string[];
  outputs: string[];
  /** How many nodes of each ONNX op the graph has. */
  ops: Record<string, number>;
  /** Initializer count and their total elements (tied weights stored once). */
  initializers: number;
  parameters: number;
}

const FN = 'onnx.exportModel';
const TYPE_NAMES: Record<number, string> = { 1: 'float32', 6: 'int32', 7: 'int64', 9: 'bool' };

function describe(v: ValueInfoProto): string {
  const t = v.type.tensor_type;
  const dims = t.shape.dim.map((d) => ('dim_value' in d ? String(d.dim_value) : d.dim_param));
  return `${v.name}: ${TYPE_NAMES[t.elem_type]} [${dims.join(', ')}]`;
}

/** The example ids (int32 [B, T]) of GPT or BERT, checked. */
function checkIds(example: Tensor | undefined, name: string, limit: number, model: string): Tensor {
  if (!(example instanceof Tensor) || example.dtype !== 'int32' || example.ndim !== 2) {
    throw new Error(`${FN}: exampleInputs ${name} for ${model} must be an int32 tensor [batch, sequence] (got ${example instanceof Tensor ? `${example.dtype} ${fmt(example.shape)}` : typeof example})`);
  }
  if (example.shape[1] > limit) throw new Error(`${FN}: exampleInputs ${name} has sequence length ${example.shape[1]}, over the model's ${limit} positions`);
  return example;
}

/** The graph of a model, after one tsgrad forward pass on the examples (so a bad example fails here, by name). */
function graphOf(model: Module, examples: Tensor[]): GraphBuilder {
  const run = (f: () => unknown) => noGrad(f);
  if (model instanceof GPT) {
    const ids = checkIds(examples[0], 'input_ids', model.config.nPositions, 'GPT');
    run(() => model.forward(ids));
    return gptGraph(model);
  }
  if (model instanceof BertModel || model instanceof BertForMaskedLM || model instanceof BertForSequenceClassification) {
    const ids = checkIds(examples[0], 'input_ids', model.config.maxPositionEmbeddings, model.constructor.name);
    const [, attentionMask = null, tokenTypeIds = null] = examples;
    run(() => model.forward(ids, { attentionMask, tokenTypeIds }));
    return bertGraph(model);
  }
  if (model instanceof MLP || model instanceof LeNet5 || model instanceof Sequential) {
    const x = examples[0];
    if (!(x instanceof Tensor) || (x.dtype !== 'float32' && x.dtype !== 'float64') || x.ndim < 2) {
      throw new Error(`${FN}: exampleInputs for ${model.constructor.name} must be one float tensor [batch, …] (got ${x instanceof Tensor ? `${x.dtype} ${fmt(x.shape)}` : typeof x})`);
    }
    const out = run(() => model.forward(x)) as Tensor | { logits: Tensor };
    const logits = out instanceof Tensor ? out : out.logits;
    return sequentialGraph(model, x, logits.shape);
  }
  throw new Error(`${FN}: model ${model.constructor.name} has no ONNX export (exportable: GPT, BertModel, BertForMaskedLM, BertForSequenceClassification, MLP, LeNet5, nn.Sequential)`);
}

/**
 * The ONNX bytes of a model, and what they hold. exampleInputs are the graph's inputs in order:
 * GPT [input_ids]; BERT [input_ids, attention_mask?, token_type_ids?] (int32 here; int64 in the
 * graph, where all three are inputs); MLP, LeNet5 and Sequential [x] (its non-batch dims are fixed).
 */
export function toOnnx(model: Module, exampleInputs: Tensor | Tensor[], opts: ExportOptions = {}): { bytes: Uint8Array; summary: ExportSummary } {
  if (!(model instanceof Module)) throw new Error(`${FN}: model must be a tsgrad Module (got ${typeof model})`);
  const examples = Array.isArray(exampleInputs) ? exampleInputs : [exampleInputs];
  const wasTraining = model.training;
  model.eval(); // dropout off: the exported graph is the inference graph
  let graph: GraphBuilder;
  try {
    graph = graphOf(model, examples);
  } finally {
    model.train(wasTraining);
  }
  const bytes = graph.encode({ docString: opts.docString, metadata: { architecture: model.constructor.name, ...opts.metadata } });
  const parameters = graph.initializers.reduce((n, t) => n + t.dims.reduce((a, d) => a * d, 1), 0);
  return {
    bytes,
    summary: {
      bytes: bytes.length, opset: OPSET, inputs: graph.inputs.map(describe), outputs: graph.outputs.map(describe),
      ops: graph.opCounts(), initializers: graph.initializers.length, parameters,
    },
  };
}

/** Write model as an ONNX file (atomically: a temporary file, then rename); returns what it holds. */
export function exportModel(model: Module, exampleInputs: Tensor | Tensor[], file: string, opts: ExportOptions = {}): ExportSummary {
  if (typeof file !== 'string' || file === '') throw new Error(`${FN}: file must be a path (got ${JSON.stringify(file)})`);
  const { bytes, summary } = toOnnx(model, exampleInputs, opts);
  writeFileAtomic(file, bytes);
  return { file: path.resolve(file), ...summary };
}
