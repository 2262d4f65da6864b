// manifest.json: the size and SHA-256 of every file of a checkpoint folder, written last (atomically)
// once the folder is complete. Verifying it before use turns a truncated model file, a flipped bit
// in the weights or an edited trainer_state.json into an error that names the file, instead of a
// model that silently computes something else. Folders written before manifests existed still load,
// with a note that nothing was verified.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { createHash } from 'node:crypto';
import { writeFileAtomic } from '../io/index.js';

export const MANIFEST_FILE = 'manifest.json';

export interface Manifest {
  format: 'tsgrad-checkpoint-manifest';
  version: 1;
  /** File name → its size in bytes and SHA-256 (hex). */
  files: Record<string, { bytes: number; sha256: string }>;
}

/** SHA-256 of a file, read in 1 MiB chunks (a base-size model never sits in memory twice). */
export function sha256File(file: string): string {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(1 << 20);
  const fd = fs.openSync(file, 'r');
  try {
    for (let n; (n = fs.readSync(fd, buf, 0, buf.length, null)) > 0;) hash.update(buf.subarray(0, n));
  } finally {
    fs.closeSync(fd);
  }
  return hash.digest('hex');
}

/** Hash every plain file of dir (but the manifest) and write dir/manifest.json atomically. */
export function writeManifest(dir: string): Manifest {
  const files: Manifest['files'] = {};
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name);
    if (name === MANIFEST_FILE || name.startsWith('.') || !fs.statSync(file).isFile()) continue;
    files[name] = { bytes: fs.statSync(file).size, sha256: sha256File(file) };
  }
  const manifest: Manifest = { format: 'tsgrad-checkpoint-manifest', version: 1, files };
  writeFileAtomic(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}

function readManifest(dir: string): Manifest {
  const file = path.join(dir, MANIFEST_FILE);
  let m: Manifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    throw new Error(`${file} is not valid JSON (${(e as Error).message})`);
  }
  const entries = m && typeof m === 'object' && m.format === 'tsgrad-checkpoint-manifest' && m.files && typeof m.files === 'object' ? Object.entries(m.files) : null;
  if (!entries || m.version !== 1) throw new Error(`${file} is not a tsgrad checkpoint manifest (format, version 1)`);
  for (const [name, f] of entries) {
    // a name is a plain file of this folder: no path may lead elsewhere
    if (name !== path.basename(name) || name.startsWith('.') || !f || !Number.isInteger(f.bytes) || f.bytes < 0 || !/^[0-9a-f]{64}$/.test(String(f.sha256))) {
      throw new Error(`${file}: bad entry ${JSON.stringify(name).slice(0, 80)}`);
    }
  }
  return m;
}

/** Folders verified in this process, with the size and time of each file then: unchanged ones are not hashed again. */
const verified = new Map<string, string>();

const stamp = (dir: string, names: string[]) => JSON.stringify(names.map((n) => {
  const s = fs.statSync(path.join(dir, n), { throwIfNoEntry: false });
  return s ? [n, s.size, s.mtimeMs] : [n];
}));

export interface VerifyResult {
  /** False for a folder without manifest.json (written before manifests): nothing was checked. */
  verified: boolean;
  /** What to tell the user (the missing manifest), or null. */
  note: string | null;
}

/**
 * Check every file the manifest lists: present, of its size, of its SHA-256. Throws an error naming
 * the file and what is wrong (missing, truncated, modified).
 */
export function verifyManifest(dir: string): VerifyResult {
  if (!fs.existsSync(path.join(dir, MANIFEST_FILE))) {
    return { verified: false, note: `note: ${dir} has no ${MANIFEST_FILE} (written before checksums): its files are used unverified` };
  }
  const manifest = readManifest(dir);
  const names = Object.keys(manifest.files);
  const key = path.resolve(dir);
  const now = stamp(dir, [MANIFEST_FILE, ...names]);
  if (verified.get(key) === now) return { verified: true, note: null };
  for (const name of names) {
    const file = path.join(dir, name), want = manifest.files[name];
    const st = fs.statSync(file, { throwIfNoEntry: false });
    if (!st || !st.isFile()) throw new Error(`${file} is missing (listed in ${MANIFEST_FILE})`);
    if (st.size !== want.bytes) throw new Error(`${file} has ${st.size} bytes, ${MANIFEST_FILE} says ${want.bytes} (truncated or replaced)`);
    if (sha256File(file) !== want.sha256) throw new Error(`${file} does not match its SHA-256 in ${MANIFEST_FILE} (the file was modified or corrupted)`);
  }
  verified.set(key, now);
  return { verified: true, note: null };
}
