// Request bodies of the inference server, checked field by field: every wrong request gets a 4xx
// whose message names the field, what it must be and what it was; unknown fields are refused too
// (a misspelt `max_tokens` would otherwise be silently ignored).
import { showValue } from '../io/show.js';

/** An error that the server answers with `status` and `{error: message}`. */
export class HttpError extends Error {
  constructor(readonly status: number, message: string, readonly headers: Record<string, string> = {}) {
    super(message);
  }
}

type Field =
  | { type: 'string'; required?: boolean; minLength?: number; maxLength: number }
  | { type: 'integer' | 'number'; required?: boolean; min: number; max: number; nullable?: boolean }
  | { type: 'strings'; required?: boolean; minItems: number; maxItems: number; maxLength: number };


/** body checked against fields: a plain object, only known keys, each value of its type and range. */
function readFields(body: unknown, fields: Record<string, Field>): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, `the body must be a JSON object (got ${Array.isArray(body) ? 'an array' : showValue(body)})`);
  const known = Object.keys(fields);
  const unknown = Object.keys(body).filter((k) => !known.includes(k));
  if (unknown.length) throw new HttpError(400, `unknown field${unknown.length > 1 ? 's' : ''} ${unknown.map((k) => `'${k}'`).join(', ')} (known: ${known.join(', ')})`);
  const out: Record<string, unknown> = {};
  for (const [name, f] of Object.entries(fields)) {
    const v = (body as Record<string, unknown>)[name];
    if (v === undefined) {
      if (f.required) throw new HttpError(400, `${name} is required`);
      continue;
    }
    const bad = (what: string) => new HttpError(400, `${name} must be ${what} (got ${showValue(v)})`);
    if (f.type === 'string') {
      if (typeof v !== 'string') throw bad('a string');
      if (v.length < (f.minLength ?? 0) || v.length > f.maxLength) throw bad(`a string of ${f.minLength ?? 0} to ${f.maxLength} characters`);
    } else if (f.type === 'strings') {
      if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) throw bad('a list of strings');
      if (v.length < f.minItems || v.length > f.maxItems) throw bad(`a list of ${f.minItems} to ${f.maxItems} strings`);
      const long = v.findIndex((s: string) => s.length > f.maxLength);
      if (long >= 0) throw new HttpError(400, `${name}[${long}] is longer than ${f.maxLength} characters`);
    } else {
      if (v === null && f.nullable) {
        out[name] = null;
        continue;
      }
      const kind = f.type === 'integer' ? 'an integer' : 'a number';
      if (typeof v !== 'number' || !Number.isFinite(v) || (f.type === 'integer' && !Number.isInteger(v))) throw bad(`${kind}${f.nullable ? ' or null' : ''}`);
      if (v < f.min || v > f.max) throw bad(`${kind} in [${f.min}, ${f.max}]${f.nullable ? ' or null' : ''}`);
    }
    out[name] = v;
  }
  return out;
}

export interface Limits {
  /** Largest request body, in bytes. */
  maxBodyBytes: number;
  /** Cap on maxNewTokens per generate request. */
  maxNewTokens: number;
  /** Most texts per classify request. */
  maxTexts: number;
  /** Longest prompt or text, in characters. */
  maxChars: number;
}

export const DEFAULT_LIMITS: Limits = { maxBodyBytes: 64 * 1024, maxNewTokens: 256, maxTexts: 64, maxChars: 16 * 1024 };

export interface GenerateRequest {
  prompt: string;
  maxNewTokens: number;
  temperature: number;
  topK: number | null;
  /** Given, or drawn by the server and returned, so every answer can be reproduced. */
  seed: number | null;
}

/** POST /v1/generate: {prompt, maxNewTokens = 64, temperature = 0.8 (0: greedy), topK = 200 (null: all), seed}. */
export function parseGenerate(body: unknown, limits: Limits, vocabSize: number): GenerateRequest {
  const v = readFields(body, {
    prompt: { type: 'string', required: true, minLength: 1, maxLength: limits.maxChars },
    maxNewTokens: { type: 'integer', min: 0, max: limits.maxNewTokens },
    temperature: { type: 'number', min: 0, max: 100 },
    topK: { type: 'integer', min: 1, max: vocabSize, nullable: true },
    seed: { type: 'integer', min: 0, max: 2 ** 32 - 1 },
  });
  return {
    prompt: v.prompt as string,
    maxNewTokens: (v.maxNewTokens as number | undefined) ?? Math.min(64, limits.maxNewTokens),
    temperature: (v.temperature as number | undefined) ?? 0.8,
    topK: v.topK === undefined ? Math.min(200, vocabSize) : (v.topK as number | null),
    seed: (v.seed as number | undefined) ?? null,
  };
}

/** POST /v1/classify: {texts: [1 … maxTexts strings]}. */
export function parseClassify(body: unknown, limits: Limits): { texts: string[] } {
  const v = readFields(body, { texts: { type: 'strings', required: true, minItems: 1, maxItems: limits.maxTexts, maxLength: limits.maxChars } });
  return { texts: v.texts as string[] };
}
