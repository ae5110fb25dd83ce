/**
 * Where the state layer reports an error thrown by a callback it runs
 * (an `onChange` listener, a subscriber's `sendEncoded`), so that one
 * faulty callback neither breaks the storage nor stops the other callbacks.
 */

/**
 * Logs `err` with `console.error`, naming the callback that threw. Chosen
 * over rethrowing in a microtask because a rethrow would crash a Node
 * process (an uncaught exception), and a server must survive user code.
 */
export function reportCallbackError(where: string, err: unknown): void {
  console.error(`koa-juggler: ${where} threw`, err);
}
