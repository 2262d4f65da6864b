// Values from files and requests as error messages show them: short, and safe for any input.
// JSON.stringify is neither: a value nested 10^4 deep overflows the stack ("Maximum call stack
// size exceeded" instead of the message), and it prints Infinity (what 1e400 parses to) as null.

const DEPTH = 3, ITEMS = 4, CHARS = 40;

/** A short preview of `v`: at most 3 levels and 4 items a level; non-finite numbers named as such. */
export function showValue(v: unknown): string {
  const preview = show(v, 0);
  return preview.length > 2 * CHARS ? `${preview.slice(0, 2 * CHARS)}…` : preview;
}

function show(v: unknown, depth: number): string {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : `${v} (a number too large for a double)`;
  if (typeof v === 'string') return JSON.stringify(v.length > CHARS ? `${v.slice(0, CHARS)}…` : v);
  if (v === null || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v === undefined) return 'nothing';
  if (Array.isArray(v)) {
    if (depth >= DEPTH) return v.length ? '[…]' : '[]';
    return `[${v.slice(0, ITEMS).map((x) => show(x, depth + 1)).join(', ')}${v.length > ITEMS ? ', …' : ''}]`;
  }
  if (typeof v === 'object') {
    const keys = Object.keys(v);
    if (depth >= DEPTH) return keys.length ? '{…}' : '{}';
    const items = keys.slice(0, ITEMS).map((k) => `${JSON.stringify(k.length > CHARS ? `${k.slice(0, CHARS)}…` : k)}: ${show((v as Record<string, unknown>)[k], depth + 1)}`);
    return `{${items.join(', ')}${keys.length > ITEMS ? ', …' : ''}}`;
  }
  return typeof v;
}
