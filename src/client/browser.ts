/**
 * `koa-juggler/client` for browsers, bundled to dist/browser/juggler-client.js
 * (served by the server at /juggler-client.js): the same names as the Node
 * entry, over the DOM `WebSocket`. Addresses may be relative to the page
 * (`connect('/ws')`); `auth` and `tls` are not available (the browser
 * sends its stored credentials and checks certificates itself), and a
 * failed handshake is a ConnectError of kind `'network'` whatever the
 * cause, since a page cannot see it.
 */
import type { Client } from './client.js';
import { connectWith, type Platform } from './connect.js';
import type { ConnectOptions, ReconnectOptions } from './options.js';
import type { ApiMap, UntypedApi } from '../protocol/api-map.js';
import { reconnectWith, type ReconnectingClient } from './reconnect.js';
import { browserSocketOpener } from './socket.js';

function platform(): Platform {
  const location = (globalThis as { location?: { href?: string } }).location;
  return { name: 'browser', openSocket: browserSocketOpener(), baseUrl: location?.href };
}

/**
 * Connects to a juggler server: one attempt, which resolves with an open
 * {@link Client} or rejects with a ConnectError (kind `'network'`: a
 * browser does not say why a handshake failed). As in Node it offers
 * koa-juggler.v1 and resolves after `welcome`; a handshake that fails
 * before open is retried at once without the offer (a page cannot tell a
 * server that selected no subprotocol from one that is down), and once
 * that succeeds the address is remembered as plain for the page's life.
 *
 * @param url a `ws:`/`wss:` address, or one relative to the page (`'/ws'`)
 * @param options see {@link ConnectOptions} (`auth` and `tls` are Node only)
 * @throws (rejects) InvalidArgumentError for a bad address or option; ConnectError
 *
 * @example
 * import { connect } from '/juggler-client.js';
 *
 * const client = await connect('/ws');
 * client.onChange((state) => render(state));
 * document.querySelector('button').onclick = () => client.send('increment', null);
 */
export function connect<Api extends ApiMap = UntypedApi>(url: string, options?: ConnectOptions<Api>): Promise<Client<Api>> {
  return connectWith(platform(), url, options);
}

/**
 * Starts a client that keeps itself connected; see the Node entry's
 * `reconnect()`. A browser cannot see an HTTP 401 or 403 on the handshake,
 * so there it stops only at a fatal close code or at the `budget`.
 *
 * @throws InvalidArgumentError for a bad address or option
 *
 * @example
 * import { reconnect } from '/juggler-client.js';
 *
 * const live = reconnect('/ws', {
 *   onConnected: () => indicator.classList.remove('offline'),
 *   onDisconnected: () => indicator.classList.add('offline'),
 * });
 * live.onChange((state) => render(state));
 */
export function reconnect<Api extends ApiMap = UntypedApi>(addresses: string | readonly string[], options?: ReconnectOptions<Api>): ReconnectingClient<Api> {
  return reconnectWith(platform(), addresses, options);
}

// What both entries export besides connect() and reconnect(): one list, so they cannot drift apart.
export * from './exports.js';
