/**
 * The Basic auth challenge and raw HTTP refusals for the upgrade path.
 *
 * A refused WebSocket upgrade must be answered before `ws` sees it, as a
 * plain HTTP response written on the socket (there is no Koa context
 * there). The HTTP middleware and the upgrade guard share the realm and
 * header value from here, so a browser sees one protection space.
 */
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { InvalidArgumentError } from '../../errors.js';

/** The Basic auth realm: browsers key stored credentials by it. */
export const REALM = 'koa-juggler';

/**
 * The `WWW-Authenticate` value sent with every 401. `charset="UTF-8"`
 * (RFC 7617) asks browsers to send non-ASCII user names and passwords as
 * UTF-8, which is how they are decoded and how htpasswd hashed them.
 */
export const WWW_AUTHENTICATE = `Basic realm="${REALM}", charset="UTF-8"`;

// Header names are tokens; values may not break out of their line.
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const UNSAFE_VALUE = /[\r\n\0]/;

/**
 * Answers an upgrade request with a plain HTTP response and closes the
 * socket, for refusals that happen before the WebSocket handshake (401, 403,
 * 503, 400, 426...).
 *
 * Writes the status line, `Connection: close`, a `text/plain` body (the
 * status text unless `body` is given) with its `Content-Length`, and the
 * extra `headers`; then ends the socket and destroys it once the response
 * is flushed. Safe on a socket that is already closed, and swallows socket
 * errors from a peer that went away (nobody else listens at that point).
 *
 * @throws {InvalidArgumentError} for a `status` outside 100–999 or a header
 *   name or value that could split the response (CR, LF, NUL).
 * @example
 * server.on('upgrade', (req, socket) => {
 *   rejectUpgrade(socket, 403, {}, 'origin not allowed')
 * })
 */
export function rejectUpgrade(
  socket: Duplex,
  status: number,
  headers: Readonly<Record<string, string | number>> = {},
  body?: string,
): void {
  if (!Number.isInteger(status) || status < 100 || status > 999) {
    throw new InvalidArgumentError('status', 'an HTTP status code (100–999)', status);
  }
  const reason = STATUS_CODES[status] ?? 'Unknown';
  const text = body ?? reason;
  const lines = [
    `HTTP/1.1 ${status} ${reason}`,
    'Connection: close',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${Buffer.byteLength(text)}`,
  ];
  for (const [name, value] of Object.entries(headers)) {
    const v = String(value);
    if (!TOKEN.test(name)) throw new InvalidArgumentError(`headers[${JSON.stringify(name)}]`, 'a header name', name);
    if (UNSAFE_VALUE.test(v)) {
      throw new InvalidArgumentError(`headers[${JSON.stringify(name)}]`, 'a value without CR, LF or NUL');
    }
    lines.push(`${name}: ${v}`);
  }
  const response = `${lines.join('\r\n')}\r\n\r\n${text}`;

  // The peer may reset as soon as it reads the status; that error is expected.
  socket.on('error', () => {});
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  // end() then destroy on 'finish': destroying right after write() could drop
  // the response before it reaches the kernel.
  socket.once('finish', () => socket.destroy());
  socket.end(response);
}

/**
 * Refuses an upgrade with 401 and the Basic challenge: missing or wrong
 * credentials.
 *
 * @example
 * if ((await authenticate(req)) === null) return rejectUnauthorized(socket)
 */
export function rejectUnauthorized(socket: Duplex, body = 'authentication required'): void {
  rejectUpgrade(socket, 401, { 'WWW-Authenticate': WWW_AUTHENTICATE }, body);
}
