/**
 * Idempotent retry (docs/protocol.md, "Idempotent retry"): per session, the
 * outcome of each keyed request, so a repeat of the key gets the first
 * result (waiting for it while it runs) instead of running the handler
 * again. Bounded in count and age.
 */
import type { KeyedOutcomes } from './session-backend.js';

/** What a request came to: the `success` and `data` of its response. */
export interface Outcome {
  success: boolean;
  data: unknown;
}

interface Entry {
  outcome: Promise<Outcome>;
  /** When the outcome settled (ms), or null while the handler runs. */
  settledAt: number | null;
}

/** At least this many keys are remembered per session (docs/protocol.md, "Idempotent retry"). */
export const MIN_REMEMBERED_KEYS = 1024;

/**
 * One session's keyed outcomes in memory ({@link KeyedOutcomes} of the
 * in-memory session store).
 *
 * @example
 * const outcome = await keyed.once('r-8f2c', () => run(request));
 */
export class KeyedResults implements KeyedOutcomes {
  readonly #entries = new Map<string, Entry>();
  readonly #maxKeys: number;
  readonly #ttl: number;
  #settled = 0;

  /**
   * @param ttl how long a key is remembered after its result (at least the session timeout)
   * @param maxKeys how many settled keys are kept; the oldest go first
   */
  constructor(ttl: number, maxKeys = MIN_REMEMBERED_KEYS) {
    this.#ttl = ttl;
    this.#maxKeys = maxKeys;
  }

  /** See {@link KeyedOutcomes.once}: the remembered outcome, or `run()`'s, remembered. */
  once(key: string, run: () => Outcome | Promise<Outcome>): Promise<Outcome> {
    let outcome = this.get(key);
    if (outcome === undefined) {
      outcome = Promise.resolve(run());
      this.remember(key, outcome);
    }
    return outcome;
  }

  /** The outcome of an earlier request with this key, if still remembered. */
  get(key: string): Promise<Outcome> | undefined {
    this.#expire();
    return this.#entries.get(key)?.outcome;
  }

  /** Records a new keyed request's outcome (a promise that never rejects). */
  remember(key: string, outcome: Promise<Outcome>): void {
    const entry: Entry = { outcome, settledAt: null };
    this.#entries.set(key, entry);
    void outcome.then(() => {
      entry.settledAt = Date.now();
      this.#settled += 1;
      // Re-insert so that Map order is settle order: the front is always the oldest result.
      if (this.#entries.get(key) === entry) {
        this.#entries.delete(key);
        this.#entries.set(key, entry);
      }
      this.#expire();
    });
  }

  #expire(): void {
    const now = Date.now();
    // Settled entries sit in settle order after any still running near the
    // front; stop at the first one that may stay.
    for (const [key, entry] of this.#entries) {
      if (entry.settledAt === null) continue;
      if (this.#settled <= this.#maxKeys && now - entry.settledAt < this.#ttl) break;
      this.#entries.delete(key);
      this.#settled -= 1;
    }
  }
}
