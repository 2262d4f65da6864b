// tg.optim: optimizers over parameter groups, and learning-rate schedulers in tg.optim.lrScheduler.
export { Optimizer, type BaseOptions, type ParamGroup, type ParamGroupInput, type ParamsInput, type ParamState, type OptimizerStateDict } from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export * as lrScheduler from './schedulers.js';
