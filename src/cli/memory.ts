// `tsgrad train`'s memory check: the run's transformer shape from its preset and options, the
// estimate printed at start, and a refusal before anything is built when it cannot fit.
import { gptPresets, bertPresets } from '../models/presets.js';
import { isShardFolder, readShardsManifest } from '../data/shards.js';
import { availableMemory, checkMemory, describeEstimate, estimateTrainingMemory, type TransformerShape } from '../train/memory-estimate.js';
import { humanBytes } from '../train/progress.js';
import { BASE_PRESETS, type TrainOptions } from './options.js';

/** The vocabulary the model will have: the shards' tokenizer, a trained one's target size, or the preset's (char). */
function expectedVocab(o: TrainOptions, presetVocab: number): number {
  let vocab = isShardFolder(o.data) ? readShardsManifest(o.data).tokenizer.vocabSize : o.tokenizer === 'bpe' || o.tokenizer === 'wordpiece' ? o.vocabSize : presetVocab;
  if (BASE_PRESETS.includes(o.model)) vocab = Math.max(vocab, presetVocab);
  return vocab;
}

export function runShape(o: TrainOptions): TransformerShape | null {
  if (o.model in gptPresets) {
    const c = gptPresets[o.model as keyof typeof gptPresets];
    return { layers: c.nLayer, width: c.nEmbd, heads: c.nHead, ffn: 4 * c.nEmbd, vocab: expectedVocab(o, c.vocabSize), positions: Math.max(c.nPositions, o.blockSize), tiedOutput: c.tieWeights };
  }
  if (o.model in bertPresets) {
    const c = bertPresets[o.model as keyof typeof bertPresets];
    return { layers: c.numHiddenLayers, width: c.hiddenSize, heads: c.numAttentionHeads, ffn: c.intermediateSize, vocab: expectedVocab(o, c.vocabSize), positions: c.maxPositionEmbeddings, tiedOutput: true };
  }
  return null; // mlp, lenet5: a few MB
}

/** Print the estimate; throw (naming it and the flags) when it exceeds the free memory. */
export function checkRunMemory(o: TrainOptions, note: (line: string) => void, available = availableMemory()): void {
  const shape = runShape(o);
  if (!shape) return;
  const e = estimateTrainingMemory(shape, o.batchSize, o.blockSize, o.optimizer);
  checkMemory(e, available, o.optimizer, o.batchSize, o.blockSize, o.gradAccum);
  note(`estimate  ${describeEstimate(e, o.optimizer, o.batchSize, o.blockSize)}; ${humanBytes(available)} free`);
}
