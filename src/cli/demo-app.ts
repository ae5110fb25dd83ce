/**
 * The demo application behind `koa-juggler serve` and the dashboard in
 * `static/`: one shared state that every client sees change live, a few
 * requests that change it, and notifications for the events worth a glance.
 *
 * Shared state (what a new client receives first, whole):
 *
 * ```
 * {
 *   startedAt: '2025-01-01T12:00:00.000Z', // when the server started (ISO 8601)
 *   uptime: 42,                             // whole seconds since then, updated every second
 *   clients: 2,                             // connections open now
 *   peakClients: 3,                         // most connections open at once
 *   counter: 7,                             // the shared counter
 *   requests: 19,                           // requests answered so far
 *   lastAction: { client: 2, action: 'increment', counter: 7, at: '...' } | null,
 * }
 * ```
 *
 * Requests: `increment` and `decrement` (data: null or a step from 1 to
 * 1000) and `reset`; each returns the counter's new value. Any other name
 * fails with a message listing the known ones.
 *
 * Notifications: `welcome` (to a new client only: its number and the
 * server's version), `joined` and `left` (to the others), `reset` (to all:
 * who reset it, from which value) and `milestone` (to all: the counter
 * reached a non-zero multiple of 10). Each carries `at` (ISO 8601).
 *
 * Each request's state change is flushed before its response (and before
 * the notifications it causes), so a client that sees the result already
 * shows it. With `autoflushDelay: null` the demo also flushes every tick.
 * `GET /demo-config.json` tells the dashboard the WebSocket path.
 */
import { existsSync } from 'node:fs';
import type Koa from 'koa';
import { fileURLToPath } from 'node:url';
import { Storage, JugglerError, type Connection, type JsonValue, type ListenOptions, type Server } from '../index.js';
import type { App, AppContext } from './app-module.js';
import { startApp } from './start-app.js';
import { chartLibrary } from './chart-library.js';
import { Plant, type PlantOptions } from './plant.js';
import { packageVersion } from './package-info.js';

/** Options of {@link startDemo}: those of `listen()` except the ones the demo sets itself. */
export interface DemoOptions extends Omit<ListenOptions, 'state' | 'onRequest' | 'onConnection'> {
  /**
   * How often `uptime` is updated, in ms.
   * @default 1000
   */
  tickInterval?: number;
  /**
   * The simulated plant under `plant` in the state (plant.ts), with the
   * `ack` request and `alarm`/`ack` notifications; `true` for its defaults.
   * @default false
   */
  plant?: PlantOptions | boolean;
}

/** A running demo: the server, its shared state, and one call that stops both. */
export interface Demo {
  readonly server: Server;
  /** The shared state every connection sees. */
  readonly state: Storage;
  /** The bound port. */
  readonly port: number;
  /** Stops the uptime timer and closes the server (see `server.close()`). Safe to call twice. */
  close(): Promise<void>;
}

/** The demo dashboard shipped with the package (`static/` beside `src/` and `dist/`). */
export const DEMO_STATIC_DIR = fileURLToPath(new URL('../../static', import.meta.url));

/** Where the dashboard finds the demo's settings. */
export const DEMO_CONFIG_PATH = '/demo-config.json';
/** How far one `increment` or `decrement` may move the counter. */
const MAX_STEP = 1000;
/** Notifications `milestone` fire at non-zero multiples of this. */
const MILESTONE = 10;

/**
 * Starts the demo server: `listen()` with the demo's shared state, request
 * handler and notifications. Serves the package's `static/` unless
 * `staticDir` says otherwise.
 *
 * @example
 * const demo = await startDemo({ port: 0 });
 * console.log(`http://127.0.0.1:${demo.port}/`);
 * await demo.close();
 * @throws InvalidArgumentError for a bad option, as `listen()` does
 * @throws Error when the server cannot listen (port in use, unreadable htpasswd)
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const { tickInterval, plant, ...listenOptions } = options;
  const staticDir = listenOptions.staticDir === undefined && existsSync(DEMO_STATIC_DIR) ? DEMO_STATIC_DIR : listenOptions.staticDir;
  const app = await startApp((context) => counterApp(context, tickInterval, plant), { ...listenOptions, staticDir });
  return { server: app.server, state: app.state!, port: app.port, close: () => app.close() };
}

/**
 * The demo as an app module (what `koa-juggler serve` loads when `--app`
 * is not given): the shared counter state, its requests and notifications.
 * @throws TypeError for a `tickInterval` that is not a positive number
 */
export default function counterApp(context: AppContext, tickInterval = 1000, plantOptions: PlantOptions | boolean = false): App {
  if (typeof tickInterval !== 'number' || !(tickInterval > 0)) {
    throw new TypeError(`options.tickInterval: expected a positive number, got ${String(tickInterval)}`);
  }
  const listenOptions = context.options;
  const startedAt = Date.now();
  // On a cluster the state is the cluster's (its initial value is demoInitialState(), given to redisCluster()).
  const cluster = listenOptions.cluster ?? null;
  const state = cluster?.state ?? new Storage(demoInitialState(startedAt));
  const ids = new WeakMap<Connection, number>();
  let nextId = 1;
  let server: Server | null = null;

  const num = (key: string): number => state.get(key) as number;
  const notifyAll = (name: string, data: JsonValue, except?: Connection): void => {
    if (server === null) return;
    for (const conn of server.connections) {
      // A connection closing meanwhile rejects; the others still get theirs.
      if (conn !== except && conn.isOpen) conn.notify(name, data).catch(() => {});
    }
  };
  const plant = plantOptions === false ? null : new Plant(state, 'plant', ({ name, data }) => {
    // broadcast() skips connections that have not had their first state yet (a notify first would break them).
    server?.broadcast(name, data).catch(() => {});
  }, plantOptions === true ? {} : plantOptions);
  const setClients = (n: number): void => {
    state.set('clients', n);
    if (n > num('peakClients')) state.set('peakClients', n);
  };

  const onConnection = (conn: Connection): void => {
    const id = nextId++;
    ids.set(conn, id);
    setClients(num('clients') + 1);
    // The welcome must follow the initial state (a client's first message
    // is the whole state), and the connection joins the state only after
    // onConnection returns: so send it on the next turn.
    setImmediate(() => {
      if (!conn.isOpen) return;
      conn.notify('welcome', { client: id, clients: num('clients'), version: packageVersion(), at: now() }).catch(() => {});
      notifyAll('joined', { client: id, clients: num('clients'), at: now() }, conn);
    });
    void conn.closed.then(() => {
      setClients(num('clients') - 1);
      notifyAll('left', { client: id, clients: num('clients'), at: now() });
    });
  };

  const onRequest = async (conn: Connection, name: string, data: JsonValue): Promise<JsonValue> => {
    const client = ids.get(conn) ?? 0;
    if (plant !== null && name === 'ack') return plant.ack(data, `client #${client}`);
    const before = num('counter');
    let after: number;
    switch (name) {
      case 'increment':
        after = before + step(data);
        break;
      case 'decrement':
        after = before - step(data);
        break;
      case 'reset':
        after = 0;
        break;
      default:
        throw new JugglerError(`unknown request "${name}" (this demo knows increment, decrement and reset)`);
    }
    state.set('counter', after);
    state.set('requests', num('requests') + 1);
    state.set('lastAction', { client, action: name, counter: after, at: now() });
    // The new state goes out first: when send() resolves, or a notification
    // arrives, the page already shows the value they speak of.
    await conn.flush().catch(() => {});
    if (name === 'reset') notifyAll('reset', { client, from: before, at: now() });
    else if (after !== 0 && after % MILESTONE === 0) notifyAll('milestone', { client, counter: after, at: now() });
    return after;
  };

  const start = (running: Server): (() => void) => {
    server = running;
    const manual = listenOptions.autoflushDelay === null;
    const timer = setInterval(() => {
      const uptime = Math.floor((Date.now() - startedAt) / 1000);
      if (uptime !== num('uptime')) state.set('uptime', uptime);
      // Without autoflush nothing goes out on its own; flushing one connection
      // of the shared state sends the diff to all of them.
      if (manual) for (const conn of running.connections) return void conn.flush().catch(() => {});
    }, tickInterval);
    // Even a caller who closes only the server must not be kept alive by the demo.
    timer.unref();
    plant?.start();
    return () => {
      clearInterval(timer);
      plant?.stop();
    };
  };

  return {
    state: cluster ? undefined : state,
    onConnection,
    onRequest,
    // The demo's state holds nothing private: any view asked for (static/view.html) is granted.
    onView: listenOptions.onView ?? ((_conn: Connection, paths: string[][]) => paths),
    middleware: [demoConfig(listenOptions.wsPath ?? '/ws'), ...(plant ? [chartLibrary()] : [])],
    start,
  };
}

/**
 * The demo's shared state when it starts. On a cluster it is the seed of a
 * cluster Redis holds nothing of yet (then nodes count clients and uptime
 * each for itself, last writer wins: a demo, not a counter across nodes).
 */
export function demoInitialState(startedAt = Date.now()): JsonValue {
  return { startedAt: new Date(startedAt).toISOString(), uptime: 0, clients: 0, peakClients: 0, counter: 0, requests: 0, lastAction: null };
}

/** GET /demo-config.json tells the dashboard where the WebSocket is (it may be moved with --ws-path). */
function demoConfig(wsPath: string): Koa.Middleware {
  const body = JSON.stringify({ wsPath, version: packageVersion() });
  return async function demoConfig(ctx, next) {
    if (ctx.path !== DEMO_CONFIG_PATH || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    ctx.type = 'application/json';
    ctx.body = body;
  };
}

function step(data: JsonValue): number {
  if (data === null) return 1;
  if (typeof data !== 'number' || !Number.isInteger(data) || data < 1 || data > MAX_STEP) {
    throw new JugglerError(`the step must be null or an integer from 1 to ${MAX_STEP}`);
  }
  return data;
}

function now(): string {
  return new Date().toISOString();
}
