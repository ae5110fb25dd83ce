/**
 * Entry point of every benchmark child process (see rpc.ts): imports a
 * bench module, runs one of its exported setup functions with a {@link Host},
 * reports ready, then answers commands until the parent asks it to exit or
 * goes away. Every child also answers `cpu` (its own CPU time) and `mem`
 * (its memory, after a full GC when run with --expose-gc).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Host } from './rpc.js';
import { now } from './stats.js';

const [modulePath, exportName, argsJson] = process.argv.slice(2) as [string, string, string];
const handlers = new Map<string, (payload: any) => unknown>();
const cleanups: (() => unknown)[] = [];

function send(message: unknown): void {
  if (process.connected) process.send!(message);
}

const host: Host = {
  handle(command, handler) {
    handlers.set(command, handler);
  },
  emit(event, data) {
    send({ event, data: data ?? null });
  },
  onExit(cleanup) {
    cleanups.push(cleanup);
  },
};

// Set by rpc.ts for BENCH_PROFILE_WINDOW: profile from the first `cpu` reading until exit.
const profileOut = process.env.BENCH_PROFILE_OUT;
let profiler: Session | null = null;

function startWindowProfile(): void {
  if (!profileOut || profiler) return;
  profiler = new Session();
  profiler.connect();
  profiler.post('Profiler.enable');
  profiler.post('Profiler.start');
}

function writeWindowProfile(): Promise<void> {
  const session = profiler;
  if (!session || !profileOut) return Promise.resolve();
  return new Promise((resolve) => {
    session.post('Profiler.stop', (err, result) => {
      if (!err) {
        mkdirSync(profileOut, { recursive: true });
        writeFileSync(join(profileOut, `window-${process.pid}.cpuprofile`), JSON.stringify(result.profile));
      }
      resolve();
    });
  });
}

host.handle('cpu', () => {
  startWindowProfile();
  const { user, system } = process.cpuUsage();
  return { cpuMicros: user + system, t: now() };
});

host.handle('mem', async (payload: { gc?: boolean } | null) => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (payload?.gc && gc) {
    // Twice, with a turn of the loop between: weak callbacks and finalizers run after the first.
    gc();
    await new Promise((resolve) => setImmediate(resolve));
    gc();
  }
  return process.memoryUsage();
});

async function exit(): Promise<never> {
  const timer = setTimeout(() => process.exit(0), 5000);
  await writeWindowProfile();
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup();
    } catch {
      // Exiting anyway.
    }
  }
  clearTimeout(timer);
  process.exit(0);
}

process.on('disconnect', () => void exit());
process.on('message', async (m: { id: number; command: string; payload: unknown }) => {
  if (m.command === '__exit') return void exit();
  const handler = handlers.get(m.command);
  try {
    if (!handler) throw new Error(`unknown command ${m.command}`);
    send({ id: m.id, ok: true, result: (await handler(m.payload)) ?? null });
  } catch (err) {
    send({ id: m.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});

try {
  const module = (await import(pathToFileURL(modulePath).href)) as Record<string, unknown>;
  const setup = module[exportName];
  if (typeof setup !== 'function') throw new Error(`${modulePath} exports no function ${exportName}`);
  const info = await (setup as (host: Host, args: unknown) => unknown)(host, JSON.parse(argsJson));
  send({ ready: true, info: info ?? null });
} catch (err) {
  send({ ready: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  setTimeout(() => process.exit(1), 100);
}
