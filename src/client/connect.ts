/**
 * One connection attempt, shared by both entries (Node and browser), which
 * differ only in the {@link Platform} they pass: the koa-juggler.v1 offer
 * with its fallback to plain juggler, the connect timeout, and the wait for
 * `welcome` on an extension connection.
 */
import { ConnectError } from '../errors.js';
import { EXTENSION_PROTOCOL } from '../protocol/messages.js';
import { CLIENT_INTERNALS, Client } from './client.js';
import type { ApiMap, UntypedApi } from '../protocol/api-map.js';
import { resolveConnectOptions, resolveUrl, type ConnectOptions, type PlatformInfo, type ResolvedConnectOptions } from './options.js';
import { abortError, type ClientSocket, type OpenSocket, type SocketOptions } from './socket.js';

/** A platform: its limits and how it opens a socket. */
export interface Platform extends PlatformInfo {
  openSocket: OpenSocket;
}

/** Addresses known to select no subprotocol, oldest first; bounded so that a long-lived process cannot grow it forever. */
const PLAIN_ADDRESSES = new Map<string, number>();
const MAX_PLAIN_ADDRESSES = 1024;

/** Whether this process (or page) has learnt that `url` is a plain juggler server, to which koa-juggler.v1 is not offered. */
export function isKnownPlain(url: string): boolean {
  return PLAIN_ADDRESSES.has(url);
}

/**
 * Forgets what was learnt about `url` (or every address): the next attempt
 * offers the extension again. For tests, which need each case to start
 * from a process that has learnt nothing; not exported to users (see the
 * notes of `connect()`: the memory lasts the life of the process).
 */
export function forgetPlainAddress(url?: string): void {
  if (url === undefined) PLAIN_ADDRESSES.clear();
  else PLAIN_ADDRESSES.delete(url);
}

function rememberPlain(url: string): void {
  PLAIN_ADDRESSES.delete(url);
  PLAIN_ADDRESSES.set(url, Date.now());
  if (PLAIN_ADDRESSES.size > MAX_PLAIN_ADDRESSES) PLAIN_ADDRESSES.delete(PLAIN_ADDRESSES.keys().next().value!);
}

/**
 * `connect()` for `platform`: validates, then makes one attempt.
 * @throws (rejects) InvalidArgumentError, ConnectError, or the connection
 *   error when an extension connection ends before its `welcome`
 */
export async function connectWith<Api extends ApiMap = UntypedApi>(platform: Platform, url: string, options?: ConnectOptions<Api>): Promise<Client<Api>> {
  const address = resolveUrl(url, platform);
  // Types only: a Client<Api> is the same object as a Client.
  return openClient(platform, address, resolveConnectOptions(options, platform)) as Promise<Client<never>>;
}

/**
 * Opens one connection with validated options: resolves with a ready
 * client (on an extension connection, once `welcome` has arrived, so that
 * `client.session` is known), or rejects saying why it could not: a
 * ConnectError (kind `'timeout'` after `connectTimeout`, which covers the
 * wait for `welcome` too, `'aborted'` on `options.signal`), or the
 * connection error when the server closed before `welcome`.
 * @param onReady see the Client constructor
 */
export async function openClient(
  platform: Platform,
  url: string,
  options: ResolvedConnectOptions,
  onReady?: (client: Client) => void,
): Promise<Client> {
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(new ConnectError(url, 'timeout', `no connection to ${url} within ${options.connectTimeout} ms (connectTimeout)`));
  }, options.connectTimeout);
  const signal = options.signal;
  const forwardAbort = (): void => controller.abort(signal?.reason);
  if (signal !== null) {
    if (signal.aborted) forwardAbort();
    else signal.addEventListener('abort', forwardAbort, { once: true });
  }
  try {
    const socket = await openNegotiating(platform, url, options, controller.signal);
    const client = new Client(url, socket, options, onReady);
    await untilReady(client, url, controller.signal);
    // Selected koa-juggler.v1 without speaking it: plain from now on, as a server that selects nothing.
    if (socket.protocol === EXTENSION_PROTOCOL && !client.extension) rememberPlain(url);
    return client;
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forwardAbort);
  }
}

/**
 * Opens the socket offering koa-juggler.v1 (unless `options.extensions` is
 * false or the address is known plain). A server that selects no
 * subprotocol fails such a handshake on the client's side (Node `ws`:
 * "Server sent no subprotocol"; a browser: closed with 1006 before open,
 * without saying why), so that failure is retried at once without the
 * offer, and a success then marks the address plain.
 */
async function openNegotiating(platform: Platform, url: string, options: ResolvedConnectOptions, signal: AbortSignal): Promise<ClientSocket> {
  const base: Omit<SocketOptions, 'protocols'> = {
    maxMessageSize: options.maxMessageSize,
    auth: options.auth,
    tls: options.tls,
    compression: options.compression,
  };
  if (!options.extensions || PLAIN_ADDRESSES.has(url)) return platform.openSocket(url, { ...base, protocols: [] }, signal);
  try {
    return await platform.openSocket(url, { ...base, protocols: [EXTENSION_PROTOCOL] }, signal);
  } catch (err) {
    if (signal.aborted || !mayBeRefusedOffer(platform, err)) throw err;
    const socket = await platform.openSocket(url, { ...base, protocols: [] }, signal);
    rememberPlain(url);
    return socket;
  }
}

/** Whether a failed attempt may have failed only because the server selected no subprotocol. */
function mayBeRefusedOffer(platform: Platform, err: unknown): boolean {
  if (!(err instanceof ConnectError)) return false;
  // A browser does not say why a handshake failed: any failure before open may be this one.
  if (platform.name === 'browser') return err.kind === 'network';
  return err.kind === 'handshake' && /no subprotocol/i.test(err.message);
}

/** Waits for the client to be ready; on timeout or abort, drops it and rejects with the signal's reason. */
function untilReady(client: Client, url: string, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      const err = abortError(signal, url);
      CLIENT_INTERNALS.abandon(client, err);
      reject(err);
    };
    if (signal.aborted) {
      onAbort();
      return;
    }
    signal.addEventListener('abort', onAbort, { once: true });
    CLIENT_INTERNALS.ready(client).then(
      () => {
        signal.removeEventListener('abort', onAbort);
        resolve();
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}
