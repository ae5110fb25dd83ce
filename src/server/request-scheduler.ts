/**
 * Decides when a connection's incoming requests run: one at a time in
 * arrival order, or up to `maxInFlight` at once with `parallelRequests`.
 * Work that must wait is queued; when the queue grows past the in-flight
 * limit the socket is paused, so a client that pipelines without end meets
 * TCP backpressure instead of growing our memory.
 */

/** One unit of work: a request (with its id) or an ordered one-way message (id null). */
export interface Task {
  id: number | null;
  run(): void | PromiseLike<void>;
}

export interface SchedulerOptions {
  parallel: boolean;
  maxInFlight: number;
  /** Called with true when reading should stop, false when it may go on. */
  setPaused(paused: boolean): void;
  /** A task's run() threw or rejected: that is a bug in the runner, never the user's handler. */
  onTaskError(err: unknown): void;
}

export class RequestScheduler {
  readonly #options: SchedulerOptions;
  readonly #limit: number;
  readonly #queue: Task[] = [];
  readonly #ids = new Set<number>();
  #head = 0;
  #running = 0;
  #started = false;
  #stopped = false;
  #paused = false;
  #pumping = false;

  constructor(options: SchedulerOptions) {
    this.#options = options;
    this.#limit = options.parallel ? options.maxInFlight : 1;
  }

  /** Whether a request with this id is queued or running (ids must be unique among those). */
  has(id: number): boolean {
    return this.#ids.has(id);
  }

  /** Queues a task, running it at once if there is room. The caller checked `has(id)` first. */
  push(task: Task): void {
    if (this.#stopped) return;
    if (this.#started && this.#running < this.#limit && this.#head === this.#queue.length) {
      // Its id is recorded only if it is still running when run() returns: no other message can
      // arrive before that, and most handlers answer synchronously.
      this.#run(task, false);
      return;
    }
    if (task.id !== null) this.#ids.add(task.id);
    this.#queue.push(task);
    if (!this.#paused && this.#queue.length - this.#head > this.#options.maxInFlight) {
      this.#paused = true;
      this.#options.setPaused(true);
    }
  }

  /** Lets tasks run (the connection's onConnection has settled). */
  start(): void {
    this.#started = true;
    this.#pump();
  }

  /** Drops what waits; running tasks finish but start nothing new. */
  stop(): void {
    this.#stopped = true;
    this.#queue.length = 0;
    this.#head = 0;
    this.#ids.clear();
  }

  /** @param tracked whether the task's id is in #ids already (it was queued) */
  #run(task: Task, tracked: boolean): void {
    this.#running += 1;
    let result: void | PromiseLike<void>;
    try {
      result = task.run();
    } catch (err) {
      this.#options.onTaskError(err);
      this.#done(task, tracked);
      return;
    }
    if (result !== undefined && typeof (result as PromiseLike<void>).then === 'function') {
      if (!tracked && task.id !== null) this.#ids.add(task.id);
      (result as PromiseLike<void>).then(
        () => this.#done(task, true),
        (err) => {
          this.#options.onTaskError(err);
          this.#done(task, true);
        },
      );
    } else {
      this.#done(task, tracked);
    }
  }

  /** @param tracked whether the task's id was entered in #ids (a request answered synchronously never was) */
  #done(task: Task, tracked: boolean): void {
    this.#running -= 1;
    if (tracked && task.id !== null) this.#ids.delete(task.id);
    if (!this.#stopped) this.#pump();
  }

  #pump(): void {
    // Tasks that finish synchronously call back into #done; the outer loop
    // picks up from there instead of recursing once per queued request.
    if (!this.#started || this.#pumping) return;
    this.#pumping = true;
    try {
      this.#drain();
    } finally {
      this.#pumping = false;
    }
  }

  #drain(): void {
    while (this.#running < this.#limit && this.#head < this.#queue.length) {
      const task = this.#queue[this.#head]!;
      this.#queue[this.#head] = undefined as never;
      this.#head += 1;
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0;
        this.#head = 0;
      }
      this.#run(task, true);
      if (this.#stopped) return;
    }
    if (this.#paused && this.#queue.length - this.#head <= this.#options.maxInFlight / 2) {
      this.#paused = false;
      this.#options.setPaused(false);
    }
  }
}
