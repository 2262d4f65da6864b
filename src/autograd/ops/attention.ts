// PLACEHOLDER until the functional ops land: every name throws.
export function scaledDotProductAttention(..._args: unknown[]): never { throw new Error('scaledDotProductAttention: not implemented yet'); }
