/**
 * The client's requests in flight: one entry per id, each settled exactly
 * once, by its response, its own timeout, or the connection's end.
 */
import { JugglerError, TimeoutError } from '../errors.js';
import type { JsonValue } from '../json.js';

interface Entry {
  name: string;
  resolve(data: JsonValue): void;
  reject(err: Error): void;
  timer: ReturnType<typeof setTimeout> | null;
}

/** The table of requests awaiting a response, keyed by id. Stream calls take their ids from the same counter ({@link PendingRequests.nextId}). */
export class PendingRequests {
  readonly #entries = new Map<number, Entry>();
  // Ids only grow (until 2^53), so a late response to a timed-out request
  // can never be taken for the answer to a newer one.
  #nextId = 1;

  /** Reserves the next id. */
  nextId(): number {
    return this.#nextId++;
  }

  /**
   * Awaits the answer to request `id`.
   * @param timeout ms after which it rejects with TimeoutError and forgets the id; null for none
   */
  add(id: number, name: string, timeout: number | null): Promise<JsonValue> {
    return new Promise<JsonValue>((resolve, reject) => {
      const entry: Entry = { name, resolve, reject, timer: null };
      if (timeout !== null) {
        entry.timer = setTimeout(() => {
          this.#entries.delete(id);
          reject(new TimeoutError(`request ${JSON.stringify(name)} got no response within ${timeout} ms`));
        }, timeout);
      }
      this.#entries.set(id, entry);
    });
  }

  /** Settles request `id` with a response. @returns false when no such request waits (it timed out, or never was) */
  settle(id: number, success: boolean, data: JsonValue): boolean {
    const entry = this.#take(id);
    if (entry === undefined) return false;
    if (success) entry.resolve(data);
    else entry.reject(new JugglerError(data));
    return true;
  }

  /** Fails request `id` alone (e.g. it could not be sent). */
  fail(id: number, err: Error): void {
    this.#take(id)?.reject(err);
  }

  /** Fails every request in flight with `err` and clears their timers. */
  failAll(err: Error): void {
    const entries = [...this.#entries.values()];
    this.#entries.clear();
    for (const entry of entries) {
      if (entry.timer !== null) clearTimeout(entry.timer);
      entry.reject(err);
    }
  }

  #take(id: number): Entry | undefined {
    const entry = this.#entries.get(id);
    if (entry === undefined) return undefined;
    this.#entries.delete(id);
    if (entry.timer !== null) clearTimeout(entry.timer);
    return entry;
  }
}
