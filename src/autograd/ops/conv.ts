// PLACEHOLDER until the functional ops land: every name throws.
export function conv2d(..._args: unknown[]): never { throw new Error('conv2d: not implemented yet'); }
export function maxPool2d(..._args: unknown[]): never { throw new Error('maxPool2d: not implemented yet'); }
export function avgPool2d(..._args: unknown[]): never { throw new Error('avgPool2d: not implemented yet'); }
