/**
 * `conn.remote`: where a connection comes from. Behind a reverse proxy the
 * socket address is the proxy's, so the proxy's headers are read: the
 * *last* entry, the one the proxy closest to us appended (Koa's `ctx.ip`
 * takes the first, which any client can forge).
 */
import type { IncomingMessage } from 'node:http';

/** All values of a header in arrival order, from Node's rawHeaders (which keeps repeats apart). */
function headerValues(rawHeaders: readonly string[], name: string): string[] {
  const values: string[] = [];
  for (let i = 0; i < rawHeaders.length; i += 2) {
    if (rawHeaders[i]!.toLowerCase() === name) values.push(rawHeaders[i + 1]!);
  }
  return values;
}

/** Splits on commas outside double quotes (RFC 7239 allows quoted strings). */
function splitOutsideQuotes(value: string, separator: string): string[] {
  const parts: string[] = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (c === '"' && value[i - 1] !== '\\') quoted = !quoted;
    else if (c === separator && !quoted) {
      parts.push(value.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(value.slice(start));
  return parts;
}

function unquote(value: string): string {
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) {
    return value.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return value;
}

/** The `for` parameter of the last element of the last Forwarded header, or null. */
export function forwardedFor(rawHeaders: readonly string[]): string | null {
  const headers = headerValues(rawHeaders, 'forwarded');
  if (headers.length === 0) return null;
  const elements = splitOutsideQuotes(headers[headers.length - 1]!, ',');
  const last = elements[elements.length - 1]!;
  for (const pair of splitOutsideQuotes(last, ';')) {
    const eq = pair.indexOf('=');
    if (eq > 0 && pair.slice(0, eq).trim().toLowerCase() === 'for') {
      const value = unquote(pair.slice(eq + 1).trim());
      return value.length > 0 ? value : null;
    }
  }
  return null;
}

/** The last entry of a single X-Forwarded-For header, or null (none, or several headers). */
export function xForwardedFor(rawHeaders: readonly string[]): string | null {
  const headers = headerValues(rawHeaders, 'x-forwarded-for');
  if (headers.length !== 1) return null;
  const entries = headers[0]!.split(',');
  const last = entries[entries.length - 1]!.trim();
  return last.length > 0 ? last : null;
}

/**
 * The remote address of an upgrade request (README, "Connections": `conn.remote`).
 * @param trustProxy read Forwarded / X-Forwarded-For (only safe behind a proxy that sets them)
 */
export function remoteAddress(req: Pick<IncomingMessage, 'headers' | 'rawHeaders' | 'socket'>, trustProxy: boolean): string {
  // The parsed headers (which the upgrade reads anyway) say at once whether there is anything
  // to look for: most requests carry neither header, and the raw walk is then skipped.
  if (trustProxy && (req.headers.forwarded !== undefined || req.headers['x-forwarded-for'] !== undefined)) {
    const forwarded = forwardedFor(req.rawHeaders) ?? xForwardedFor(req.rawHeaders);
    if (forwarded !== null) return forwarded;
  }
  // Read only when no header answered: it is a getpeername call and an object per connection.
  return req.socket.remoteAddress ?? '';
}
