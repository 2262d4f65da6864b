// `tsgrad export`: a checkpoint's model as an ONNX file (opset 17, dynamic batch and sequence dims)
// for ONNX Runtime and the tools that read ONNX. The tokenizer stays in the checkpoint folder.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Option, type Command } from 'commander';
import { Tensor } from '../tensor/tensor.js';
import type { Module } from '../nn/module.js';
import { GPT, BertModel, BertForMaskedLM, BertForSequenceClassification } from '../models/index.js';
import { MLP } from '../models/mlp.js';
import { LeNet5 } from '../models/lenet.js';
import { resolveCheckpointDir } from '../train/checkpoint.js';
import { loadModel } from '../train/model-files.js';
import { exportModel } from '../onnx/index.js';

export interface ExportFlags {
  checkpoint: string;
  format: 'onnx';
  out: string;
  overwrite?: boolean;
}

export function registerExport(program: Command): void {
  program.command('export')
    .description('write a checkpoint\'s model as an ONNX file (opset 17) with dynamic batch and sequence dimensions')
    .requiredOption('--checkpoint <dir>', 'a run folder (its newest checkpoint) or a checkpoint folder')
    .addOption(new Option('--format <format>', 'the file format').choices(['onnx']).default('onnx'))
    .requiredOption('--out <file>', 'the file to write, e.g. model.onnx')
    .option('--overwrite', 'replace an existing --out file')
    .addHelpText('after', `
Inputs and outputs: GPT input_ids → logits; BERT input_ids, attention_mask, token_type_ids (int64)
→ logits (MLM or classes); MLP and LeNet-5 input (float32) → logits.

Examples:
  $ tsgrad export --checkpoint runs/gpt-baby-moby-dick --format onnx --out gpt-baby.onnx
  $ tsgrad export --checkpoint runs/bert-tiny-spam --out bert-tiny-spam.onnx`)
    .action(async (flags: ExportFlags) => exportCommand(flags));
}

const zerosInt = (shape: number[]) => new Tensor(new Int32Array(shape[0] * shape[1]), shape, 'int32');

/** The smallest inputs each model accepts: they fix the non-dynamic dims of MLP and LeNet-5. */
function exampleInputs(model: Module): Tensor[] {
  if (model instanceof GPT) return [zerosInt([1, Math.min(8, model.config.nPositions)])];
  if (model instanceof BertModel || model instanceof BertForMaskedLM || model instanceof BertForSequenceClassification) {
    const shape = [1, Math.min(8, model.config.maxPositionEmbeddings)];
    return [zerosInt(shape), new Tensor(new Int32Array(shape[1]).fill(1), shape, 'int32'), zerosInt(shape)];
  }
  if (model instanceof MLP) return [new Tensor(new Float32Array(model.sizes[0]), [1, model.sizes[0]], 'float32')];
  if (model instanceof LeNet5) return [new Tensor(new Float32Array(28 * 28), [1, 1, 28, 28], 'float32')];
  throw new Error(`export: the checkpoint holds a ${model.constructor.name}, which has no ONNX export (GPT, BERT, MLP, LeNet5)`);
}

const thousands = (n: number) => n.toLocaleString('en-US');

export async function exportCommand(f: ExportFlags): Promise<void> {
  if (f.format !== 'onnx') throw new Error(`export: --format must be onnx (got ${f.format})`);
  if (fs.existsSync(f.out) && !f.overwrite) throw new Error(`export: ${f.out} exists; pass --overwrite to replace it`);
  const dir = resolveCheckpointDir(f.checkpoint);
  const model = await loadModel(dir); // the tokenizer is not needed: the graph starts at token ids
  const s = exportModel(model, exampleInputs(model), f.out, { metadata: { checkpoint: path.resolve(dir) } });
  const row = (name: string, value: string) => console.log(`${name.padEnd(10)}${value}`);
  row('exported', `${dir} (${model.constructor.name}, ${thousands(model.numParameters())} parameters)`);
  row('to', `${f.out} (${(s.bytes / 1e6).toFixed(2)} MB, ONNX opset ${s.opset})`);
  for (const [i, v] of s.inputs.entries()) row(i === 0 ? 'inputs' : '', v);
  for (const [i, v] of s.outputs.entries()) row(i === 0 ? 'outputs' : '', v);
  row('ops', Object.entries(s.ops).sort((a, b) => b[1] - a[1]).map(([op, n]) => `${op} ${n}`).join(', '));
  const tokenizer = path.join(dir, 'tokenizer.json');
  if (fs.existsSync(tokenizer)) row('tokenizer', `${tokenizer} (not inside the .onnx file: ship it beside)`);
}
