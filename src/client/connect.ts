/**
 * One connection attempt, shared by both entries (Node and browser), which
 * differ only in the {@link Platform} they pass.
 */
import { ConnectError } from '../errors.js';
import { Client } from './client.js';
import { resolveConnectOptions, resolveUrl, type ConnectOptions, type PlatformInfo, type ResolvedConnectOptions } from './options.js';
import type { OpenSocket } from './socket.js';

/** A platform: its limits and how it opens a socket. */
export interface Platform extends PlatformInfo {
  openSocket: OpenSocket;
}

/**
 * `connect()` for `platform`: validates, then makes one attempt.
 * @throws (rejects) InvalidArgumentError, ConnectError
 */
export async function connectWith(platform: Platform, url: string, options?: ConnectOptions): Promise<Client> {
  const address = resolveUrl(url, platform);
  return openClient(platform, address, resolveConnectOptions(options, platform));
}

/**
 * Opens one connection with validated options: resolves with an open
 * client, or rejects with a ConnectError saying why it could not (kind
 * `'timeout'` after `connectTimeout`, `'aborted'` on `options.signal`).
 * @param onOpen see the Client constructor
 */
export async function openClient(
  platform: Platform,
  url: string,
  options: ResolvedConnectOptions,
  onOpen?: (client: Client) => void,
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
    const socket = await platform.openSocket(
      url,
      { protocols: [], maxMessageSize: options.maxMessageSize, auth: options.auth, tls: options.tls },
      controller.signal,
    );
    return new Client(url, socket, options, onOpen);
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', forwardAbort);
  }
}
