/**
 * A small seeded random source (mulberry32). The knobs (drops, duplicates, reordering, jitter,
 * throttling) draw from it, so a run with the same seed and the same requests makes the same
 * choices. Ids are not drawn from it: they come from crypto.randomUUID.
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** True with the given probability; draws nothing when the probability is 0 or less. */
  chance(probability: number): boolean;
  /** An integer in [0, max). */
  int(max: number): number;
  /** A shuffled copy (Fisher–Yates). */
  shuffle<T>(items: readonly T[]): T[];
  readonly seed: number;
}

export function createRandom(seed: number = Date.now()): Random {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (max: number): number => Math.floor(next() * max);
  return {
    seed,
    next,
    int,
    chance: (probability) => probability > 0 && (probability >= 1 || next() < probability),
    shuffle: (items) => {
      const copy = [...items];
      for (let index = copy.length - 1; index > 0; index--) {
        const other = int(index + 1);
        [copy[index], copy[other]] = [
          copy[other] as (typeof copy)[number],
          copy[index] as (typeof copy)[number],
        ];
      }
      return copy;
    },
  };
}
