// tg.data: corpora and datasets with no download, tokenizers, splits, loaders and batch shapes.
export * from './tokenizers/index.js';
export {
  loadText, loadClassification, readLabelledFile, emailText,
  TEXT_DATASETS, CLASSIFICATION_DATASETS, IMAGE_DATASETS,
  type ClassificationData, type ClassificationOptions,
} from './datasets.js';
export { loadMnist, randomShift, translateImages, type ImageSet } from './mnist.js';
export {
  permutation, trainValSplit, splitTokens, TensorDataset, SequenceDataset, DataLoader, gatherRows,
  lmBatch, lmBatches, padBatch,
  type Dataset, type LoaderOptions, type LMBatch, type PaddedBatch,
} from './loader.js';
export { maskTokens, type MaskTokensOptions, type MaskedBatch } from '../models/masking.js';
export { readTextFile, writeFileAtomic } from './files.js';
export {
  TokenShards, shardBatch, readSplit, isShardFolder, readShardsManifest, shardDtype, SHARDS_MANIFEST,
  type ShardsManifest, type ShardEntry, type ShardDtype,
} from './shards.js';
export { prepareShards, separatorId, type PrepareOptions, type PrepareProgress } from './prepare.js';
export { corpusFiles, corpusPieces, corpusSample, corpusCharacters, safeCut, type CorpusOptions, type CorpusPiece } from './corpus.js';
