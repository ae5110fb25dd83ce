/**
 * `maxBufferedBytes`: one bound on the partial incoming messages of all
 * connections together (docs/security.md, "Memory"). `maxMessageSize`
 * bounds one connection; without this, 10,000 connections each holding a
 * half-sent message could hold 10,000 times that. Kept cheap: each
 * connection updates its own count and the server-wide total as bytes
 * arrive and messages complete; the largest holder is looked for only
 * when the total is over the bound.
 */
/** What the budget sees of one connection's incoming bytes. */
export interface BufferHolder {
  /** Bytes this connection holds of messages not yet complete. */
  readonly held: number;
  /** Closes the connection for holding too much (1009; a second time, destroys it). */
  evict(): void;
}

/**
 * The server-wide total of bytes held for incomplete incoming messages.
 *
 * @example
 * const budget = new BufferBudget(256 * 1024 * 1024, () => meters());
 * budget.add(chunk.length); // may evict the largest holder
 */
export class BufferBudget {
  /** The bound, in bytes. */
  readonly limit: number;
  readonly #holders: () => Iterable<BufferHolder>;
  #total = 0;

  /**
   * @param limit bytes of partial messages all connections may hold together
   * @param holders every connection's holder (walked only when the total is over `limit`)
   */
  constructor(limit: number, holders: () => Iterable<BufferHolder>) {
    this.limit = limit;
    this.#holders = holders;
  }

  /** Bytes held now by all connections together. */
  get total(): number {
    return this.#total;
  }

  /** Changes the total; past the bound, evicts the largest holders until what stays is within it. */
  add(delta: number): void {
    this.#total += delta;
    if (delta > 0 && this.#total > this.limit) this.#evict();
  }

  #evict(): void {
    // What an evicted connection holds is released when its socket closes, a little
    // later: count it as gone now, or one burst would close every connection.
    let projected = this.#total;
    const evicted = new Set<BufferHolder>();
    while (projected > this.limit) {
      let largest: BufferHolder | null = null;
      for (const holder of this.#holders()) {
        if (!evicted.has(holder) && holder.held > 0 && (largest === null || holder.held > largest.held)) largest = holder;
      }
      if (largest === null) return;
      evicted.add(largest);
      projected -= largest.held;
      largest.evict();
    }
  }
}

/** Bytes of one client frame on the wire: header, length and the mask every client frame carries. */
function wireSize(payloadBytes: number): number {
  return payloadBytes + 6 + (payloadBytes > 65535 ? 8 : payloadBytes > 125 ? 2 : 0);
}

/**
 * One connection's part of the budget: the bytes of a frame `ws` is still
 * receiving (counted as they are read from the socket, before `ws` buffers
 * them: socket-reads.ts) plus the segments the transport holds of a
 * message not yet complete.
 */
export class IncomingBytes implements BufferHolder {
  readonly #budget: BufferBudget;
  readonly #evict: () => void;
  // Bytes read from the socket that no completed frame has accounted for yet.
  #wire = 0;
  #segments = 0;
  #released = false;

  /** @param evict closes the connection (1009), or destroys it when already closing */
  constructor(budget: BufferBudget, evict: () => void) {
    this.#budget = budget;
    this.#evict = evict;
  }

  get held(): number {
    return this.#wire + this.#segments;
  }

  evict(): void {
    this.#evict();
  }

  /** `bytes` were read from the socket; past the bound this may evict (this connection or another). */
  received(bytes: number): void {
    if (this.#released) return;
    this.#wire += bytes;
    this.#budget.add(bytes);
  }

  /**
   * A frame of `payloadBytes` completed; the transport now holds
   * `segmentBytes` of a message still incomplete (0 once it is whole).
   */
  frameDone(payloadBytes: number, segmentBytes: number): void {
    if (this.#released) return;
    // With ws-level fragments or compression the wire size is a guess: never below zero.
    const wire = Math.max(0, this.#wire - wireSize(payloadBytes));
    const delta = wire - this.#wire + segmentBytes - this.#segments;
    this.#wire = wire;
    this.#segments = segmentBytes;
    if (delta !== 0) this.#budget.add(delta);
  }

  /** The connection is closing: the transport dropped its segments. */
  dropSegments(): void {
    if (this.#released || this.#segments === 0) return;
    this.#budget.add(-this.#segments);
    this.#segments = 0;
  }

  /** The connection is gone: everything it held is released. */
  release(): void {
    if (this.#released) return;
    this.#released = true;
    this.#budget.add(-this.held);
    this.#wire = 0;
    this.#segments = 0;
  }
}
