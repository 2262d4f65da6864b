// What the browser bundle gets for the node built-ins that tsgrad's core imports (node:fs, os, path,
// url, v8, worker_threads): the same names, doing nothing useful. The wasm loader finds no package
// root (existsSync → false) and reports its family unavailable; graph files cannot be written,
// but graphToSvg works. scripts/playground.ts points every `node:*` import here except node:module.
const unavailable = (what: string) => (): never => {
  throw new Error(`${what} is not available in the browser`);
};

export const existsSync = (): boolean => false;
export const readFileSync = unavailable('fs.readFileSync');
export const writeFileSync = unavailable('fs.writeFileSync');
export const mkdirSync = unavailable('fs.mkdirSync');
export const renameSync = unavailable('fs.renameSync');
export const availableParallelism = (): number => 1;
export const cpus = (): { model: string }[] => [];
export const homedir = (): string => '/';
export const dirname = (p: string): string => p.replace(/\/[^/]*$/, '') || '/';
export const join = (...parts: string[]): string => parts.join('/').replace(/\/+/g, '/');
export const fileURLToPath = (url: string | URL): string => new URL(url).pathname;
export const setFlagsFromString = (): void => {};
export class Worker {
  constructor() {
    unavailable('worker_threads.Worker')();
  }
}
export default { setFlagsFromString };
