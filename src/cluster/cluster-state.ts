/**
 * `cluster.state`: a {@link Storage} whose writes travel through the
 * cluster's log. Reading is Storage's (`data`, `get`, `onChange`), showing
 * the value as of the last entry this node applied; `set()` and `remove()`
 * check their arguments at once and return a promise settled once this
 * node applied the change (see docs/cluster.md, "One log, applied in order
 * everywhere").
 */
import type { JsonValue } from '../json.js';
import { adoptValue } from '../state/adopt-value.js';
import { UNTRACKED } from '../state/json-node.js';
import { normalizePath, type Path } from '../state/path.js';
import { openOn, Storage, type StorageOptions } from '../state/storage.js';
import type { ClusterLog } from './cluster-log.js';

/**
 * The replicated state of a cluster node.
 *
 * @example
 * await cluster.state.set(['points', 'p1'], { value: 3 });
 * cluster.state.get(['points', 'p1', 'value']); // 3, on every node once applied there
 */
export class ClusterState extends Storage {
  readonly #log: ClusterLog;
  readonly #onError: (err: unknown) => void;

  /** @internal made by redisCluster() */
  constructor(log: ClusterLog, onError: (err: unknown) => void, options: StorageOptions = {}) {
    super(openOn(log), options);
    this.#log = log;
    this.#onError = onError;
  }

  /**
   * Puts `value` at `path` by Storage's rules, through the log. The value
   * is checked now; it shows in `data` and `get()` once this node applied
   * the entry (after `await`).
   *
   * @returns a promise resolved once this node applied the change
   * @throws InvalidArgumentError (synchronously) for an invalid path or a value that is not JSON;
   *   (rejection) naming the path when the write could not apply at its place in the log
   *   (e.g. a string step into what is by then an array)
   * @throws ClusterUnavailableError (rejection) when Redis did not take the write within
   *   `writeTimeout`, or `maxPendingWrites` writes already wait
   */
  override set(path: Path, value: JsonValue): Promise<void> {
    const segments = normalizePath(path);
    // The same check a local set() makes; the value is copied through JSON, so ownership is not tracked
    // (a WeakSet per write only to throw it away showed in the writer's GC).
    adoptValue(value, UNTRACKED, 'value');
    return this.#log.write({ kind: 'set', path: segments, value }, this.#onError);
  }

  /**
   * Removes what is at `path`, through the log (a missing path is a no-op).
   * @returns a promise resolved once this node applied the change
   * @throws InvalidArgumentError (synchronously) for an invalid path
   * @throws ClusterUnavailableError (rejection) as for {@link ClusterState.set}
   */
  override remove(path: Path): Promise<void> {
    const segments = normalizePath(path);
    return this.#log.write({ kind: 'remove', path: segments }, this.#onError);
  }

  /** Resolves once every write this node made so far is applied or has failed (never rejects). */
  settled(): Promise<void> {
    return this.#log.settled();
  }

}
