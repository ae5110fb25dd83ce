/**
 * Runs an app module (app-module.ts) behind `listen()`: what `koa-juggler
 * serve` does with `--app`, and with the demo when `--app` is not given.
 */
import { listen, type ListenOptions, type Server, type Storage } from '../index.js';
import { appState, resolveApp, type AppFactory } from './app-module.js';

/** A running app: the server, its shared state (if any), and one call that stops both. */
export interface RunningApp {
  readonly server: Server;
  /** The shared state every connection sees; null when each connection has its own. */
  readonly state: Storage | null;
  /** The bound port. */
  readonly port: number;
  /** Stops what the app's `start` began, then closes the server. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * Builds the app from its factory and listens with its handlers; the
 * app's own options (handlers, middleware, state) win over `options` except
 * that middleware is appended and a cluster's state replaces the app's.
 *
 * @example
 * const app = await startApp(await loadApp('./app.mjs'), { port: 0 });
 * await app.close();
 * @throws AppModuleError when the factory throws or returns something unusable
 * @throws what `listen()` throws (bad options, port in use)
 */
export async function startApp(factory: AppFactory, options: ListenOptions = {}): Promise<RunningApp> {
  const { state: appStateValue, start, middleware, ...handlers } = await resolveApp(factory, { options });
  const cluster = options.cluster ?? null;
  const state = cluster ? null : appState(appStateValue);
  const server = await listen({
    ...options,
    ...handlers,
    middleware: [...(middleware ?? []), ...(options.middleware ?? [])],
    ...(state && { state }),
  });
  let stop: (() => void | Promise<void>) | void;
  try {
    stop = await start?.(server);
  } catch (err) {
    await server.close();
    throw err;
  }
  let closing: Promise<void> | null = null;
  return {
    server,
    state: cluster ? cluster.state : state,
    port: server.port,
    close() {
      return (closing ??= (async () => {
        await stop?.();
        await server.close();
      })());
    },
  };
}
