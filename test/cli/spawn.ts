// Running the `tsgrad` command as a process on the current source (node --import tsx
// src/cli/main.ts), for the CLI tests: its output, its exit, and the shared checks on them.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

export interface Run {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Start `tsgrad args…`; `out()`/`err()` read what it printed so far, `done` resolves when it exits. */
export function start(args: string[], env: Record<string, string> = {}): { child: ChildProcess; done: Promise<Run>; out: () => string; err: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '', ...env } });
  let stdout = '', stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  const done = new Promise<Run>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
  return { child, done, out: () => stdout, err: () => stderr };
}

/** `tsgrad args…` to its end. */
export const tsgrad = (...args: string[]): Promise<Run> => start(args).done;

/** An error run: exit ≠ 0, exactly one line on stderr, `tsgrad: …`, no stack. */
export function expectOneLineError(r: Run, pattern: RegExp): void {
  expect(r.code, r.stdout + r.stderr).to.not.equal(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines, r.stderr).to.have.length(1);
  expect(lines[0]).to.match(/^tsgrad: /);
  expect(lines[0]).to.match(pattern);
  expect(r.stderr).to.not.match(/\n\s+at /);
}

export const readJsonl = (file: string): Record<string, any>[] => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l));

/** What must match between two runs of one trajectory: every logged record but the measured throughput. */
export const trajectory = (dir: string): Record<string, any>[] =>
  readJsonl(path.join(dir, 'log.jsonl')).map(({ tokens_per_s: _t, samples_per_s: _s, ...rest }) => rest);
