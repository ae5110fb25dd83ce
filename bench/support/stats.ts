/** Clocks and small statistics shared by the benchmarks. */

/**
 * Milliseconds on the monotonic clock (CLOCK_MONOTONIC on Linux), which is
 * the same for every process on the machine: a time taken in a client
 * process can be compared with one taken in the server process.
 */
export function now(): number {
  return Number(process.hrtime.bigint()) / 1e6;
}

export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Paired samples of ours and the reference, taken in alternating rounds.
 * The ratio is the median of the per-round ratios, so a slow phase of the
 * machine (other people's tests) affects both sides of a pair alike.
 */
export class Paired {
  readonly ours: number[] = [];
  readonly ref: number[] = [];

  add(ours: number, ref: number): void {
    this.ours.push(ours);
    this.ref.push(ref);
  }

  get size(): number {
    return this.ours.length;
  }

  summary(): { ours: number; ref: number; ratio: number } {
    const ratios = this.ours.map((o, i) => o / this.ref[i]!);
    return { ours: median(this.ours), ref: median(this.ref), ratio: median(ratios) };
  }
}

/** Waits for `promise` with a time limit; the error names what took too long. */
export async function bounded<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took more than ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The tests' PRNG (mulberry32), so ours and the reference see the same "random" sequence. */
export { prng } from '../../test/support/prng.js';
