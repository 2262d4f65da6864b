// PLACEHOLDER until the functional ops land: every name throws.
export function linear(..._args: unknown[]): never { throw new Error('linear: not implemented yet'); }
export function dropout(..._args: unknown[]): never { throw new Error('dropout: not implemented yet'); }
export function embedding(..._args: unknown[]): never { throw new Error('embedding: not implemented yet'); }
