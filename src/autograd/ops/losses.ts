// PLACEHOLDER until the functional ops land: every name throws.
export function crossEntropy(..._args: unknown[]): never { throw new Error('crossEntropy: not implemented yet'); }
export function nllLoss(..._args: unknown[]): never { throw new Error('nllLoss: not implemented yet'); }
export function mseLoss(..._args: unknown[]): never { throw new Error('mseLoss: not implemented yet'); }
export function binaryCrossEntropy(..._args: unknown[]): never { throw new Error('binaryCrossEntropy: not implemented yet'); }
export function bceWithLogits(..._args: unknown[]): never { throw new Error('bceWithLogits: not implemented yet'); }
