/**
 * A cluster node as a real child process (test/fixtures/cluster-node-child.ts)
 * for the failure tests: it can be killed with SIGKILL mid-write, stopped
 * with SIGSTOP and continued. Killed after the test by the root hook.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { JsonValue } from '../../src/index.js';
import type { RedisClusterOptions } from '../../src/cluster/index.js';
import { onCleanup } from '../support/cleanup.js';
import { deferred, waitFor, within } from '../support/wait.js';
import { SECRET } from './cluster-helpers.js';

const CHILD = fileURLToPath(new URL('../fixtures/cluster-node-child.ts', import.meta.url));

type Message = { ready?: boolean; port?: number; wrote?: number; error?: string; kind?: string; status?: { version: string; data: JsonValue } };

export class ChildNode {
  readonly port: number;
  /** Errors the node reported, with their kind ('cluster' for the cluster's onError). */
  readonly errors: { message: string; kind: string }[] = [];
  /** The last round of the write loop known to be in the log. */
  wrote = 0;
  readonly #child: ChildProcess;
  #waiting: ((status: { version: string; data: JsonValue }) => void) | null = null;

  private constructor(child: ChildProcess, port: number) {
    this.#child = child;
    this.port = port;
    child.on('message', (m: Message) => {
      if (m.wrote !== undefined) this.wrote = m.wrote;
      if (m.error !== undefined) this.errors.push({ message: m.error, kind: m.kind ?? '' });
      if (m.status) this.#waiting?.(m.status);
    });
  }

  /** Starts a node of cluster `name` on Redis `url` and waits until it listens. */
  static async start(url: string, name: string, options: Partial<RedisClusterOptions> = {}): Promise<ChildNode> {
    const child = fork(CHILD, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, KJ_REDIS_URL: url, KJ_CLUSTER: name, KJ_SECRET: SECRET, KJ_OPTIONS: JSON.stringify(options) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    onCleanup(() => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    });
    const ready = deferred<number>();
    child.on('message', (m: Message) => m.ready && ready.resolve(m.port!));
    child.once('exit', (code) => ready.reject(new Error(`the child node exited with ${code} before listening`)));
    return new ChildNode(child, await within(ready.promise, 20_000, 'the child node to listen'));
  }

  /** `ws://127.0.0.1:<port>/ws`. */
  get url(): string {
    return `ws://127.0.0.1:${this.port}/ws`;
  }

  /** Starts the write loop: one entry per round setting every key to the round's number. */
  loop(keys: string[]): void {
    this.#child.send({ cmd: 'loop', keys });
  }

  /** Waits until the write loop has `rounds` rounds in the log. */
  async wroteAtLeast(rounds: number): Promise<void> {
    await waitFor(() => this.wrote >= rounds, `the child to write ${rounds} rounds`, 15_000);
  }

  /** The node's version and value. */
  async status(): Promise<{ version: string; data: JsonValue }> {
    const got = deferred<{ version: string; data: JsonValue }>();
    this.#waiting = got.resolve;
    this.#child.send({ cmd: 'status' });
    return within(got.promise, 5000, 'the child node to tell its status');
  }

  /** SIGKILL, and waits for the exit. */
  async kill(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.kill('SIGKILL');
    await exited;
  }

  /** Stops the process (SIGSTOP): its sockets stay open and it runs nothing. */
  stop(): void {
    this.#child.kill('SIGSTOP');
  }

  /** Continues a stopped process (SIGCONT). */
  continue(): void {
    this.#child.kill('SIGCONT');
  }
}
