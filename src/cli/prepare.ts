// `tsgrad prepare`: tokenize a corpus of any size once into token shards (tg.data.prepareShards)
// for `tsgrad train --data DIR`. A BPE or WordPiece tokenizer is trained on a bounded sample, the
// first --tokenizer-sample MB of the text (training on gigabytes would take hours and the whole
// text in memory); a char tokenizer takes one extra streaming pass to collect every character.
import * as path from 'node:path';
import type { Command } from 'commander';
import cliProgress from 'cli-progress';
import { CharTokenizer, type Tokenizer } from '../data/tokenizers/index.js';
import { corpusCharacters, corpusFiles, corpusSample } from '../data/corpus.js';
import { prepareShards, type PrepareProgress } from '../data/prepare.js';
import { humanBytes, humanDuration } from '../train/progress.js';
import { nonNegative, positiveInt } from './options.js';
import { buildTokenizer, describeTokenizer, int } from './tasks/task.js';

export interface PrepareFlags {
  data: string[];
  out: string;
  tokenizer?: string;
  vocabSize?: string;
  textField?: string;
  valFraction?: string;
  shardTokens?: string;
  tokenizerSample?: string;
}

const mb = (bytes: number, seconds: number) => `${(bytes / 1e6 / Math.max(seconds, 1e-9)).toFixed(1)} MB/s`;
const rate = (p: PrepareProgress) => `${mb(p.bytesRead, p.seconds)} · ${int(Math.round(p.tokens / Math.max(p.seconds, 1e-9)))} tokens/s`;

export function prepareCommand(flags: PrepareFlags): void {
  const spec = flags.tokenizer ?? 'bpe';
  const vocabSize = flags.vocabSize !== undefined ? positiveInt('vocab-size', flags.vocabSize) : 50257;
  const sampleMB = flags.tokenizerSample !== undefined ? nonNegative('tokenizer-sample', flags.tokenizerSample) : 4;
  const valFraction = flags.valFraction !== undefined ? nonNegative('val-fraction', flags.valFraction) : 0.1;
  if (valFraction >= 1) throw new Error(`--val-fraction must be below 1 (got ${valFraction})`);
  const shardTokens = flags.shardTokens !== undefined ? positiveInt('shard-tokens', flags.shardTokens) : undefined;
  const files = corpusFiles(flags.data);
  const corpus = { textField: flags.textField };
  const started = performance.now();
  let tokenizer: Tokenizer;
  let sampleBytes: number | null = null;
  if (spec === 'char') {
    console.log('tokenizer char: a first pass collects every character of the corpus…');
    tokenizer = CharTokenizer.fit(corpusCharacters(files, corpus));
  } else if (spec === 'bpe' || spec === 'wordpiece') {
    const sample = corpusSample(files, sampleMB * 1e6, corpus);
    sampleBytes = Buffer.byteLength(sample);
    console.log(`tokenizer ${spec}: training up to ${int(vocabSize)} tokens on a sample, the first ${humanBytes(sampleBytes)} of the text (--tokenizer-sample MB)…`);
    tokenizer = buildTokenizer(spec, sample, vocabSize, 'lm');
  } else tokenizer = buildTokenizer(spec, '', vocabSize, 'lm');
  console.log(`tokenizer ${describeTokenizer(tokenizer)} (${humanDuration((performance.now() - started) / 1000)})`);

  const tty = Boolean(process.stderr.isTTY);
  const bar = tty ? new cliProgress.SingleBar({ format: 'prepare [{bar}] {percentage}% | {done} | {rate} | ETA {eta_formatted}', hideCursor: true }, cliProgress.Presets.shades_classic) : null;
  let nextLine = 0.1, lastDraw = 0;
  const onProgress = (p: PrepareProgress) => {
    const fraction = p.totalBytes > 0 ? p.bytesRead / p.totalBytes : 1;
    const done = `${humanBytes(p.bytesRead)}/${humanBytes(p.totalBytes)} · ${int(p.tokens)} tokens`;
    if (bar) {
      if (lastDraw === 0) bar.start(p.totalBytes, 0, { done, rate: rate(p) });
      if (p.seconds - lastDraw > 0.2 || fraction >= 1) bar.update(p.bytesRead, { done, rate: rate(p) });
      lastDraw = p.seconds || 1e-9;
    } else if (fraction >= nextLine - 1e-9) {
      console.log(`prepare ${Math.round(fraction * 100)}% · ${done} · ${rate(p)}`);
      while (nextLine <= fraction + 1e-9) nextLine += 0.1;
    }
  };
  const manifest = prepareShards({
    data: flags.data, tokenizer, tokenizerSpec: spec, tokenizerSampleBytes: sampleBytes, out: flags.out,
    textField: flags.textField, valFraction, shardTokens, onProgress,
  });
  bar?.stop();
  const seconds = (performance.now() - started) / 1000;
  const s = manifest.split;
  console.log(`wrote ${flags.out}: ${manifest.shards.length} shard${manifest.shards.length === 1 ? '' : 's'} of ${manifest.dtype} · ${int(manifest.tokens)} tokens from ${int(manifest.documents)} document${manifest.documents === 1 ? '' : 's'} in ${int(files.length)} file${files.length === 1 ? '' : 's'} (${humanBytes(manifest.source.bytes)})`);
  console.log(`split     train ${int(s.trainTokens)} · validation ${int(s.valTokens)} tokens (the last ${valFraction * 100}%)`);
  console.log(`done in ${humanDuration(seconds)} (${mb(manifest.source.bytes, seconds)}) · peak RSS ${humanBytes(process.resourceUsage().maxRSS * 1024)}`);
  console.log(`next:\n  npx tsgrad train --model gpt2-small --data ${flags.out} --grad-accum 8 --out runs/${path.basename(path.resolve(flags.out))}`);
}

export function registerPrepare(program: Command): void {
  program.command('prepare')
    .description('tokenize a corpus of any size once into token shards (uint16/uint32 files + shards.json) for train --data DIR')
    .requiredOption('--data <path...>', '.txt or .jsonl files, or folders of them')
    .requiredOption('--out <dir>', 'folder for the shards, shards.json and the tokenizer')
    .option('--tokenizer <spec>', 'bpe (default) | wordpiece | char | a folder with tokenizer.json, vocab.json + merges.txt, or vocab.txt')
    .option('--vocab-size <n>', 'size of a trained BPE/WordPiece vocabulary (default 50257, GPT-2\'s)')
    .option('--tokenizer-sample <mb>', 'MB of text (from the start) a BPE/WordPiece tokenizer is trained on (default 4)')
    .option('--text-field <name>', '.jsonl: the field that holds each document\'s text (default text)')
    .option('--val-fraction <f>', 'share of the tokens held out at the end for validation (default 0.1)')
    .option('--shard-tokens <n>', 'tokens per shard file (default 104857600)')
    .addHelpText('after', '\nExamples:\n  $ tsgrad prepare --data corpus/ --out data/corpus\n  $ tsgrad prepare --data web.jsonl --text-field content --tokenizer char --out data/web\n  $ tsgrad train --model gpt2-small --data data/corpus --grad-accum 8')
    .action((opts: PrepareFlags) => prepareCommand(opts));
}
