// The `tsgrad` command line (commander): train, generate, eval, each with --help. Any error ends
// as ONE line on stderr, `tsgrad: <message>`, and exit code 1; --verbose adds the stack trace.
import * as fs from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { MODELS } from './options.js';
import { trainCommand } from './train.js';
import { generateCommand, type GenerateFlags } from './generate.js';
import { evalCommand, type EvalFlags } from './evaluate.js';
import { registerQuantize } from './quantize.js';
import { registerServe } from './serve.js';
import { registerExport } from './export.js';
import { registerPrepare } from './prepare.js';

function version(): string {
  try {
    return JSON.parse(fs.readFileSync(new URL('../../package.json', import.meta.url), 'utf8')).version;
  } catch {
    return '0.0.0';
  }
}

const oneLine = (s: string) => s.replace(/\s*\n\s*/g, ' ').trim();

const TRAIN_EXAMPLES = `
Models: ${MODELS.join(', ')}
Data:   moby-dick, names, spam, mnist, a folder written by tsgrad prepare (lm: token shards read by
        window), or a file. What a file's shape means:
        every line text<TAB>label (2–50 labels; .tsv, .csv or any other name): labelled data,
        a BERT model classifies it; any other text: lm (GPT) or mlm (BERT). --task overrides.
Tasks:  lm (GPT), mlm and classify (BERT), image (mlp, lenet5 on mnist); the default follows
        from --model and --data (BERT on labelled data or with --init: classify)

Examples:
  $ tsgrad train --model gpt-baby --data moby-dick --steps 400
  $ tsgrad train --model gpt-nano --data my-text.txt --steps 200 --out runs/mine
  $ tsgrad prepare --data corpus/ --out data/corpus && tsgrad train --model gpt2-small --data data/corpus --grad-accum 8
  $ tsgrad train --model bert-tiny --data moby-dick --task mlm --out runs/mlm
  $ tsgrad train --model bert-tiny --data spam --init runs/mlm --epochs 2
  $ tsgrad train --model lenet5 --data mnist --augment 2
  $ tsgrad train --out runs/mine --resume --steps 400     (continue a run, exactly)`;

export function buildProgram(): Command {
  const program = new Command('tsgrad')
    .description('Train, sample and evaluate tsgrad models from the command line.')
    .version(version())
    .option('--verbose', 'print stack traces with errors')
    .showSuggestionAfterError(true);
  program.exitOverride();
  program.configureOutput({ outputError: (str, write) => write(`tsgrad: ${oneLine(str.replace(/^error: /, ''))}\n`) });

  program.command('train')
    .description('train a model (GPT, BERT, MLP, LeNet-5) on built-in or local data; checkpoints, resume, plots')
    .option('--model <preset>', 'model preset (default gpt-baby)')
    .option('--data <name|path>', 'dataset name or file (default per task: moby-dick, spam, mnist)')
    .addOption(new Option('--task <task>', 'what to train for (default from model and data)').choices(['lm', 'mlm', 'classify', 'image']))
    .option('--steps <n>', 'optimizer steps (default per preset)')
    .option('--epochs <n>', 'passes over the training data, instead of --steps')
    .option('--batch-size <n>', 'examples per step (per micro-batch with --grad-accum)')
    .option('--grad-accum <n>', 'micro-batches of --batch-size accumulated per optimizer step (default 1)')
    .option('--block-size <n>', 'tokens per example: LM context (default the preset\'s positions), BERT max length (128)')
    .option('--lr <x>', 'peak learning rate')
    .addOption(new Option('--optimizer <name>', 'optimizer').choices(['adam', 'adamw', 'sgd']))
    .option('--weight-decay <x>', 'weight decay (AdamW: decoupled; matrices only)')
    .option('--warmup <k>', 'linear warmup steps')
    .addOption(new Option('--schedule <name>', 'lr schedule after warmup').choices(['cosine', 'step', 'none']))
    .option('--clip <x>', 'clip the global gradient norm (0: off)')
    .option('--seed <s>', 'random seed (everything: init, split, batches, dropout, masks)')
    .option('--eval-every <k>', 'evaluate every k steps (0: only at the end)')
    .option('--eval-batches <n>', 'validation batches per evaluation (lm, mlm)')
    .option('--save-every <k>', 'checkpoint every k steps (and at the end)')
    .option('--keep <n>', 'keep the newest n checkpoints (0: all)')
    .option('--out <dir>', 'run folder (default runs/<model>-<data>)')
    .option('--resume [when]', "continue the run in --out from its newest verified checkpoint (an error if it has none); 'auto': start fresh when there is none")
    .option('--overwrite', 'start again in an --out folder that holds a run')
    .option('--init <dir>', 'start from a checkpoint\'s weights and tokenizer (e.g. an MLM run before classify, D22)')
    .option('--tokenizer <spec>', 'char | bpe | wordpiece | a folder with tokenizer.json, vocab.json + merges.txt, or vocab.txt')
    .option('--vocab-size <n>', 'size of a trained BPE/WordPiece vocabulary')
    .option('--val-fraction <f>', 'share of the data held out for validation (default 0.1)')
    .option('--augment <px>', 'images: random shifts of up to px pixels (data augmentation, D19)')
    .option('--sample-tokens <n>', 'lm: tokens of the sample printed at the end')
    .option('--log-every <k>', 'steps between progress lines (default: about 20 per run)')
    .addHelpText('after', TRAIN_EXAMPLES)
    .action(async (_opts, cmd: Command) => {
      const values = cmd.opts();
      await trainCommand({ values, given: (name) => cmd.getOptionValueSource(name) === 'cli' });
    });

  program.command('generate')
    .description('continue a prompt with a trained language model (or fill [MASK]s with an MLM)')
    .requiredOption('--checkpoint <dir>', 'a run folder (its newest checkpoint) or a checkpoint folder')
    .requiredOption('--prompt <text>', 'the text to continue')
    .option('--max-new-tokens <n>', 'tokens to generate (default 200)')
    .option('--temperature <t>', 'divide the logits by t before sampling (default 0.8)')
    .option('--top-k <k>', 'sample among the k most likely tokens (default 200; 0: all)')
    .option('--greedy', 'always take the most likely token')
    .option('--seed <s>', 'random seed of the sampling (default 1337)')
    .addHelpText('after', '\nExample:\n  $ tsgrad generate --checkpoint runs/gpt-baby-moby-dick --prompt "The whale" --max-new-tokens 100 --seed 7')
    .action(async (opts: GenerateFlags) => generateCommand(opts));

  program.command('eval')
    .description('loss and perplexity (lm, mlm) or accuracy, precision, recall, F1 and confusion matrix (classify, image)')
    .requiredOption('--checkpoint <dir>', 'a run folder (its newest checkpoint) or a checkpoint folder')
    .option('--data <name|path>', 'data to score (default: the run\'s validation split)')
    .option('--batch-size <n>', 'examples per batch (default the run\'s)')
    .option('--block-size <n>', 'tokens per window/sequence (default the run\'s)')
    .option('--max-batches <n>', "score at most n batches (lm, mlm; default the run's --eval-batches, the windows training scored)")
    .option('--seed <s>', 'seed of the MLM masks (default 1234)')
    .addHelpText('after', '\nExamples:\n  $ tsgrad eval --checkpoint runs/gpt-baby-moby-dick\n  $ tsgrad eval --checkpoint runs/bert-tiny-spam --data my-labelled.tsv')
    .action(async (opts: EvalFlags) => evalCommand(opts));

  registerQuantize(program);
  registerServe(program);
  registerExport(program);
  registerPrepare(program);
  return program;
}

/** Run the CLI on process-style argv; resolves to the exit code. */
export async function runCli(argv: string[]): Promise<number> {
  const verbose = argv.includes('--verbose');
  try {
    await buildProgram().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode; // already printed (help and version exit 0)
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`tsgrad: ${oneLine(message)}\n`);
    if (verbose && e instanceof Error && e.stack) process.stderr.write(`${e.stack}\n`);
    return 1;
  }
}
