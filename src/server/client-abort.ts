/**
 * Telling a client that went away from a server fault: a browser that
 * leaves a page or cancels a download mid-way makes the response fail
 * (`write ECONNRESET`, `Premature close`, EPIPE). That is the client's
 * choice, not an error worth a log line.
 */
import type { IncomingMessage } from 'node:http';

/** The codes a response to a client that closed its connection fails with. */
const ABORT_CODES: ReadonlySet<string> = new Set(['ERR_STREAM_PREMATURE_CLOSE', 'ECONNRESET', 'EPIPE', 'ECONNABORTED']);

/**
 * Whether `err`, raised while answering `ctx`, only says that the client
 * closed its connection. The same codes from the application's side (a
 * response body streamed from an upstream that reset, a failed fetch) are
 * real errors: the client's socket must be gone, and the error must not be
 * the one the response body failed with.
 */
export function isClientAbort(err: Error & { code?: unknown }, ctx?: { req: IncomingMessage; body?: unknown }): boolean {
  if (typeof err.code !== 'string' || !ABORT_CODES.has(err.code) || ctx === undefined) return false;
  if (!ctx.req.socket.destroyed) return false;
  const body = ctx.body as { errored?: unknown } | null | undefined;
  return body?.errored !== err;
}
