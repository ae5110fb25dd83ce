/**
 * `koa-juggler serve DIR --app ./app.mjs`: a module that gives a static
 * site its live backend without a server file. It exports the handlers and
 * options by name, or a default function that returns them (given an
 * {@link AppContext}); {@link loadApp} imports it and checks every export,
 * so a typo fails at start with the name at fault instead of a handler
 * that is silently never called.
 */
import { stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type Koa from 'koa';
import type { JsonValue } from '../json.js';
import type { ListenOptions, Server } from '../index.js';
import { Storage } from '../index.js';

/** What the app module may export (named, or in the object its default function returns). */
export interface App {
  onConnection?: ListenOptions['onConnection'];
  onRequest?: ListenOptions['onRequest'];
  onNotify?: ListenOptions['onNotify'];
  onStream?: ListenOptions['onStream'];
  onView?: ListenOptions['onView'];
  authenticate?: ListenOptions['authenticate'];
  middleware?: Koa.Middleware[];
  /** The shared state: a `Storage`, or a JSON value it starts from. Absent: each connection has its own. */
  state?: Storage | JsonValue;
  /**
   * Called once the server listens (timers, simulations start here).
   * @returns what stops them, called before the server closes
   */
  start?: (server: Server) => void | (() => void | Promise<void>) | Promise<void | (() => void | Promise<void>)>;
}

/** What a default-exported app function is given. */
export interface AppContext {
  /** The server's options as the command line set them (read only). */
  readonly options: Readonly<ListenOptions>;
}

/** An app module's default export: a function of the context, returning the app (or a promise of it). */
export type AppFactory = (context: AppContext) => App | Promise<App>;

/** The names an app may export, each with what it must be. */
const KNOWN: Record<keyof App, 'function' | 'array' | 'state'> = {
  onConnection: 'function',
  onRequest: 'function',
  onNotify: 'function',
  onStream: 'function',
  onView: 'function',
  authenticate: 'function',
  start: 'function',
  middleware: 'array',
  state: 'state',
};

/** An app module that cannot be used: one line naming the file and what is wrong. */
export class AppModuleError extends Error {
  override readonly name = 'AppModuleError';
  readonly code = 'ERR_APP_MODULE';
  /** The command exits with 2, as for any file named on the command line that cannot be used. */
  readonly exitCode = 2;
}

/**
 * Imports the app module at `file` (relative to the working directory).
 * @returns the factory its exports make (named exports become a factory returning them)
 * @throws AppModuleError when the file is missing, throws while importing, or exports nothing usable or an unknown name
 * @example
 * const factory = await loadApp('./app.mjs');
 * const app = await resolveApp(factory, { options: { port: 0 } });
 */
export async function loadApp(file: string): Promise<AppFactory> {
  const path = resolve(file);
  const info = await stat(path).catch(() => null);
  if (info === null) throw new AppModuleError(`--app: cannot read "${file}": no such file`);
  if (!info.isFile()) throw new AppModuleError(`--app: "${file}" is not a file`);
  let mod: Record<string, unknown>;
  try {
    mod = (await import(pathToFileURL(path).href)) as Record<string, unknown>;
  } catch (err) {
    throw new AppModuleError(`--app: "${file}" threw while loading: ${firstLine(err)}`);
  }
  return appFactory(mod, file);
}

/**
 * Turns a module namespace into a factory: its default function, or its named exports.
 * @throws AppModuleError for an unknown export, both a default and named exports, or no export at all
 */
export function appFactory(mod: Record<string, unknown>, file: string): AppFactory {
  const names = Object.keys(mod).filter((name) => name !== 'default');
  if ('default' in mod && mod.default !== undefined) {
    if (names.length > 0) throw new AppModuleError(`--app: "${file}" has a default export and named exports (${names.join(', ')}): use one or the other`);
    const fn = mod.default;
    if (typeof fn === 'function') return async (context) => checkApp(await (fn as AppFactory)(context), `the default export of "${file}"`);
    return () => checkApp(fn, `the default export of "${file}"`);
  }
  if (names.length === 0) throw new AppModuleError(`--app: "${file}" exports nothing (expected onRequest, onConnection, state, ... or a default function)`);
  const app = checkApp({ ...mod }, `"${file}"`);
  return () => app;
}

/**
 * Calls the factory and checks what it returned.
 * @throws AppModuleError when the factory throws or returns something that is not an app
 */
export async function resolveApp(factory: AppFactory, context: AppContext): Promise<App> {
  try {
    return await factory(context);
  } catch (err) {
    if (err instanceof AppModuleError) throw err;
    throw new AppModuleError(`--app: the default export threw: ${firstLine(err)}`);
  }
}

function checkApp(value: unknown, where: string): App {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AppModuleError(`--app: ${where} must be an object of handlers and options, got ${value === null ? 'null' : typeof value}`);
  }
  const app = value as Record<string, unknown>;
  for (const [name, v] of Object.entries(app)) {
    const kind = KNOWN[name as keyof App];
    if (kind === undefined) throw new AppModuleError(`--app: ${where} exports unknown "${name}" (known: ${Object.keys(KNOWN).join(', ')})`);
    if (v === undefined) continue;
    if (kind === 'function' && typeof v !== 'function') throw new AppModuleError(`--app: ${where}: "${name}" must be a function, got ${typeof v}`);
    if (kind === 'array' && !Array.isArray(v)) throw new AppModuleError(`--app: ${where}: "${name}" must be an array of Koa middleware`);
  }
  return app as App;
}

/** The app's `state` as `listen()` takes it: a Storage as is, a JSON value wrapped in one. */
export function appState(state: App['state']): Storage | null {
  if (state === undefined) return null;
  return state instanceof Storage ? state : new Storage(state);
}

function firstLine(err: unknown): string {
  const text = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
  return text.split('\n')[0];
}
