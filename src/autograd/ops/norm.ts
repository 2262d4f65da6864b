// PLACEHOLDER until the functional ops land: every name throws.
export function layerNorm(..._args: unknown[]): never { throw new Error('layerNorm: not implemented yet'); }
export function batchNorm(..._args: unknown[]): never { throw new Error('batchNorm: not implemented yet'); }
