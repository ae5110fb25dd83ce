/**
 * A latency histogram kept as plain numbers: observing is a short scan of
 * the bounds and three additions (no allocation), and the cumulative
 * `_bucket` lines Prometheus wants are computed at scrape time.
 */

/** Upper bounds (seconds) for request and flush durations: 0.1 ms to 10 s. */
export const DURATION_BUCKETS: readonly number[] = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** One histogram's counts. */
export class HistogramCounts {
  /** Upper bounds, ascending; `+Inf` is implied. */
  readonly bounds: readonly number[];
  /** Observations per bucket, not cumulative; the last slot is `+Inf`. */
  readonly counts: Float64Array;
  /** Sum of all observed values. */
  sum = 0;
  /** Number of observations. */
  count = 0;

  constructor(bounds: readonly number[] = DURATION_BUCKETS) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  /** Records one value. */
  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += value;
    this.count += 1;
  }

  /** The cumulative count at each bound, then at `+Inf` (what `_bucket{le}` reports). */
  cumulative(): number[] {
    const out: number[] = [];
    let total = 0;
    for (const n of this.counts) out.push((total += n));
    return out;
  }
}
