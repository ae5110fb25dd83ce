/**
 * A koa-juggler server in a child process (test/fixtures/server-child.ts),
 * started with --expose-gc: its heap can be measured after a full GC
 * without the test's own clients in it, and it can be watched exiting by
 * itself after `server.close()`. Killed after the test by the root hook.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JsonValue, ListenOptions } from '../../src/index.js';
import { onCleanup } from './cleanup.js';
import { deferred, within } from './wait.js';

const SCRIPT = fileURLToPath(new URL('../fixtures/server-child.ts', import.meta.url));

/** Memory of the child after a full GC, in bytes. */
export interface HeapReport {
  heapUsed: number;
  external: number;
  arrayBuffers: number;
  rss: number;
}

export interface ChildServerConfig {
  /** JSON-able listen() options (handlers are the child's own; see the fixture). */
  options?: Omit<ListenOptions, 'onRequest' | 'onConnection' | 'onError' | 'state' | 'middleware' | 'authenticate'>;
  /** A shared Storage with this initial value; absent: one Storage per connection. */
  shared?: JsonValue;
  /** Bounds of the shared Storage's change log (StorageOptions.log). */
  log?: { maxOps?: number; maxBytes?: number };
}

export class ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Resolves with the exit code when the child exits. */
  readonly exited: Promise<number | null>;
  #nextId = 1;
  #replies = new Map<number, (value: unknown) => void>();

  private constructor(child: ChildProcess, port: number, exited: Promise<number | null>) {
    this.child = child;
    this.port = port;
    this.url = `ws://127.0.0.1:${port}/ws`;
    this.exited = exited;
    child.on('message', (m: { id?: number; value?: unknown }) => {
      if (m.id === undefined) return;
      this.#replies.get(m.id)?.(m.value);
      this.#replies.delete(m.id);
    });
  }

  static async start(config: ChildServerConfig = {}): Promise<ServerProcess> {
    const child = fork(SCRIPT, [], {
      execArgv: ['--expose-gc', '--import', 'tsx'],
      env: { ...process.env, KJ_CHILD_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    onCleanup(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const ready = deferred<number>();
    child.on('message', (m: { ready?: boolean; port?: number }) => {
      if (m.ready) ready.resolve(m.port!);
    });
    void exited.then((code) => ready.reject(new Error(`server child exited with ${code} before listening`)));
    const port = await within(ready.promise, 20_000, 'the server child to listen');
    return new ServerProcess(child, port, exited);
  }

  /** Sends a command to the child and waits for its answer. */
  command<T = unknown>(cmd: string, arg?: unknown, ms = 20_000): Promise<T> {
    const id = this.#nextId++;
    const answer = deferred<T>();
    this.#replies.set(id, answer.resolve as (value: unknown) => void);
    this.child.send({ id, cmd, arg });
    return within(answer.promise, ms, `the server child's answer to ${cmd}`);
  }

  /** Heap and buffers after a full GC. */
  heap(): Promise<HeapReport> {
    return this.command<HeapReport>('heap');
  }

  /** Bytes of incomplete incoming messages the server holds (what maxBufferedBytes bounds). */
  buffered(): Promise<number> {
    return this.command<number>('buffered');
  }

  connections(): Promise<number> {
    return this.command<number>('connections');
  }

  /** The shared state, and each open connection's own state by its number. */
  state(): Promise<{ shared: JsonValue; own: [number, JsonValue][]; logSize: number; logBytes: number }> {
    return this.command('state');
  }
}

/** Heap plus buffers: what a leak of messages or sockets would grow. */
export function retained(h: HeapReport): number {
  return h.heapUsed + h.arrayBuffers;
}

export const MB = 1024 * 1024;
