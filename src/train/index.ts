// tg.train: the Trainer a script drives, its batch sources, checkpoints (atomic, resumable),
// run logs, progress display, metrics (D27) and loss plots.
export { Trainer, withSeed, type TrainerOptions, type TrainerCallbacks, type FitResult } from './trainer.js';
export { randomBatches, epochBatches, EpochBatches, type BatchSource, type EpochBatchesOptions, type EpochPosition } from './batches.js';
export {
  resolveCheckpointDir, verifyCheckpoint, loadCheckpoint, openResumePoint, listCheckpoints, readTrainerState, writeCheckpoint, pruneCheckpoints, removeStaleTemps, removeCheckpoints,
  CHECKPOINT_PREFIX, TRAINER_STATE_FILE, TASKS, type Task, type TrainerState, type LoadedCheckpoint, type CheckpointInfo, type ResumePoint,
} from './checkpoint.js';
export { saveModel, loadModel, loadWeightsInto, OPTIMIZER_FILE, MODEL_FILE, MODEL_CONFIG_FILE } from './model-files.js';
export { writeManifest, verifyManifest, sha256File, MANIFEST_FILE, type Manifest } from './manifest.js';
export { RunLog, readLog, lossSeries, LOG_FILE, type StepRecord } from './runlog.js';
export { progress, formatMetrics, humanBytes, humanCount, humanDuration, type Progress, type ProgressOptions } from './progress.js';
export { classificationReport, confusionMatrix, formatConfusion, type ClassificationReport, type ClassMetrics } from './metrics.js';
export { asciiPlot, svgPlot, type Series } from './plot.js';
