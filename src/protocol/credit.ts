/**
 * Credit-based flow control for stream calls (docs/protocol.md, "Streams"),
 * both halves, shared by server and client. A sender may send one
 * `stream-data` per unit of credit; a receiver grants credit back only as
 * the application consumes items, so neither side buffers without bound.
 */
import { ProtocolError } from '../errors.js';

/** The sending half: how many items we may still send, and waiting for more. */
export class SendCredit {
  #credit: number;
  #waiters: { resolve: () => void; reject: (err: Error) => void }[] = [];
  #failure: Error | null = null;

  constructor(window: number) {
    this.#credit = window;
  }

  get available(): number {
    return this.#credit;
  }

  /** The peer granted `n` more. */
  add(n: number): void {
    this.#credit += n;
    while (this.#credit > 0 && this.#waiters.length > 0) this.#waiters.shift()!.resolve();
  }

  /**
   * Resolves once one unit of credit is ours (taken). Waiters are served in
   * order. Rejects once {@link SendCredit.fail} was called.
   */
  take(): Promise<void> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#credit > 0 && this.#waiters.length === 0) {
      this.#credit -= 1;
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      this.#waiters.push({
        resolve: () => {
          this.#credit -= 1;
          resolve();
        },
        reject,
      });
    });
  }

  /** Rejects every waiter, now and later (the call ended). */
  fail(err: Error): void {
    if (this.#failure) return;
    this.#failure = err;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w.reject(err);
  }
}

/** The receiving half: credit we granted, and when to grant more. */
export class ReceiveWindow {
  readonly #window: number;
  #outstanding: number;
  #consumed = 0;

  constructor(window: number) {
    this.#window = window;
    this.#outstanding = window;
  }

  /**
   * One item arrived.
   * @throws ProtocolError when the peer sent beyond the credit it had
   */
  received(id: number): void {
    if (this.#outstanding <= 0) throw new ProtocolError(`stream ${id}: data beyond the granted credit`);
    this.#outstanding -= 1;
  }

  /**
   * The application consumed one item. Returns how much credit to grant now
   * (0 to wait): credit goes back in batches of half the window, so a fast
   * consumer costs one `stream-credit` per half window, not one per item.
   */
  consumed(): number {
    this.#consumed += 1;
    if (this.#consumed * 2 < this.#window && this.#outstanding > 0) return 0;
    const grant = this.#consumed;
    this.#consumed = 0;
    this.#outstanding += grant;
    return grant;
  }
}
