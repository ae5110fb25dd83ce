/**
 * An asynchronous, replicated log in memory, standing in for the Redis one
 * of the cluster: entries are appended to one shared stream and applied by
 * every node when read back (a microtask later), its own node included, in
 * stream order. `submit()` resolves once the submitting node has applied
 * the entry, with the outcome per write. Versions are `<epoch>.<sequence>`
 * (the stream's, not a node's), mapped to each node's change-record
 * positions as it applies entries.
 */
import type { JsonValue } from '../../../src/json.js';
import type { EntryOutcome, LogSnapshot, LogTarget, StateEntry, StateLog, VersionScheme } from '../../../src/state/state-log.js';

/** The shared stream several {@link MemoryLog}s read. */
export class MemoryStream {
  readonly epoch = 'e1';
  readonly entries: StateEntry[] = [];
  readonly #nodes: MemoryLog[] = [];
  #scheduled = false;

  /** A node's log on this stream, starting from `initial` at sequence 0. */
  node(initial: JsonValue = null): MemoryLog {
    const log = new MemoryLog(this, initial);
    this.#nodes.push(log);
    return log;
  }

  /** Appends an entry; every node reads it back a microtask later. @returns its sequence number (1-based) */
  append(entry: StateEntry): number {
    this.entries.push(structuredClone(entry));
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(() => {
        this.#scheduled = false;
        for (const node of this.#nodes) node.readBack();
      });
    }
    return this.entries.length;
  }
}

/** One node's view of a {@link MemoryStream}. */
export class MemoryLog implements StateLog<Promise<EntryOutcome>> {
  readonly versions: VersionScheme;
  readonly #stream: MemoryStream;
  #initial: JsonValue;
  #target: LogTarget | null = null;
  // Entries applied: the sequence number of the last one.
  #applied = 0;
  readonly #positionOf = new Map<number, number>();
  readonly #sequenceAt = new Map<number, number>();
  readonly #waiting = new Map<number, (outcome: EntryOutcome) => void>();

  constructor(stream: MemoryStream, initial: JsonValue) {
    this.#stream = stream;
    this.#initial = initial;
    const epoch = stream.epoch;
    this.versions = {
      format: (position) => `${epoch}.${this.#sequenceAt.get(position)!}`,
      parse: (version) => {
        const [e, digits] = version.split('.');
        if (e !== epoch || digits === undefined || String(Number(digits)) !== digits) return undefined;
        return this.#positionOf.get(Number(digits));
      },
    };
  }

  open(target: LogTarget): LogSnapshot {
    this.#target = target;
    const value = this.#initial;
    this.#initial = null;
    this.#positionOf.set(0, 0);
    this.#sequenceAt.set(0, 0);
    return { value, position: 0 };
  }

  submit(entry: StateEntry): Promise<EntryOutcome> {
    const sequence = this.#stream.append(entry);
    return new Promise((resolve) => this.#waiting.set(sequence, resolve));
  }

  /** Applies every entry of the stream this node has not applied yet, in order. */
  readBack(): void {
    const entries = this.#stream.entries;
    while (this.#applied < entries.length) {
      const sequence = this.#applied + 1;
      // Each node reads its own copy, as each parses its own from Redis: a storage adopts
      // written values, so a shared entry would let one node's later writes show up in another's value.
      const outcome = this.#target!.apply(structuredClone(entries[sequence - 1]!));
      this.#applied = sequence;
      this.#note(sequence);
      const resolve = this.#waiting.get(sequence);
      this.#waiting.delete(sequence);
      resolve?.(outcome);
    }
  }

  #note(sequence: number): void {
    const position = this.#target!.position;
    // An entry that changed nothing leaves the position where it was: the later sequence names it.
    this.#positionOf.set(sequence, position);
    this.#sequenceAt.set(position, sequence);
  }
}
