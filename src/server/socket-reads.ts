/**
 * One `data` listener on an upgraded socket, in place of the one `ws`
 * adds: it counts the bytes read (what `maxBufferedBytes` bounds) and hands
 * the read to `ws` with the socket corked, so the answers to every message
 * of one read leave in one write (docs/architecture.md, "One transport for
 * both sides").
 *
 * A second listener would do the counting too, but then every read copies
 * the socket's listener array; and with 50 clients pipelining requests,
 * most of the server's time is the `writev` system calls, one per message
 * without the cork.
 */
import type { Duplex } from 'node:stream';

/** What happens around each read of the socket. */
export interface ReadHooks {
  /** `bytes` were read from the socket (before `ws` sees them). */
  received(bytes: number): void;
  /** `ws` is about to parse a read: what is sent until {@link ReadHooks.end} leaves in one write. */
  begin(): void;
  /** `ws` has handled the read and the socket is uncorked. */
  end(): void;
}

type DataListener = ((chunk: Buffer) => void) & { listener?: unknown };

/**
 * Takes over the socket's reads from `ws`'s own listener (which must be the
 * only `data` listener; otherwise the bytes are counted by a listener of
 * their own, without the cork). `ws` still removes it by its own listener's
 * name (the way `once` wrappers are removed), so it stops exactly when `ws`
 * stops reading.
 * @returns a function that stops the counting (the reads go on while `ws` wants them)
 */
export function takeOverReads(socket: Duplex, hooks: ReadHooks): () => void {
  const listeners = socket.rawListeners('data') as DataListener[];
  const theirs = listeners.length === 1 && listeners[0]!.listener === undefined ? listeners[0]! : null;
  let counting = true;
  if (theirs === null) {
    const count = (chunk: Buffer): void => {
      if (counting) hooks.received(chunk.length);
    };
    socket.prependListener('data', count);
    return () => {
      counting = false;
      socket.off('data', count);
    };
  }
  const read: DataListener = function (this: Duplex, chunk: Buffer): void {
    if (counting) hooks.received(chunk.length);
    hooks.begin();
    socket.cork();
    try {
      theirs.call(this, chunk);
    } finally {
      socket.uncork();
      hooks.end();
    }
  };
  read.listener = theirs;
  socket.removeListener('data', theirs);
  socket.on('data', read);
  return () => {
    counting = false;
  };
}
