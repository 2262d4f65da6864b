// `tsgrad export`, spawned as a process on a saved model folder: the summary it prints, the file it
// writes (run by ONNX Runtime against the folder's model), and its one-line errors.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as tg from '../../src/index.js';
import { GPT } from '../../src/models/gpt.js';
import { saveModel, loadModel } from '../../src/train/model-files.js';
import { runOnnx, maxAbsDiff, scrambleWeights } from './runtime.js';

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tsgrad-onnx-cli-'));
after(() => fs.rmSync(work, { recursive: true, force: true }));

const tsgrad = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });

describe('tsgrad export', function () {
  this.timeout(60_000);
  const folder = path.join(work, 'gpt');
  const file = path.join(work, 'gpt.onnx');

  before(() => {
    tg.manualSeed(11);
    const gpt = new GPT({ vocabSize: 19, nPositions: 12, nEmbd: 8, nLayer: 1, nHead: 2, dropout: 0 });
    scrambleWeights(gpt);
    saveModel(gpt, folder);
  });

  it('writes an ONNX file of the checkpoint that ONNX Runtime runs like tsgrad, and says what it holds', async () => {
    const run = tsgrad('export', '--checkpoint', folder, '--format', 'onnx', '--out', file);
    expect(run.stderr).to.equal('');
    expect(run.status).to.equal(0);
    expect(run.stdout).to.match(/^exported  .*gpt \(GPT, [\d,]+ parameters\)$/m);
    expect(run.stdout).to.match(/^to        .*gpt\.onnx \([\d.]+ MB, ONNX opset 17\)$/m);
    expect(run.stdout).to.contain('inputs    input_ids: int64 [batch, sequence]');
    expect(run.stdout).to.contain('outputs   logits: float32 [batch, sequence, 19]');
    expect(run.stdout).to.match(/^ops       .*LayerNormalization 3.*Softmax 1/m);
    const model = (await loadModel(folder)) as GPT;
    const ids = tg.randint(0, 19, [2, 9]);
    const got = await runOnnx(file, { input_ids: ids });
    expect(maxAbsDiff(got.logits.data, tg.noGrad(() => model.forward(ids).logits).data)).to.be.below(1e-4);
  });

  it('--help lists its flags and what each model exports', () => {
    const help = tsgrad('export', '--help');
    expect(help.status).to.equal(0);
    expect(help.stdout).to.match(/--checkpoint <dir>[\s\S]*--format <format>[\s\S]*choices: "onnx"[\s\S]*--out <file>[\s\S]*--overwrite/);
    expect(help.stdout).to.include('GPT input_ids → logits');
    expect(tsgrad('--help').stdout).to.match(/^\s+export \[options\]\s+write a checkpoint's model as an ONNX file/m);
  });

  it('refuses to replace a file without --overwrite, and an unknown format, in one line each', () => {
    const again = tsgrad('export', '--checkpoint', folder, '--out', file);
    expect(again.status).to.equal(1);
    expect(again.stderr).to.equal(`tsgrad: export: ${file} exists; pass --overwrite to replace it\n`);
    expect(tsgrad('export', '--checkpoint', folder, '--out', file, '--overwrite').status).to.equal(0);
    const format = tsgrad('export', '--checkpoint', folder, '--format', 'tflite', '--out', file);
    expect(format.status).to.equal(1);
    expect(format.stderr).to.match(/^tsgrad: option '--format <format>' argument 'tflite' is invalid\. Allowed choices are onnx\.\n$/);
  });
});
