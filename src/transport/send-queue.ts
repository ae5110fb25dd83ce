/**
 * The count of messages handed to a socket and not yet written: what
 * `sendQueueSize` bounds, what makes `notify()` wait and what holds back
 * state diffs for a slow peer.
 *
 * The plain way to count is a write callback on every message. On a server
 * answering tens of thousands of requests a second that is measurable: with
 * a callback, node's stream allocates a closure per `writev` and calls back
 * per message, where a socket that keeps up needs neither. So when the
 * socket can say how much it holds ({@link QueueSocket.bufferedAmount}),
 * a message sent to an idle socket goes without a callback, and only one
 * that did not go out at once is counted. While anything is counted, every
 * message carries a callback; since writes complete in order, the first
 * callback also accounts for the message before it that had none. If no
 * later message comes, a timer looks at the socket's buffer (5 ms, then
 * less and less often, up to once a second) until it is empty.
 *
 * Inside a batch (the server corks the socket while `ws` handles one read,
 * so the answers to all its messages leave in one write), the socket's
 * buffer fills with the batch itself until it ends: what counts is whether
 * anything was buffered when the batch began, and at its end the batch's
 * messages are counted like one message sent without a callback.
 */

/** What the queue needs of a socket. */
export interface QueueSocket {
  /** Sends one frame; `done` runs once it is written (or failed). */
  send(frame: string | Uint8Array, done?: (err?: Error) => void): void;
  /** Bytes handed over and not yet written. Without it, every message gets a callback. */
  bufferedAmount?(): number;
}

const FIRST_POLL = 5; // ms
const LAST_POLL = 1000; // ms

export class SendQueue {
  readonly #socket: QueueSocket;
  readonly #limit: number;
  readonly #onRoom: () => void;
  #queued = 0;
  // Counted messages sent without a callback: the next callback, or the poll, accounts for them.
  #untracked = 0;
  #waiters: (() => void)[] = [];
  #poll: ReturnType<typeof setTimeout> | null = null;
  #pollDelay = FIRST_POLL;
  #closed = false;
  #batching = false;
  // Whether the socket held anything when the batch began.
  #batchBehind = false;
  // Messages of the batch sent without a callback.
  #batched = 0;
  readonly #written = (): void => this.#release(1 + this.#takeUntracked());

  /**
   * @param limit messages queued before the queue counts as full
   * @param onRoom called when the queue was full and has room again
   */
  constructor(socket: QueueSocket, limit: number, onRoom: () => void) {
    this.#socket = socket;
    this.#limit = limit;
    this.#onRoom = onRoom;
  }

  /** Messages handed to the socket and not yet written. */
  get size(): number {
    return this.#queued;
  }

  /** Whether writers that can wait should. */
  get full(): boolean {
    return this.#queued >= this.#limit;
  }

  /** Sends the last (or only) frame of a message, counting the message. */
  send(frame: string | Uint8Array): void {
    const socket = this.#socket;
    if (socket.bufferedAmount === undefined || this.#queued > 0 || (this.#batching ? this.#batchBehind : socket.bufferedAmount() > 0)) {
      this.#queued += 1;
      socket.send(frame, this.#written);
      return;
    }
    socket.send(frame);
    if (this.#batching) {
      this.#batched += 1;
      return;
    }
    if (socket.bufferedAmount() === 0) return;
    this.#untrack(1);
  }

  /** What is sent until {@link SendQueue.endBatch} is held by the socket and written at once at the end. */
  beginBatch(): void {
    const socket = this.#socket;
    this.#batching = true;
    this.#batchBehind = socket.bufferedAmount !== undefined && socket.bufferedAmount() > 0;
  }

  /** The batch was handed to the socket's write: what the socket still holds of it is counted. */
  endBatch(): void {
    this.#batching = false;
    const n = this.#batched;
    if (n === 0) return;
    this.#batched = 0;
    if (this.#socket.bufferedAmount!() > 0) this.#untrack(n);
  }

  #untrack(n: number): void {
    this.#queued += n;
    this.#untracked += n;
    this.#schedulePoll();
  }

  /** Resolves once there is room (at once if there is). Writers resume in arrival order. */
  waitRoom(): Promise<void> {
    if (this.#closed || (this.#queued < this.#limit && this.#waiters.length === 0)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /** Stops the poll and releases every waiting writer. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#poll !== null) clearTimeout(this.#poll);
    this.#poll = null;
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const resolve of waiters) resolve();
  }

  #takeUntracked(): number {
    const n = this.#untracked;
    this.#untracked = 0;
    return n;
  }

  #release(n: number): void {
    if (n === 0) return;
    const before = this.#queued;
    this.#queued -= n;
    if (before >= this.#limit && this.#queued < this.#limit) {
      if (this.#waiters.length > 0) this.#wakeWriters();
      if (!this.#closed) this.#onRoom();
    } else if (this.#waiters.length > 0 && this.#queued < this.#limit) {
      this.#wakeWriters();
    }
  }

  #wakeWriters(): void {
    // As many as there is room for, keeping the order.
    let room = this.#limit - this.#queued;
    while (room > 0 && this.#waiters.length > 0) {
      this.#waiters.shift()!();
      room -= 1;
    }
  }

  #schedulePoll(): void {
    if (this.#poll !== null || this.#closed) return;
    this.#poll = setTimeout(this.#check, this.#pollDelay);
    // A pending check alone never keeps a process alive; the socket does.
    (this.#poll as { unref?: () => void }).unref?.();
  }

  readonly #check = (): void => {
    this.#poll = null;
    if (this.#closed || this.#untracked === 0) {
      this.#pollDelay = FIRST_POLL;
      return;
    }
    if (this.#socket.bufferedAmount!() === 0) {
      this.#pollDelay = FIRST_POLL;
      this.#release(this.#takeUntracked());
      return;
    }
    this.#pollDelay = Math.min(this.#pollDelay * 2, LAST_POLL);
    this.#schedulePoll();
  };
}
