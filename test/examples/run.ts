// Shared by the example tests: run an example as a child process, and read numbers from what it prints.
import { spawn } from 'node:child_process';
import { join } from 'node:path';

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  seconds: number;
}

/** `node --import tsx examples/<name>.ts ...args` from the repository root. */
export function runExample(name: string, args: string[]): Promise<Run> {
  const start = Date.now();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', join('examples', `${name}.ts`), ...args], { cwd: process.cwd(), env: { ...process.env, NODE_OPTIONS: '' } });
    let stdout = '', stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr, seconds: (Date.now() - start) / 1000 }));
  });
}

/** Every `max |hand − X| = v` line's v. */
export const agreements = (out: string) => [...out.matchAll(/max \|hand − (?:autograd|library|tg\.optim)\| = ([-+0-9.e]+|NaN)/g)].map((m) => Number(m[1]));

/** The number after `label` (first match), or the first group of a RegExp. */
export function numberAfter(out: string, label: string | RegExp): number {
  const re = typeof label === 'string' ? new RegExp(`${label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*(-?[0-9.]+(?:e[-+]?\\d+)?|Infinity|NaN)`) : label;
  const m = out.match(re);
  if (!m) throw new Error(`no number after ${label} in:\n${out}`);
  return Number(m[1]);
}

/** The cells of the first line that starts with `first` (cells are separated by two spaces or more). */
export function row(out: string, first: string): string[] {
  const line = out.split('\n').find((l) => l.trim().startsWith(first));
  if (!line) throw new Error(`no row starting with ${JSON.stringify(first)} in:\n${out}`);
  return line.trim().split(/\s{2,}/);
}
