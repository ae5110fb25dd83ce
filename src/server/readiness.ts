/**
 * What `GET /readyz` answers: ready unless the server drains, and whatever
 * the checks added by other parts say (the cluster wiring adds one: not
 * ready before the node holds the state; ready but `{"cluster":"down"}`
 * while Redis is down, since the node still serves).
 */
import type { JsonValue } from '../json.js';

/** One check's verdict: whether the node may take traffic, and details for the answer's body. */
export interface ReadinessVerdict {
  ready: boolean;
  /** Merged into the body of `/readyz`, e.g. `{ cluster: 'down' }`. */
  details?: Record<string, JsonValue>;
}

/** A check run on every `/readyz` (keep it cheap: load balancers poll). */
export type ReadinessCheck = () => ReadinessVerdict;

/** The body of `/readyz`: `ready` and the details of every check. */
export interface ReadinessReport {
  /** Whether this node may take traffic: `/readyz` answers 200 when true, else 503. */
  ready: boolean;
  /** The details the checks add, e.g. `draining: true` or `cluster: 'down'`. */
  [detail: string]: JsonValue;
}

/**
 * The readiness checks of one server.
 * @example
 * const readiness = new Readiness(() => draining);
 * const remove = readiness.add(() => ({ ready: cluster.holdsState }));
 * readiness.report(); // { ready: false }
 */
export class Readiness {
  readonly #draining: () => boolean;
  readonly #checks = new Set<ReadinessCheck>();

  constructor(draining: () => boolean) {
    this.#draining = draining;
  }

  /** Adds a check; returns the function that removes it. */
  add(check: ReadinessCheck): () => void {
    this.#checks.add(check);
    return () => void this.#checks.delete(check);
  }

  /** Runs every check: ready only when none says otherwise and the server is not draining. A check that throws counts as not ready. */
  report(): ReadinessReport {
    const report: ReadinessReport = { ready: true };
    if (this.#draining()) Object.assign(report, { ready: false, draining: true });
    for (const check of this.#checks) {
      let verdict: ReadinessVerdict;
      try {
        verdict = check();
      } catch (err) {
        verdict = { ready: false, details: { error: err instanceof Error ? err.message : String(err) } };
      }
      Object.assign(report, verdict.details);
      if (!verdict.ready) report.ready = false;
    }
    return report;
  }
}
