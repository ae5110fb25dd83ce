/**
 * One timer for the keepalive of many transports (docs/architecture.md,
 * "One transport for both sides"). A timer per connection cost every
 * connection a Timeout made, unref'd and cleared; the transports of one
 * server share this one instead, armed for the earliest moment any of them
 * needs looking at. Deadlines only ever move later (a frame received
 * pushes the next ping back), so the timer is never late for anyone; when
 * it comes early for some, they just say when to look again.
 */

/** A transport as its keepalive timer sees it. */
export interface KeepaliveMember {
  /**
   * Does what is due at `now` (a ping, or giving up on a silent peer).
   * @returns when it next needs looking at (ms since the epoch); Infinity once it is done
   */
  keepaliveDue(now: number): number;
}

export class KeepaliveTimer {
  readonly #members = new Set<KeepaliveMember>();
  // Walks are this far apart at least: with many members whose deadlines differ by a
  // millisecond each, walking all of them at every deadline would cost n² per period.
  readonly #spacing: number;
  #timer: ReturnType<typeof setTimeout> | null = null;
  #at = Number.POSITIVE_INFINITY;

  /**
   * @param shortest the shorter of pingDelay and pingTimeout: no ping or drop
   *   comes later than a 64th of it past its moment
   */
  constructor(shortest: number) {
    this.#spacing = Math.max(1, Math.floor(shortest / 64));
  }

  /** Members now (for tests and the shape of the walk). */
  get size(): number {
    return this.#members.size;
  }

  /** Adds a member that next needs looking at `at`. */
  add(member: KeepaliveMember, at: number): void {
    this.#members.add(member);
    if (at < this.#at) this.#arm(at);
  }

  /** Removes a member; the timer stops with the last one. */
  delete(member: KeepaliveMember): void {
    if (!this.#members.delete(member) || this.#members.size > 0) return;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    this.#at = Number.POSITIVE_INFINITY;
  }

  #arm(at: number): void {
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#at = at;
    this.#timer = setTimeout(this.#tick, Math.max(1, at - Date.now()));
    // The keepalive alone never keeps a process alive; the sockets do.
    (this.#timer as { unref?: () => void }).unref?.();
  }

  readonly #tick = (): void => {
    this.#timer = null;
    const now = Date.now();
    // setTimeout counts from the event loop's cached clock, which can lag
    // Date.now() by a millisecond or more: a tick before the deadline waits out the rest.
    if (now < this.#at) return this.#arm(this.#at);
    this.#at = Number.POSITIVE_INFINITY;
    let next = Number.POSITIVE_INFINITY;
    let walked = false;
    try {
      // A member that gives up deletes itself from the set mid-walk, which a Set allows.
      for (const member of this.#members) {
        const due = member.keepaliveDue(now);
        if (due < next) next = due;
      }
      walked = true;
    } finally {
      // A member that threw must not leave the others without a keepalive.
      if (!walked) next = now;
      const at = Math.max(next, now + this.#spacing);
      // A member added during the walk may have armed the timer already.
      if (this.#members.size > 0 && at < this.#at) this.#arm(at);
    }
  };
}
