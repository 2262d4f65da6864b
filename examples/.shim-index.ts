export * from '../src/index.js';
export * as train from '../src/train/index.js';
