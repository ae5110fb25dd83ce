/**
 * A real `redis-server` (Debian's package) for the cluster tests: on a free
 * 127.0.0.1 port the OS picked, in its own temporary directory, with no
 * configuration file. It can be stopped, killed, paused (SIGSTOP) and
 * resumed, and restarted on the same port either with its AOF (what a
 * crash-and-restart keeps) or empty (a new directory: Redis went
 * backwards). Killed and its directories removed after the test by the
 * root hook.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onCleanup } from './cleanup.js';
import { delay } from './wait.js';

/** How to start the server. */
export interface RedisServerOptions {
  /** `appendonly yes` with `appendfsync always` (a restart keeps every acknowledged write). Default true. */
  appendonly?: boolean;
  /** Extra command-line settings, e.g. `['--maxmemory-policy', 'noeviction']`. */
  args?: string[];
}

/** Asks the OS for a free port on 127.0.0.1. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Sends one inline PING over a fresh socket; true when `+PONG` comes back within `ms`. */
function pingOnce(port: number, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    const done = (ok: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(ok);
    };
    const timer = setTimeout(() => done(false), ms);
    socket.on('error', () => done(false));
    socket.on('connect', () => socket.write('PING\r\n'));
    socket.on('data', (data) => done(data.toString().startsWith('+PONG')));
  });
}

export class RedisServer {
  readonly port: number;
  readonly #options: RedisServerOptions;
  #dir: string;
  #child: ChildProcess | null = null;
  #dirs: string[] = [];

  private constructor(port: number, options: RedisServerOptions) {
    this.port = port;
    this.#options = options;
    this.#dir = this.#newDir();
  }

  /** Starts a server and waits until it answers PING. */
  static async start(options: RedisServerOptions = {}): Promise<RedisServer> {
    const server = new RedisServer(await freePort(), options);
    onCleanup(() => server.#cleanup());
    await server.#spawn();
    return server;
  }

  /** `redis://127.0.0.1:<port>`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** The process id of the running server. */
  get pid(): number {
    if (this.#child?.pid === undefined) throw new Error('redis-server is not running');
    return this.#child.pid;
  }

  /** Pauses the process (SIGSTOP): its sockets stay open and nothing answers. */
  pause(): void {
    process.kill(this.pid, 'SIGSTOP');
  }

  /** Resumes a paused process (SIGCONT). */
  resume(): void {
    process.kill(this.pid, 'SIGCONT');
  }

  /** SIGKILL, and waits for the exit: nothing is flushed beyond what the AOF already holds. */
  async kill(): Promise<void> {
    await this.#stop('SIGKILL');
  }

  /** SIGTERM (Redis's own clean shutdown), and waits for the exit. */
  async stop(): Promise<void> {
    await this.#stop('SIGTERM');
  }

  /** Kills the server and starts it again on the same port, from its own directory (and AOF). */
  async restart(): Promise<void> {
    await this.kill();
    await this.#spawn();
  }

  /** Kills the server and starts it again on the same port in a new, empty directory. */
  async restartEmpty(): Promise<void> {
    await this.kill();
    this.#dir = this.#newDir();
    await this.#spawn();
  }

  #newDir(): string {
    const dir = mkdtempSync(join(tmpdir(), 'kj-redis-'));
    this.#dirs.push(dir);
    return dir;
  }

  async #spawn(): Promise<void> {
    const aof = this.#options.appendonly ?? true;
    const args = [
      '--port', String(this.port),
      '--bind', '127.0.0.1',
      '--protected-mode', 'no',
      '--dir', this.#dir,
      '--save', '',
      '--appendonly', aof ? 'yes' : 'no',
      '--appendfsync', 'always',
      '--daemonize', 'no',
      '--loglevel', 'warning',
      ...(this.#options.args ?? []),
    ];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    this.#child = child;
    const exited = new Promise<never>((_, reject) => {
      child.once('error', reject);
      child.once('exit', (code) => reject(new Error(`redis-server exited with ${code} at start`)));
    });
    exited.catch(() => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      const ok = await Promise.race([pingOnce(this.port, 500), exited]);
      if (ok) return;
      if (Date.now() > deadline) throw new Error(`redis-server on port ${this.port} did not answer PING within 10 s`);
      await delay(20);
    }
  }

  async #stop(signal: NodeJS.Signals): Promise<void> {
    const child = this.#child;
    this.#child = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    // A paused process does not act on SIGTERM until it runs again.
    child.kill('SIGCONT');
    child.kill(signal);
    await exited;
  }

  async #cleanup(): Promise<void> {
    await this.#stop('SIGKILL');
    for (const dir of this.#dirs) rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * In a mocha `describe`: a fresh redis-server for each of its tests,
 * stopped after it (by the cleanup root hook). Returns a getter.
 *
 * @example
 * describe('nodes', () => {
 *   const redis = useRedis();
 *   it('agree', async () => { const a = await node(redis().url, name); ... });
 * });
 */
export function useRedis(): () => RedisServer {
  let redis: RedisServer | null = null;
  beforeEach(async () => {
    redis = await RedisServer.start();
  });
  return () => {
    if (redis === null) throw new Error('useRedis(): no redis-server yet (call it inside describe(), use it inside it())');
    return redis;
  };
}
