/**
 * What one connection reads of the server's options: a narrow config the
 * server builds once from {@link ResolvedOptions} and hands to every
 * connection, its request dispatcher and its stream calls. Kept apart from
 * `options.ts` so that the connection never imports the whole option set
 * (which names `Connection` in its callback types).
 */
import type { IncomingMessage } from 'node:http';
import type { TransportOptions } from '../transport/transport.js';
import type { DispatcherConfig } from './request-dispatcher.js';
import type { StreamCallsConfig } from './stream-calls.js';
import type { ViewPaths } from '../state/view-paths.js';
import type { OnView } from './view-request.js';

/**
 * What kind of trouble `onError` is told about: `'internal'` is a bug of
 * ours (the connection is closed with 1011), never the peer's fault.
 */
export type ErrorKind = 'handler' | 'connection' | 'protocol' | 'socket' | 'http' | 'state' | 'internal' | 'cluster';

/** The upgrade request as a connection keeps it. */
export interface UpgradeRequest {
  /** The request target of the upgrade (path and query), as the client sent it. */
  url: string;
  /** The upgrade's headers, without `Authorization` (credentials are not kept for the life of a connection). */
  headers: IncomingMessage['headers'];
}

/** The close frame that ended a connection (`conn.closed` resolves with it). */
export interface CloseInfo {
  /** The close code: the first one sent or received; 1006 when the socket died without one. */
  code: number;
  /** The reason text of that close frame; empty when there was none. */
  reason: string;
}

/** What `onError` is told besides the error. */
export interface ErrorContext<C> {
  conn: C | null;
  kind: ErrorKind;
}

/**
 * The options a connection reads, built once per server.
 * @typeParam C the connection type handed to the callbacks
 */
export interface ConnectionConfig<C> {
  /** The transport's options (the keepalive is off with `framing: 'plain'`). */
  transport: TransportOptions;
  /** Deepest nesting of an incoming message, checked before parsing (1008 past it). */
  maxJsonDepth: number;
  /** How long an extension connection may stay silent before its `hello`. */
  helloTimeout: number;
  /** The window each side of a stream call starts with, announced in `welcome`. */
  streamWindow: number;
  onConnection: ((conn: C) => void | Promise<void>) | null;
  onError: (err: Error, context: ErrorContext<C>) => void;
  requests: DispatcherConfig<C>;
  streams: StreamCallsConfig<C>;
  /** The `view` and `onView` options (docs/views.md). */
  views: { view: ((conn: C) => ViewPaths | null | undefined) | null; onView: OnView<C> | null };
}
