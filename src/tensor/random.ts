// One seeded random stream for everything: init, dropout, masking, shuffling, sampling.
// Alea (from seedrandom) is fast and its state can be saved, so a resumed run draws the same numbers.
import seedrandom from 'seedrandom';

export type RngState = { c: number; s0: number; s1: number; s2: number };

const DEFAULT_SEED = 0;
let rng = seedrandom.alea(String(DEFAULT_SEED), { state: true });

/** Seed every random draw of tsgrad (like torch.manual_seed). */
export function manualSeed(seed: number | string): void {
  rng = seedrandom.alea(String(seed), { state: true });
}

/** The generator's state, to store in a checkpoint. */
export function getRngState(): RngState {
  return { ...rng.state() };
}

export function setRngState(state: RngState): void {
  for (const key of ['c', 's0', 's1', 's2'] as const) {
    if (typeof state?.[key] !== 'number') throw new Error(`setRngState: state.${key} must be a number`);
  }
  rng = seedrandom.alea('', { state: { ...state } });
}

/** Run fn on its own seed and put tsgrad's random stream back afterwards (samples, evaluations). */
export function withSeed<T>(seed: number, fn: () => T): T {
  const saved = getRngState();
  try {
    manualSeed(seed);
    return fn();
  } finally {
    setRngState(saved);
  }
}

/** Uniform in [0, 1). */
export function random(): number {
  return rng();
}

/** Fill with standard normals by Box–Muller: z = √(−2 ln u₁) · cos(2π u₂), and the sine for the pair. */
export function fillNormal(out: Float32Array | Float64Array, mean = 0, std = 1): void {
  for (let i = 0; i < out.length; i += 2) {
    const u1 = 1 - rng(); // (0, 1]: log(0) never happens
    const u2 = rng();
    const r = Math.sqrt(-2 * Math.log(u1));
    out[i] = mean + std * r * Math.cos(2 * Math.PI * u2);
    if (i + 1 < out.length) out[i + 1] = mean + std * r * Math.sin(2 * Math.PI * u2);
  }
}

export function fillUniform(out: Float32Array | Float64Array, low = 0, high = 1): void {
  for (let i = 0; i < out.length; i++) out[i] = low + (high - low) * rng();
}

/** An integer in [low, high). */
export function randomInt(low: number, high: number): number {
  return low + Math.floor(rng() * (high - low));
}
