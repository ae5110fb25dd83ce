/**
 * Child processes for the benchmarks, and the little RPC they speak over
 * the IPC channel: the parent calls named commands, the child answers
 * each once, and may emit events. Every call has a time limit, and a child
 * exits when its parent goes away, so a crashed run leaves nothing behind.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));
const PROFILES = process.env.BENCH_PROFILE_DIR ?? join(tmpdir(), 'koa-juggler-profiles');

/** Default limit of one call. */
export const CALL_TIMEOUT = 120_000;

type Reply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
type FromChild = Reply | { ready: true; info: unknown } | { ready: false; error: string } | { event: string; data: unknown };

export interface SpawnOptions {
  /** Shown in errors and logs. */
  name: string;
  /** Extra node flags (e.g. `--expose-gc`, `--cpu-prof`). */
  nodeFlags?: string[];
  /** How long the child may take to start. @default 60000 */
  startTimeout?: number;
}

/**
 * A benchmark process: runs `exportName(host, args)` from `module` (a bench
 * file) and then answers the commands that function registered.
 */
export class Worker<Info = unknown> {
  readonly name: string;
  readonly info: Info;
  readonly #child: ChildProcess;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void; timer: NodeJS.Timeout }>();
  readonly #listeners = new Map<string, ((data: any) => void)[]>();
  #nextId = 1;
  #exited: Promise<void>;
  #gone = false;

  private constructor(name: string, child: ChildProcess, info: Info, exited: Promise<void>) {
    this.name = name;
    this.#child = child;
    this.info = info;
    this.#exited = exited;
    child.on('message', (m: FromChild) => this.#onMessage(m));
    // Calls fail fast when the process dies instead of running into their time limit.
    child.once('exit', () => this.#markGone());
  }

  /** Starts a child and waits for its setup function to return (its result is `info`). */
  static start<Info = unknown>(module: string | URL, exportName: string, args: unknown, options: SpawnOptions): Promise<Worker<Info>> {
    const path = module instanceof URL ? fileURLToPath(module) : module;
    // BENCH_NODE_FLAGS='--flag ...': V8 or Node flags for every child (an experiment such as --single-threaded-gc).
    const flags = [...(options.nodeFlags ?? []), ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? [])];
    // BENCH_PROFILE=<regexp>: children whose name matches write V8 CPU profiles on exit (one per thread; the
    // main thread's is the big one) to $BENCH_PROFILE_DIR/<name>/ (default: <tmp>/koa-juggler-profiles/<name>/).
    const profile = process.env.BENCH_PROFILE;
    // BENCH_PROFILE_WINDOW=1 narrows that to what matters: from the child's first `cpu` reading (the start of the
    // first measured window) to its exit, so setup and joins do not drown the steady state.
    const env = { ...process.env };
    delete env.BENCH_PROFILE_OUT;
    if (profile && new RegExp(profile).test(options.name)) {
      if (process.env.BENCH_PROFILE_WINDOW) env.BENCH_PROFILE_OUT = join(PROFILES, options.name);
      else flags.push('--cpu-prof', `--cpu-prof-dir=${join(PROFILES, options.name)}`);
      // BENCH_PROFILE_INTERVAL=<µs>: a finer sampling interval than V8's 1 ms, for short windows such as joins.
      if (process.env.BENCH_PROFILE_INTERVAL && !process.env.BENCH_PROFILE_WINDOW) flags.push(`--cpu-prof-interval=${process.env.BENCH_PROFILE_INTERVAL}`);
    }
    const child = fork(WORKER, [path, exportName, JSON.stringify(args ?? null)], {
      env,
      execArgv: ['--import', 'tsx', ...flags],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`${options.name}: did not start within ${options.startTimeout ?? 60000} ms`));
      }, options.startTimeout ?? 60_000);
      const onExit = (code: number | null): void => {
        clearTimeout(timer);
        reject(new Error(`${options.name}: exited with ${code} while starting`));
      };
      child.once('exit', onExit);
      const onMessage = (m: FromChild): void => {
        if (!('ready' in m)) return;
        clearTimeout(timer);
        child.off('exit', onExit);
        child.off('message', onMessage);
        if (m.ready) resolve(new Worker<Info>(options.name, child, m.info as Info, exited));
        else {
          child.kill('SIGKILL');
          reject(new Error(`${options.name}: ${m.error}`));
        }
      };
      child.on('message', onMessage);
    });
  }

  /** Calls a command the child registered; rejects on its error or after `timeout` ms. */
  call<T = unknown>(command: string, payload?: unknown, timeout = CALL_TIMEOUT): Promise<T> {
    if (this.#gone) return Promise.reject(new Error(`${this.name}: process is gone`));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id);
        reject(new Error(`${this.name}: ${command} took more than ${timeout} ms`));
      }, timeout);
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer });
      this.#child.send({ id, command, payload: payload ?? null });
    });
  }

  /** Listens to an event the child emits. */
  on(event: string, listener: (data: any) => void): void {
    const list = this.#listeners.get(event) ?? [];
    list.push(listener);
    this.#listeners.set(event, list);
  }

  /** Asks the child to clean up and exit; kills it if it has not within `timeout` ms. Safe to call twice. */
  async stop(timeout = 10_000): Promise<void> {
    if (!this.#gone) {
      this.#child.send({ id: 0, command: '__exit', payload: null }, () => {});
    }
    const timer = setTimeout(() => this.#child.kill('SIGKILL'), timeout);
    await this.#exited;
    clearTimeout(timer);
  }

  #onMessage(m: FromChild): void {
    if ('event' in m) {
      for (const listener of this.#listeners.get(m.event) ?? []) listener(m.data);
      return;
    }
    if (!('id' in m)) return;
    const pending = this.#pending.get(m.id);
    if (!pending) return;
    this.#pending.delete(m.id);
    clearTimeout(pending.timer);
    if (m.ok) pending.resolve(m.result);
    else pending.reject(new Error(`${this.name}: ${m.error}`));
  }

  /** The child's pid (for `--cpu-prof` file names and the like). */
  get pid(): number | undefined {
    return this.#child.pid;
  }

  #markGone(): void {
    this.#gone = true;
    for (const pending of this.#pending.values()) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`${this.name}: process exited`));
    }
    this.#pending.clear();
  }
}

/** What a child's setup function gets: register commands, emit events, register cleanups. */
export interface Host {
  handle(command: string, handler: (payload: any) => unknown): void;
  emit(event: string, data?: unknown): void;
  /** Runs before the process exits on the parent's request. */
  onExit(cleanup: () => unknown): void;
}
