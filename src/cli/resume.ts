// `tsgrad train --resume`: a resume that finds nothing to resume is an error naming the folder and
// what it holds, so a typo in --out never starts a fresh default run; `--resume auto` (for scripts
// that rerun one command) starts fresh when there is no checkpoint yet. A folder whose checkpoints
// all fail to verify is a different error (openResumePoint's "no checkpoint … verifies").
import * as fs from 'node:fs';

/** false: no --resume; true: --resume (a checkpoint must exist); 'auto': resume if there is one. */
export type ResumeMode = boolean | 'auto';

/** Commander's value of `--resume [when]`: undefined, true, or the word given. */
export function resumeMode(v: unknown): ResumeMode {
  if (v === undefined || v === false) return false;
  if (v === true) return true;
  if (v === 'auto') return 'auto';
  throw new Error(`--resume takes no value, or 'auto' (resume if the run folder has a checkpoint, else start fresh); got '${v}'`);
}

/** The error for --resume on a folder with no checkpoint-<step>/ in it. */
export function nothingToResume(out: string): Error {
  const hint = "check --out, or give --resume auto to start a fresh run when there is no checkpoint";
  if (!fs.existsSync(out)) return new Error(`--resume: ${out} does not exist, so there is no run to resume; ${hint}`);
  if (!fs.statSync(out).isDirectory()) return new Error(`--resume: ${out} is a file, not a run folder; ${hint}`);
  const names = fs.readdirSync(out).sort();
  const found = names.length === 0 ? 'it is empty'
    : `it holds ${names.slice(0, 6).join(', ')}${names.length > 6 ? ` and ${names.length - 6} more` : ''}`;
  return new Error(`--resume: ${out} has no checkpoint-<step>/ folder to resume from (${found}); ${hint}`);
}
