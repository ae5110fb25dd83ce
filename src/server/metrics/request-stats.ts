/**
 * Per-request-name counters for the metrics: how many, how many failed and
 * how long they took. Request names come from clients, so only the first
 * {@link MAX_REQUEST_NAMES} distinct ones get a label of their own; the
 * rest are counted together as `"other"`, which keeps the series (and the
 * memory) bounded whatever clients send.
 */
import { HistogramCounts } from './histogram-counts.js';

/** Distinct request names that get a label of their own. */
export const MAX_REQUEST_NAMES = 100;

/** The label of the names past {@link MAX_REQUEST_NAMES}. */
export const OTHER_NAME = 'other';

/** One request name's counters. */
export class RequestStats {
  /** Requests answered, failed or not. */
  count = 0;
  /** Requests answered with a failure. */
  failures = 0;
  /** Seconds from receipt (after any wait in the scheduler) to the answer. */
  readonly duration = new HistogramCounts();

  /** Records one answered request. */
  record(seconds: number, success: boolean): void {
    this.count += 1;
    if (!success) this.failures += 1;
    this.duration.observe(seconds);
  }
}

/** The counters of every request name, bounded. */
export class RequestMetrics {
  readonly #byName = new Map<string, RequestStats>();
  readonly #limit: number;
  #other: RequestStats | null = null;

  constructor(limit = MAX_REQUEST_NAMES) {
    this.#limit = limit;
  }

  /** The counters for `name` (a Map lookup on the hot path; a new name allocates once). */
  of(name: string): RequestStats {
    let stats = this.#byName.get(name);
    if (stats !== undefined) return stats;
    // A request really named "other" shares the overflow's series rather than duplicating its label.
    if (this.#byName.size >= this.#limit || name === OTHER_NAME) return (this.#other ??= new RequestStats());
    stats = new RequestStats();
    this.#byName.set(name, stats);
    return stats;
  }

  /** Every label with its counters, `"other"` last. */
  *entries(): IterableIterator<[string, RequestStats]> {
    yield* this.#byName;
    if (this.#other !== null) yield [OTHER_NAME, this.#other];
  }
}
