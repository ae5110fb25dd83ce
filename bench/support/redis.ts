/**
 * A redis-server of the cluster benchmarks' own: on a free 127.0.0.1 port,
 * in a temporary directory, with the settings docs/cluster.md recommends
 * (`appendonly yes`, `maxmemory-policy noeviction`), stopped and removed
 * by `stop()`. `cpuSeconds()` reads its CPU time from INFO cpu.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createClient } from 'redis';
import { bounded, sleep } from './stats.js';

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((done) => server.close(() => done()));
  return port;
}

export class BenchRedis {
  readonly url: string;
  readonly #child: ChildProcess;
  readonly #dir: string;
  readonly #client: ReturnType<typeof createClient>;

  private constructor(url: string, child: ChildProcess, dir: string, client: ReturnType<typeof createClient>) {
    this.url = url;
    this.#child = child;
    this.#dir = dir;
    this.#client = client;
  }

  /** Starts redis-server and waits until it answers. */
  static async start(): Promise<BenchRedis> {
    const port = await freePort();
    const dir = mkdtempSync(join(tmpdir(), 'kj-bench-redis-'));
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--maxmemory-policy', 'noeviction', '--loglevel', 'warning'];
    const child = spawn('redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
    child.once('error', () => {});
    const url = `redis://127.0.0.1:${port}`;
    const client = createClient({ url, RESP: 2 });
    client.on('error', () => {});
    const deadline = Date.now() + 10_000;
    for (;;) {
      try {
        await bounded(client.connect(), 1000, 'a connection to redis-server');
        break;
      } catch (err) {
        if (Date.now() > deadline) {
          child.kill('SIGKILL');
          throw new Error(`redis-server did not start (is the redis-server package installed?): ${(err as Error).message}`);
        }
        await sleep(50);
      }
    }
    return new BenchRedis(url, child, dir, client);
  }

  /** Redis's CPU time so far (user + system), in seconds. */
  async cpuSeconds(): Promise<number> {
    const info = await this.#client.info('cpu');
    const read = (field: string) => Number(new RegExp(`${field}:([\\d.]+)`).exec(info)?.[1] ?? NaN);
    return read('used_cpu_user') + read('used_cpu_sys');
  }

  /** Stops the server and removes its directory. */
  async stop(): Promise<void> {
    await this.#client.quit().catch(() => {});
    const exited = new Promise((done) => this.#child.once('exit', done));
    this.#child.kill('SIGKILL');
    await exited;
    rmSync(this.#dir, { recursive: true, force: true });
  }
}
