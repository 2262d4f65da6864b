// tg.io: checkpoints as safetensors files. Saves are atomic (temporary file, fsync, rename, fsync
// of the folder), so a crash leaves the previous checkpoint whole; loads check the whole header
// before reading any tensor, and read each tensor straight from the file (no second copy of it).
import fs from 'node:fs'; // the module object, called at run time, so tests can simulate a crash
import { randomBytes } from 'node:crypto';
import { dirname } from 'node:path';
import type { Tensor } from '../tensor/tensor.js';
import { type Checkpoint, type Header, type ReadOptions, type StoreOptions, encode, readHeaderLength, parseHeader, buildTensors } from './safetensors.js';

export { serialize, deserialize, MAX_HEADER_BYTES, HEADER_SLACK_BYTES, MAX_TENSORS, type Checkpoint, type ReadOptions, type StoreOptions } from './safetensors.js';

/** Write `stateDict` (and string `metadata`) to `path` as safetensors, atomically; options.dtypes stores chosen int32 tensors as I8. */
export function save(path: string, stateDict: Record<string, Tensor>, metadata?: Record<string, string>, options?: StoreOptions): void {
  checkPath('save', path);
  const where = `save: ${path}`;
  atomicWrite(path, encode(stateDict, metadata, where, options), where);
}

/** The state dict in the safetensors file at `path` (what model.loadStateDict takes); options.maxTensors bounds what the caller expects. */
export function load(path: string, options?: ReadOptions): Record<string, Tensor> {
  checkPath('load', path);
  return readCheckpoint(path, `load: ${path}`, options).tensors;
}

/** The tensors and the `__metadata__` strings of the safetensors file at `path`. */
export function loadWithMetadata(path: string, options?: ReadOptions): Checkpoint {
  checkPath('loadWithMetadata', path);
  return readCheckpoint(path, `loadWithMetadata: ${path}`, options);
}

/** The checked header of the safetensors file at `path`: each tensor's name, dtype, shape and element count, and the metadata; no tensor data is read. */
export function loadHeader(path: string, options?: ReadOptions): { tensors: { name: string; dtype: string; shape: number[]; size: number }[]; metadata: Record<string, string> } {
  checkPath('loadHeader', path);
  const header = withFile(path, `loadHeader: ${path}`, options, (_fd, h) => h);
  return { tensors: header.entries.map(({ name, dtype, shape, size }) => ({ name, dtype, shape, size })), metadata: header.metadata };
}

/** Replace the file at `path` with `data` so that readers see the old file or the new one, never a part. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  checkPath('writeFileAtomic', path);
  const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
  atomicWrite(path, bytes, `writeFileAtomic: ${path}`);
}

function checkPath(op: string, path: unknown): void {
  if (typeof path !== 'string' || path === '') throw new Error(`${op}: path must be a non-empty string, got ${JSON.stringify(path) ?? typeof path}`);
}

/** Folder fsync is unsupported on some systems and file systems; there it is skipped. */
const UNSUPPORTED_DIR_SYNC = new Set(['EINVAL', 'EISDIR', 'EPERM', 'EACCES', 'ENOTSUP', 'EBADF']);

function atomicWrite(path: string, bytes: Uint8Array, where: string): void {
  const tmp = `${path}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  let fd: number | undefined;
  try {
    fd = fs.openSync(tmp, 'wx');
    for (let done = 0; done < bytes.length; ) done += fs.writeSync(fd, bytes, done, bytes.length - done);
    fs.fsyncSync(fd); // the data is on disk before the new name points at it
    fs.closeSync(fd);
    fd = undefined;
    fs.renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) ignoreErrors(() => fs.closeSync(fd!));
    ignoreErrors(() => fs.unlinkSync(tmp));
    throw new Error(`${where}: could not write (${reason(e)}); the previous file, if any, is unchanged`, { cause: e });
  }
  // make the rename itself durable
  let dirFd: number | undefined;
  try {
    dirFd = fs.openSync(dirname(path), 'r');
    fs.fsyncSync(dirFd);
  } catch (e) {
    if (!UNSUPPORTED_DIR_SYNC.has(codeOf(e))) throw new Error(`${where}: written, but syncing its folder failed (${reason(e)})`, { cause: e });
  } finally {
    if (dirFd !== undefined) ignoreErrors(() => fs.closeSync(dirFd!));
  }
}

function readCheckpoint(path: string, where: string, options?: ReadOptions): Checkpoint {
  return withFile(path, where, options, (fd, header) => buildTensors(header, (begin, end) => readAt(fd, header.dataStart + begin, end - begin, where), where));
}

/** Open the file, read and check its header, and hand both to `use`; the file is closed afterwards. */
function withFile<T>(path: string, where: string, options: ReadOptions | undefined, use: (fd: number, header: Header) => T): T {
  let fd: number;
  try {
    fd = fs.openSync(path, 'r');
  } catch (e) {
    throw new Error(`${where}: ${reason(e)}`, { cause: e });
  }
  try {
    const stat = fs.fstatSync(fd);
    if (stat.isDirectory()) throw new Error(`${where}: is a directory, not a safetensors file`);
    if (!stat.isFile()) throw new Error(`${where}: not a regular file`);
    const size = stat.size;
    const headerLength = readHeaderLength(readAt(fd, 0, Math.min(8, size), where), size, where);
    return use(fd, parseHeader(readAt(fd, 8, headerLength, where), size, where, options));
  } finally {
    ignoreErrors(() => fs.closeSync(fd));
  }
}

/** `length` bytes from `position` into a fresh buffer; a file shorter than its size said is an error, not a hang. */
function readAt(fd: number, position: number, length: number, where: string): Uint8Array {
  const out = new Uint8Array(length);
  for (let done = 0; done < length; ) {
    const n = fs.readSync(fd, out, done, length - done, position + done);
    if (n === 0) throw new Error(`${where}: file ended at byte ${position + done}, expected ${position + length} bytes (changed while being read?)`);
    done += n;
  }
  return out;
}

function codeOf(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? '';
}

function reason(e: unknown): string {
  switch (codeOf(e)) {
    case 'ENOENT': return 'no such file or folder';
    case 'EISDIR': return 'is a directory';
    case 'EACCES': return 'permission denied';
    case 'ENOSPC': return 'no space left on device';
    default: return e instanceof Error ? e.message : String(e);
  }
}

function ignoreErrors(fn: () => void): void {
  try {
    fn();
  } catch {
    // cleanup after an earlier error: that error is the one to report
  }
}
