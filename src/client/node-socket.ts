/**
 * The socket opener for Node, over `ws`: Basic credentials and TLS options
 * on the upgrade, a frame-size cap from `maxMessageSize`, and handshake
 * failures told apart (refused, HTTP status, TLS, handshake).
 */
import type { IncomingMessage } from 'node:http';
import WebSocket from 'ws';
import { ConnectError, ProtocolError } from '../errors.js';
import { CLOSE_INVALID_PAYLOAD, CLOSE_MESSAGE_TOO_BIG } from '../transport/close-codes.js';
import { abortError, SocketEvents, type ClientSocket, type OpenSocket } from './socket.js';

// ws caps one frame's payload; a frame holds at most one message's bytes plus its one-character header.
const HEADER_BYTES = 1;

// Certificate verification failures as Node reports them (OpenSSL X509_V_ERR_* names), plus EPROTO for a failed negotiation.
const TLS_CODES = new Set([
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_CRL',
  'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECRYPT_CRL_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY',
  'CERT_SIGNATURE_FAILURE',
  'CRL_SIGNATURE_FAILURE',
  'CERT_NOT_YET_VALID',
  'CERT_HAS_EXPIRED',
  'CRL_NOT_YET_VALID',
  'CRL_HAS_EXPIRED',
  'ERROR_IN_CERT_NOT_BEFORE_FIELD',
  'ERROR_IN_CERT_NOT_AFTER_FIELD',
  'ERROR_IN_CRL_LAST_UPDATE_FIELD',
  'ERROR_IN_CRL_NEXT_UPDATE_FIELD',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'CERT_CHAIN_TOO_LONG',
  'CERT_REVOKED',
  'INVALID_CA',
  'PATH_LENGTH_EXCEEDED',
  'INVALID_PURPOSE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'HOSTNAME_MISMATCH',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'EPROTO',
]);

const STATUS_HINTS: Record<number, string> = {
  400: ' (not a WebSocket endpoint?)',
  401: ' (authentication required or credentials refused)',
  403: ' (forbidden: credentials or Origin not allowed)',
  404: ' (no WebSocket endpoint at this path)',
  426: ' (not a WebSocket endpoint at this path?)',
  503: ' (server busy or at its connection limit)',
};

/** Opens a `ws` WebSocket for the client. See {@link OpenSocket}. */
export const openNodeSocket: OpenSocket = (url, options, signal) =>
  new Promise<ClientSocket>((resolve, reject) => {
    if (signal.aborted) {
      reject(abortError(signal, url));
      return;
    }
    const headers: Record<string, string> = {};
    if (options.auth !== null) {
      const { username, password } = options.auth;
      headers.authorization = 'Basic ' + Buffer.from(`${username}:${password}`, 'utf8').toString('base64');
    }
    let ws: WebSocket;
    try {
      ws = new WebSocket(url, [...options.protocols], {
        headers,
        maxPayload: options.maxMessageSize + HEADER_BYTES,
        followRedirects: false,
        // ws offers permessage-deflate unless told not to; ours is off unless asked for.
        perMessageDeflate: options.compression === null ? false : { threshold: options.compression.threshold },
        ...(options.tls as object | null),
      });
    } catch (err) {
      reject(new ConnectError(url, 'network', `cannot open ${url}: ${(err as Error).message}`, { cause: err }));
      return;
    }

    const events = new SocketEvents();
    let opened = false;
    let settled = false;
    let lastError: Error | undefined;
    const failBeforeOpen = (err: ConnectError): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      reject(err);
      // In CONNECTING this aborts the request; the error it emits lands in the listener below, ignored.
      ws.terminate();
    };
    const onAbort = (): void => failBeforeOpen(abortError(signal, url));
    signal.addEventListener('abort', onAbort, { once: true });

    const socket: ClientSocket = {
      get protocol() {
        return ws.protocol;
      },
      send(frame, done) {
        ws.send(frame, done);
      },
      close(code, reason) {
        ws.close(code, reason);
      },
      destroy() {
        ws.terminate();
      },
      listen(handlers) {
        events.listen(handlers);
      },
    };

    ws.on('unexpected-response', (_req, res: IncomingMessage) => {
      const status = res.statusCode ?? 0;
      res.resume();
      const text = `${status}${res.statusMessage ? ' ' + res.statusMessage : ''}`;
      failBeforeOpen(new ConnectError(url, 'http', `${url}: the server answered the upgrade with HTTP ${text}${STATUS_HINTS[status] ?? ''}`, { status }));
    });
    ws.on('open', () => {
      if (settled) return;
      opened = true;
      settled = true;
      signal.removeEventListener('abort', onAbort);
      resolve(socket);
    });
    ws.on('message', (data: WebSocket.RawData, isBinary: boolean) => {
      if (isBinary) {
        events.binary();
        return;
      }
      const buffer = Buffer.isBuffer(data) ? data : Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data);
      events.message(buffer.toString('utf8'), buffer.length);
    });
    ws.on('error', (err: Error & { code?: string }) => {
      if (!opened) {
        failBeforeOpen(classify(url, err));
        return;
      }
      lastError = err;
      const invalid = receiveError(err);
      if (invalid !== null) events.invalid(invalid);
    });
    ws.on('close', (code: number, reason: Buffer) => {
      if (opened) events.close(code, reason.toString('utf8'), lastError);
    });
  });

/** Names what went wrong before open, from the error `ws` or the TCP/TLS stack gave. */
function classify(url: string, err: Error & { code?: string; library?: string }): ConnectError {
  const code = err.code ?? '';
  const where = describeTarget(url);
  if (code === 'ECONNREFUSED') {
    return new ConnectError(url, 'refused', `connection refused by ${where} (is the server running?)`, { cause: err });
  }
  if (TLS_CODES.has(code) || code.startsWith('ERR_SSL_') || code.startsWith('ERR_TLS_') || err.library !== undefined) {
    return new ConnectError(url, 'tls', `TLS failed with ${where}: ${err.message}${code ? ` (${code})` : ''}`, { cause: err });
  }
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return new ConnectError(url, 'network', `cannot resolve the host of ${url} (${code})`, { cause: err });
  }
  if (code === '' && /^(Invalid |Server sent|Unexpected server response)/.test(err.message)) {
    return new ConnectError(url, 'handshake', `invalid WebSocket handshake from ${where}: ${err.message}`, { cause: err });
  }
  return new ConnectError(url, 'network', `cannot connect to ${where}: ${err.message}${code ? ` (${code})` : ''}`, { cause: err });
}

function describeTarget(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/** `ws` closes by itself on some bad input; say so as the client would have. */
function receiveError(err: Error & { code?: string }): ProtocolError | null {
  switch (err.code) {
    case 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH':
    case 'WS_ERR_UNSUPPORTED_DATA_PAYLOAD_LENGTH':
    case 'WS_ERR_TOO_MANY_BUFFERED_PARTS':
      return new ProtocolError(`message larger than maxMessageSize: ${err.message}`, { code: 'ERR_MESSAGE_TOO_BIG', closeCode: CLOSE_MESSAGE_TOO_BIG });
    case 'WS_ERR_INVALID_UTF8':
      return new ProtocolError(`invalid UTF-8 from the server: ${err.message}`, { code: 'ERR_INVALID_UTF8', closeCode: CLOSE_INVALID_PAYLOAD });
    default:
      if (err.code?.startsWith('WS_ERR_')) return new ProtocolError(`invalid WebSocket frame from the server: ${err.message}`);
      return null;
  }
}
