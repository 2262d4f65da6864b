// The safetensors format: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
// ({"__metadata__": {..}, name: {dtype, shape, data_offsets: [begin, end]}}), then the data
// section, little-endian, offsets relative to its start. Every field of a file is checked
// before any tensor memory is allocated, so a hostile file gets an error, never a huge
// allocation or a hang.
import { Tensor } from '../tensor/tensor.js';
import type { DType, TypedArray } from '../tensor/dtype.js';
import { fmt } from '../tensor/shape.js';
import { halfToFloat32, bfloat16ToFloat32 } from './half.js';
import { showValue } from './show.js';

/** Hugging Face's limit: a larger header is refused before it is read. */
export const MAX_HEADER_BYTES = 100_000_000;
/**
 * How far the header may outgrow the data section. A real header is ~100 bytes per tensor next to
 * kilobytes of data, so only zero-size tensors or padding make it larger; this bound keeps the
 * time and memory of parsing a header proportional to the data the file holds (1.6 million
 * zero-size tensors in a 95 MB header took 47 s and 1.3 GB).
 */
export const HEADER_SLACK_BYTES = 1 << 20;
/** Tensors per file unless the caller says otherwise (a sharded LLM holds ~1,000 per file). */
export const MAX_TENSORS = 65_536;

/** What the reader of a file expects of it. */
export interface ReadOptions {
  /** Most tensors the file may hold (default MAX_TENSORS). */
  maxTensors?: number;
}

/** The dtypes tsgrad reads, with their size in bytes and the tsgrad dtype they become. */
const READ: Record<string, { bytes: number; dtype: DType }> = {
  F64: { bytes: 8, dtype: 'float64' },
  F32: { bytes: 4, dtype: 'float32' },
  I32: { bytes: 4, dtype: 'int32' },
  BOOL: { bytes: 1, dtype: 'bool' },
  F16: { bytes: 2, dtype: 'float32' },
  BF16: { bytes: 2, dtype: 'float32' },
  I64: { bytes: 8, dtype: 'int32' }, // e.g. BERT's position_ids; every value must fit in int32
  I8: { bytes: 1, dtype: 'int32' }, // e.g. int8-quantized weights (src/deploy), widened
};
/** Dtypes of the format that tsgrad cannot hold: named as such instead of "unknown". */
const UNSUPPORTED = ['U8', 'I16', 'U16', 'U32', 'U64', 'F8_E4M3', 'F8_E5M2', 'F8_E8M0', 'F6_E2M3', 'F6_E3M2', 'F4'];

/** tsgrad dtype → file dtype, in Hugging Face's write order (larger alignment first). */
const WRITE: Record<DType, { name: string; bytes: number; rank: number }> = {
  float64: { name: 'F64', bytes: 8, rank: 0 },
  float32: { name: 'F32', bytes: 4, rank: 1 },
  int32: { name: 'I32', bytes: 4, rank: 2 },
  bool: { name: 'BOOL', bytes: 1, rank: 3 },
};
const I8 = { name: 'I8', bytes: 1, rank: 3 };

/** How tensors are stored when the file dtype is not their own. */
export interface StoreOptions {
  /** Tensor name → 'I8': an int32 tensor with values in [-128, 127] stored as int8 (read back as int32). */
  dtypes?: Record<string, 'I8'>;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LITTLE_ENDIAN_HOST = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** One validated header entry: where its bytes are and what to make of them. */
export interface TensorEntry {
  name: string;
  dtype: string;
  shape: number[];
  size: number;
  begin: number;
  end: number;
}

export interface Header {
  entries: TensorEntry[];
  metadata: Record<string, string>;
  /** Where the data section starts in the file: 8 + N. */
  dataStart: number;
}

export interface Checkpoint {
  tensors: Record<string, Tensor>;
  metadata: Record<string, string>;
}

// ---------------------------------------------------------------- writing

/** The bytes of a safetensors file holding `tensors` (and string `metadata`), as Hugging Face writes them. */
export function serialize(tensors: Record<string, Tensor>, metadata?: Record<string, string>, options?: StoreOptions): Uint8Array {
  return encode(tensors, metadata, 'serialize', options);
}

/** serialize, with errors that start with `where` (e.g. "save: /x/model.safetensors"). */
export function encode(tensors: Record<string, Tensor>, metadata: Record<string, string> | undefined, where: string, options: StoreOptions = {}): Uint8Array {
  if (tensors === null || typeof tensors !== 'object') throw new Error(`${where}: the state dict must be an object of tensors, got ${typeof tensors}`);
  const narrow = options.dtypes ?? {};
  for (const [name, dtype] of Object.entries(narrow)) {
    if (!Object.hasOwn(tensors, name)) throw new Error(`${where}: options.dtypes names '${name}', which is not among the tensors`);
    if (dtype !== 'I8') throw new Error(`${where}: options.dtypes['${name}'] is ${JSON.stringify(dtype)}; only 'I8' is supported`);
  }
  const items = Object.entries(tensors).map(([name, t]) => {
    if (name === '__metadata__') throw new Error(`${where}: '__metadata__' is reserved by the format and cannot name a tensor`);
    if (!(t instanceof Tensor)) throw new Error(`${where}: '${name}' is not a Tensor (got ${t === null ? 'null' : typeof t})`);
    if (LONE_SURROGATE.test(name)) throw new Error(`${where}: tensor name ${JSON.stringify(name)} is not valid Unicode (a lone surrogate), which other readers refuse`);
    if (Object.hasOwn(narrow, name)) checkInt8(t, name, where);
    return { name, t, key: new TextEncoder().encode(name), info: Object.hasOwn(narrow, name) ? I8 : WRITE[t.dtype] };
  });
  // Larger alignment first, then names by UTF-8 bytes: every tensor's data starts aligned to its element size.
  items.sort((a, b) => a.info.rank - b.info.rank || Buffer.compare(a.key, b.key));

  const header: Record<string, unknown> = {};
  if (metadata !== undefined) {
    if (metadata === null || typeof metadata !== 'object') throw new Error(`${where}: metadata must be an object of strings`);
    const keys = Object.keys(metadata).sort();
    for (const k of keys) {
      if (typeof metadata[k] !== 'string') throw new Error(`${where}: metadata '${k}' must be a string, got ${typeof metadata[k]}`);
      if (LONE_SURROGATE.test(k) || LONE_SURROGATE.test(metadata[k])) throw new Error(`${where}: metadata '${k}' is not valid Unicode (a lone surrogate), which other readers refuse`);
    }
    if (keys.length > 0) defineKey(header, '__metadata__', Object.fromEntries(keys.map((k) => [k, metadata[k]])));
  }
  let offset = 0;
  for (const { name, t, info } of items) {
    const end = offset + t.size * info.bytes;
    defineKey(header, name, { dtype: info.name, shape: [...t.shape], data_offsets: [offset, end] });
    offset = end;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 8) * 8; // padded with spaces so the data starts 8-aligned

  const out = new Uint8Array(8 + headerLength + offset);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(headerLength), true);
  out.set(json, 8);
  out.fill(0x20, 8 + json.length, 8 + headerLength);
  let at = 8 + headerLength;
  for (const { t, info } of items) {
    if (info === I8) out.set(new Int8Array(t.data), at); // two's complement bytes, range checked above
    else writeLittleEndian(t.data, t.dtype, out, at);
    at += t.size * info.bytes;
  }
  return out;
}

function checkInt8(t: Tensor, name: string, where: string): void {
  if (t.dtype !== 'int32') throw new Error(`${where}: '${name}' is stored as I8 only from an int32 tensor (got ${t.dtype})`);
  const i = t.data.findIndex((v) => v < -128 || v > 127);
  if (i >= 0) throw new Error(`${where}: '${name}' holds ${t.data[i]} at index ${i}, outside the I8 range [-128, 127]`);
}

/** Set a key as an own property even when it is '__proto__'. */
function defineKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

function writeLittleEndian(data: TypedArray, dtype: DType, out: Uint8Array, at: number): void {
  if (dtype === 'bool') {
    for (let i = 0; i < data.length; i++) out[at + i] = data[i] !== 0 ? 1 : 0;
  } else if (LITTLE_ENDIAN_HOST) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
  } else {
    const view = new DataView(out.buffer, out.byteOffset + at);
    const set = dtype === 'float64' ? (i: number) => view.setFloat64(8 * i, data[i], true)
      : dtype === 'float32' ? (i: number) => view.setFloat32(4 * i, data[i], true)
      : (i: number) => view.setInt32(4 * i, data[i], true);
    for (let i = 0; i < data.length; i++) set(i);
  }
}

// ---------------------------------------------------------------- reading

/** Tensors and metadata from the bytes of a safetensors file; `source` names it in errors. */
export function deserialize(bytes: Uint8Array, source = '<buffer>', options: ReadOptions = {}): Checkpoint {
  const where = `deserialize: ${source}`;
  if (!(bytes instanceof Uint8Array)) throw new Error(`${where}: expected a Uint8Array, got ${typeof bytes}`);
  const headerLength = readHeaderLength(bytes.subarray(0, 8), bytes.length, where);
  const header = parseHeader(bytes.subarray(8, 8 + headerLength), bytes.length, where, options);
  // a copy into a fresh ArrayBuffer, so typed arrays over it are aligned (Buffer.slice would give a view)
  const read = (begin: number, end: number) => {
    const raw = new Uint8Array(end - begin);
    raw.set(bytes.subarray(header.dataStart + begin, header.dataStart + end));
    return raw;
  };
  return buildTensors(header, read, where);
}

/** N from the first 8 bytes, refused unless 8 + N fits in a file of fileSize bytes, N ≤ 100 MB, and N ≤ the data section + 1 MiB. */
export function readHeaderLength(first8: Uint8Array, fileSize: number, where: string): number {
  if (fileSize < 8) throw new Error(`${where}: file is ${fileSize} bytes, too short for the 8-byte header length of a safetensors file`);
  const n = new DataView(first8.buffer, first8.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(fileSize - 8)) throw new Error(`${where}: header length ${n} exceeds the ${fileSize - 8} bytes after the length field (truncated or not a safetensors file)`);
  if (n > BigInt(MAX_HEADER_BYTES)) throw new Error(`${where}: header length ${n} exceeds the limit of ${MAX_HEADER_BYTES} bytes`);
  const dataLength = fileSize - 8 - Number(n);
  if (Number(n) > dataLength + HEADER_SLACK_BYTES) {
    throw new Error(`${where}: header length ${n} is more than ${HEADER_SLACK_BYTES} bytes larger than the ${dataLength}-byte data section (a header of empty tensors or padding, refused before it is parsed)`);
  }
  return Number(n);
}

/** Parse and check the JSON header: dtypes, shapes, offsets inside the data section, no overlaps, no holes. */
export function parseHeader(headerBytes: Uint8Array, fileSize: number, where: string, { maxTensors = MAX_TENSORS }: ReadOptions = {}): Header {
  const dataStart = 8 + headerBytes.length;
  const dataLength = fileSize - dataStart;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(headerBytes);
  } catch {
    throw new Error(`${where}: header is not valid UTF-8`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    throw new Error(`${where}: header is not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json)) throw new Error(`${where}: header must be a JSON object, got ${describe(json)}`);

  const count = Object.keys(json).length - (Object.hasOwn(json, '__metadata__') ? 1 : 0);
  if (count > maxTensors) throw new Error(`${where}: header lists ${count} tensors, more than the ${maxTensors} expected`);
  const metadata: Record<string, string> = {};
  const entries: TensorEntry[] = [];
  for (const [name, value] of Object.entries(json)) {
    if (name === '__metadata__') {
      if (value === null) continue;
      if (!isPlainObject(value)) throw new Error(`${where}: __metadata__ must be an object of strings, got ${describe(value)}`);
      for (const [k, v] of Object.entries(value)) {
        if (typeof v !== 'string') throw new Error(`${where}: __metadata__ '${k}' must be a string, got ${describe(v)}`);
        defineKey(metadata, k, v);
      }
      continue;
    }
    entries.push(parseEntry(name, value, dataLength, where));
  }

  // Sorted by position, each tensor must start where the previous one ended: no overlap, no hole.
  const sorted = [...entries].sort((a, b) => a.begin - b.begin || a.end - b.end);
  let covered = 0;
  let previous: TensorEntry | undefined;
  for (const e of sorted) {
    if (e.begin < covered) {
      throw new Error(`${where}: tensors '${previous!.name}' [${previous!.begin}, ${previous!.end}] and '${e.name}' [${e.begin}, ${e.end}] overlap`);
    }
    if (e.begin > covered) throw new Error(`${where}: bytes [${covered}, ${e.begin}) of the data section belong to no tensor`);
    covered = e.end;
    previous = e;
  }
  if (covered !== dataLength) throw new Error(`${where}: bytes [${covered}, ${dataLength}) of the data section belong to no tensor`);
  return { entries, metadata, dataStart };
}

function parseEntry(name: string, value: unknown, dataLength: number, where: string): TensorEntry {
  const at = `${where}: tensor '${name}'`;
  if (!isPlainObject(value)) throw new Error(`${at} must be an object {dtype, shape, data_offsets}, got ${describe(value)}`);
  const { dtype, shape, data_offsets: offsets } = value as Record<string, unknown>;
  if (typeof dtype !== 'string') throw new Error(`${at} has no string dtype (got ${describe(dtype)})`);
  const kind = Object.hasOwn(READ, dtype) ? READ[dtype] : undefined;
  if (!kind) {
    if (UNSUPPORTED.includes(dtype)) throw new Error(`${at} has dtype ${dtype}, which tsgrad does not read (it reads ${Object.keys(READ).join(', ')})`);
    throw new Error(`${at} has unknown dtype '${dtype}'`);
  }
  if (!Array.isArray(shape)) throw new Error(`${at} has no shape array (got ${describe(shape)})`);
  let size = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0) throw new Error(`${at} has shape ${showValue(shape)}: dims must be non-negative integers`);
    size *= d;
  }
  if (shape.includes(0)) size = 0;
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0)) {
    throw new Error(`${at} has data_offsets ${showValue(offsets)}: expected [begin, end], two non-negative integers`);
  }
  const [begin, end] = offsets as number[];
  if (end < begin) throw new Error(`${at} has data_offsets [${begin}, ${end}] with end before begin`);
  if (end > dataLength) throw new Error(`${at} has data_offsets [${begin}, ${end}] beyond the ${dataLength}-byte data section`);
  // size may exceed 2^53 for a hostile shape; then it cannot equal end - begin, which is small
  const needed = size * kind.bytes;
  if (needed !== end - begin) {
    const bytes = Number.isSafeInteger(needed) ? `${needed}` : 'more than 2^53';
    throw new Error(`${at} has data_offsets [${begin}, ${end}] but shape ${fmt(shape)} × ${dtype} needs ${bytes} bytes`);
  }
  return { name, dtype, shape: shape.map((d: number) => d + 0), size, begin, end }; // + 0 turns -0 into 0
}

/** Make the tensors of a checked header; read(begin, end) gives a fresh copy of those data-section bytes. */
export function buildTensors(header: Header, read: (begin: number, end: number) => Uint8Array, where: string): Checkpoint {
  const pairs = header.entries.map((e) => {
    const raw = read(e.begin, e.end);
    return [e.name, new Tensor(fromLittleEndian(raw, e, where), e.shape, READ[e.dtype].dtype)] as const;
  });
  return { tensors: Object.fromEntries(pairs), metadata: header.metadata };
}

/** Typed array of e's values from its raw bytes; raw must own a fresh buffer starting at offset 0. */
function fromLittleEndian(raw: Uint8Array, e: TensorEntry, where: string): TypedArray {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const n = e.size;
  switch (e.dtype) {
    case 'BOOL': {
      for (let i = 0; i < n; i++) raw[i] = raw[i] !== 0 ? 1 : 0;
      return raw;
    }
    case 'F16':
    case 'BF16': {
      const out = new Float32Array(n);
      const convert = e.dtype === 'F16' ? halfToFloat32 : bfloat16ToFloat32;
      for (let i = 0; i < n; i++) out[i] = convert(view.getUint16(2 * i, true));
      return out;
    }
    case 'I8':
      return Int32Array.from(new Int8Array(raw.buffer, raw.byteOffset, n));
    case 'I64': {
      const out = new Int32Array(n);
      for (let i = 0; i < n; i++) {
        const low = view.getUint32(8 * i, true);
        const high = view.getInt32(8 * i + 4, true);
        // fits in int32 when the high word is the sign extension of the low word's top bit
        if (high !== (low >= 0x80000000 ? -1 : 0)) {
          throw new Error(`${where}: tensor '${e.name}' (I64) holds ${view.getBigInt64(8 * i, true)} at index ${i}, outside the int32 range tsgrad reads it into`);
        }
        out[i] = low | 0;
      }
      return out;
    }
  }
  if (LITTLE_ENDIAN_HOST) {
    if (e.dtype === 'F64') return new Float64Array(raw.buffer, raw.byteOffset, n);
    if (e.dtype === 'F32') return new Float32Array(raw.buffer, raw.byteOffset, n);
    return new Int32Array(raw.buffer, raw.byteOffset, n);
  }
  if (e.dtype === 'F64') return Float64Array.from({ length: n }, (_, i) => view.getFloat64(8 * i, true));
  if (e.dtype === 'F32') return Float32Array.from({ length: n }, (_, i) => view.getFloat32(4 * i, true));
  return Int32Array.from({ length: n }, (_, i) => view.getInt32(4 * i, true));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? value.slice(0, 40) + '…' : value)}`;
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value)}`;
}
