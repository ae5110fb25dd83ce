/**
 * When a state channel flushes: the `autoflushDelay` throttle. A positive
 * delay starts a timer at the first unflushed change and never pushes it
 * back (a state changing 2,000 times a second still goes out every
 * `autoflushDelay`, where a debounce would wait for a pause that never
 * comes); 0 flushes each change at once, on its own; null only on an
 * explicit flush.
 */

/**
 * The flush schedule of one channel.
 *
 * @example
 * const timer = new FlushTimer(200, () => channel.flush())
 * timer.changed()   // flush in 200 ms (a second call before then changes nothing)
 * timer.cancel()    // an explicit flush happened
 */
export class FlushTimer {
  readonly #delay: number | null;
  readonly #flush: () => void;
  #timer: ReturnType<typeof setTimeout> | null = null;

  /**
   * @param delay ms after the first unflushed change; 0 at once; null never by itself
   * @param flush what to run when it is time
   */
  constructor(delay: number | null, flush: () => void) {
    this.#delay = delay;
    this.#flush = flush;
  }

  /** A change happened: flush now (delay 0), or start the timer unless it runs already. */
  changed(): void {
    if (this.#delay === 0) this.#flush();
    else if (this.#delay !== null && this.#timer === null) {
      this.#timer = setTimeout(this.#tick, this.#delay);
      // A pending flush alone never keeps a process alive.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  /** Stops a running timer: the changes went out by other means, or the channel closes. Safe to call twice. */
  cancel(): void {
    if (this.#timer === null) return;
    clearTimeout(this.#timer);
    this.#timer = null;
  }

  readonly #tick = (): void => {
    this.#timer = null;
    this.#flush();
  };
}
