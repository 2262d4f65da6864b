// Lesson 8: training from your own script. tg.train.Trainer is the loop `tsgrad train` runs (D12's
// next-token loss, D17–D19's AdamW, cosine schedule and clipping), driven here in 20 lines: a
// character GPT on 8,422 first names, evaluated, checkpointed, plotted, then sampled.
// Run: npx tsx examples/08-train-script.ts [--fast] [--out DIR]   (--resume continues the run)
import * as tg from '../src/index.js';
import { fast, option } from './lib/lesson.js';

tg.manualSeed(1337);
const text = tg.data.loadText('names');
const tokenizer = tg.data.CharTokenizer.fit(text);
const { train, val } = tg.data.splitTokens(Int32Array.from(tokenizer.encode(text)), 0.1);
const model = new tg.models.GPT({ ...tg.models.preset('gpt-nano'), vocabSize: tokenizer.vocabSize });
const optimizer = new tg.optim.AdamW(model.parameters(), { lr: 3e-3 });
const steps = fast ? 60 : 600;
const trainer = new tg.train.Trainer({
  model, optimizer,
  scheduler: new tg.optim.lrScheduler.CosineAnnealingLR(optimizer, { tMax: steps, etaMin: 3e-4 }),
  trainBatches: () => tg.data.lmBatch(train, 32, 16), // random windows from the seeded stream: resumable
  evalBatches: () => tg.data.lmBatches(val, 32, 16, 4), // drawn on the eval seed: the same 4 batches each time
  clip: 1, evalEvery: steps / 4, saveEvery: steps / 2, keep: 1,
  outDir: option('out', 'runs/08-train-script'),
  checkpointFiles: (dir) => tg.data.saveTokenizer(tokenizer, dir), // so `tsgrad generate --checkpoint` works
  callbacks: [tg.train.progress({ every: steps / 4 })],
});
if (process.argv.includes('--resume')) await trainer.resume();
const { history } = await trainer.fit(steps);
console.log(tg.train.asciiPlot(tg.train.lossSeries(history), { height: 8 }));
const first = history[0], last = history.at(-1)!;
console.log(`loss ${first.loss.toFixed(4)} → ${last.loss.toFixed(4)}, val_loss ${last.val_loss?.toFixed(4)}; checkpoint in ${option('out', 'runs/08-train-script')}`);
const names = model.generate(tg.tensor([tokenizer.encode('\n')], { dtype: 'int32' }), 60, { temperature: 0.8 });
console.log(`sampled names: ${tokenizer.decode(names.data as Int32Array).trim().split('\n').join(', ')}`);
