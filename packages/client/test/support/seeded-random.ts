/**
 * Deterministic pseudo-random numbers for property tests and benchmarks.
 *
 * Contract: the same seed always yields the same sequence (sfc32, a small fast generator with a 128-bit
 * state, seeded through splitmix32 so nearby seeds give unrelated streams). Tests take the seed from
 * `WXSTREAM_SEED` when set, so a failure printed with its seed can be replayed exactly.
 */

export interface SeededRandom {
  readonly seed: number;
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [0, bound). */
  int(bound: number): number;
  /** Uniform integer in [min, max]. */
  range(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(probability: number): boolean;
}

export function createSeededRandom(seed: number): SeededRandom {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) | 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  const nextUint32 = (): number => {
    let t = (a + b) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    d = (d + 1) | 0;
    t = (t + d) | 0;
    c = (c + t) | 0;
    return t >>> 0;
  };
  const next = (): number => nextUint32() / 4294967296;
  const int = (bound: number): number => Math.floor(next() * bound);
  return {
    seed: seed >>> 0,
    next,
    int,
    range: (min, max) => min + int(max - min + 1),
    pick<T>(items: readonly T[]): T {
      if (items.length === 0) throw new RangeError('pick from an empty list');
      return items[int(items.length)] as T;
    },
    chance: (probability) => next() < probability,
  };
}

/** The seed for a property test: `WXSTREAM_SEED` when given (to replay a failure), else `fallback`. */
export function testSeed(fallback: number): number {
  const fromEnv = process.env.WXSTREAM_SEED;
  if (fromEnv === undefined || fromEnv === '') return fallback;
  const parsed = Number(fromEnv);
  if (!Number.isInteger(parsed)) throw new Error(`WXSTREAM_SEED must be an integer, got "${fromEnv}"`);
  return parsed;
}
