/**
 * `koa-juggler/client` for Node.js: {@link connect} for one connection,
 * {@link reconnect} for one that keeps itself connected, and every error
 * class a caller may need to tell failures apart. The browser bundle
 * (browser.ts) exports the same names from the same sources.
 */
import type { Client } from './client.js';
import { connectWith, type Platform } from './connect.js';
import { openNodeSocket } from './node-socket.js';
import type { ConnectOptions, ReconnectOptions } from './options.js';
import type { ApiMap, UntypedApi } from '../protocol/api-map.js';
import { reconnectWith, type ReconnectingClient } from './reconnect.js';

const NODE: Platform = { name: 'node', openSocket: openNodeSocket };

/**
 * Connects to a juggler server: one attempt, which resolves with an open
 * {@link Client} or rejects saying why it failed.
 *
 * The client answers the server's pings, pings a silent server after
 * `pingDelay` and drops the connection (ConnectionLostError) when nothing
 * arrives within `pingTimeout` after that; it cuts long messages into
 * segments of `maxSegmentSize` without ever splitting a surrogate pair, and
 * keeps `client.state` by applying the server's diffs in place.
 *
 * It offers the koa-juggler.v1 extension. When the server selects it, the
 * client says `hello` (with `options.session` and `options.version` when
 * given) and `connect()` resolves once the server's `welcome` has arrived,
 * so `client.session` and `client.resumed` are set. A server without it
 * (Python's hat-juggler, ours with `extensions: false`) fails a handshake
 * that offers a subprotocol; the client then retries at once without the
 * offer, remembers that address as plain for the life of the process, and
 * works as a plain juggler client (`notify()` and `stream()` reject with
 * ExtensionUnavailableError).
 *
 * @param url a `ws:` or `wss:` address, e.g. `ws://127.0.0.1:8080/ws`
 * @param options see {@link ConnectOptions}
 * @throws (rejects) InvalidArgumentError for a bad address or option (the
 *   message names it); ConnectError when the attempt fails, with `kind`
 *   `'refused'`, `'http'` (and `status`: 401, 403, 404...), `'tls'`,
 *   `'timeout'` (also when no `welcome` comes within `connectTimeout`),
 *   `'aborted'`, `'handshake'` or `'network'`; the connection error
 *   (ConnectionClosedError...) when the server closes before `welcome`
 *
 * @example
 * import { connect, JugglerError } from 'koa-juggler/client';
 *
 * const client = await connect('ws://127.0.0.1:8080/ws', {
 *   auth: { username: 'ops', password: process.env.PASSWORD! },
 *   onNotify: (name, data) => console.log('notify', name, data),
 * });
 * client.onChange((state) => console.log('state', state));
 * try {
 *   console.log(await client.send('increment', { by: 1 }, { timeout: 5000 }));
 * } catch (err) {
 *   if (err instanceof JugglerError) console.error('refused:', err.data);
 *   else throw err;
 * }
 * client.close();
 * await client.closed;
 *
 * @example
 * // Resume explicitly, e.g. in a new process that saved what it had:
 * const saved = { session: client.session, version: client.version, state: structuredClone(client.state) };
 * // ... later ...
 * const again = await connect('ws://127.0.0.1:8080/ws', saved);
 * again.resumed; // true while the server still holds the session
 * again.state;   // the saved state brought up to date by one diff (or nothing, if current)
 */
export function connect<Api extends ApiMap = UntypedApi>(url: string, options?: ConnectOptions<Api>): Promise<Client<Api>> {
  return connectWith(NODE, url, options);
}

/**
 * Starts a client that keeps itself connected to one of `addresses`, with
 * the same `state`, `onChange`, notifications and `send()` across
 * reconnects. Returns at once; it connects in the background. See
 * {@link ReconnectingClient} for the retry policy, how the state is reset
 * or resumed, how keyed requests survive a blip, and what `send()` does
 * while disconnected.
 *
 * @param addresses one `ws:`/`wss:` address or several, tried in order
 * @param options see {@link ReconnectOptions}
 * @throws InvalidArgumentError for a bad address or option (the message names it)
 *
 * @example
 * import { reconnect } from 'koa-juggler/client';
 *
 * const live = reconnect(['ws://primary:8080/ws', 'ws://backup:8080/ws'], {
 *   auth: async () => ({ username: 'svc', password: await fetchToken() }), // before every attempt
 *   backoff: { initial: 500, max: 30000, jitter: 0.5 },
 *   budget: 120_000,                        // give up after 2 min without a connection
 *   onAttempt: (n, url) => console.log(`attempt ${n} to ${url}`),
 *   onConnected: (url) => console.log('connected to', url),
 *   onDisconnected: (err) => console.warn('disconnected:', err.message),
 *   onGiveUp: (err) => console.error(err.message),
 * });
 * live.onChange((state) => render(state)); // resumed by version on the extension; null first otherwise
 * await live.send('start', null);          // keyed: re-sent once if a blip cuts it; rejects at once while disconnected
 * live.close();
 * await live.closed;
 */
export function reconnect<Api extends ApiMap = UntypedApi>(addresses: string | readonly string[], options?: ReconnectOptions<Api>): ReconnectingClient<Api> {
  return reconnectWith(NODE, addresses, options);
}

// What both entries export besides connect() and reconnect(): one list, so they cannot drift apart.
export * from './exports.js';
