/**
 * Runs the real command, `node bin/koa-juggler.js ...`, as a child process:
 * its output line by line, a bounded wait for a line, and its exit. The
 * root afterEach hook kills whatever a test left running.
 */
import { spawn, type ChildProcess, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { onCleanup } from './cleanup.js';
import { deferred, within } from './wait.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'koa-juggler.js');

function newest(path: string): number {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  return readdirSync(path).reduce((max, entry) => Math.max(max, newest(join(path, entry))), st.mtimeMs);
}

/**
 * The command runs from dist/: build it when it is missing or older than
 * src/ (what `npm test` does through scripts/ensure.mjs, without the
 * dependency check, so a direct `npx mocha test/cli` tests current code).
 */
export function ensureBuilt(): void {
  const stamp = join(ROOT, 'dist', '.build-stamp');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newest(join(ROOT, 'src'))) return;
  execFileSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs')], { cwd: ROOT, stdio: 'inherit' });
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export class CliProcess {
  readonly child: ChildProcess;
  readonly stdout: string[] = [];
  readonly stderr: string[] = [];
  readonly exited: Promise<Exit>;
  #waiters: { stream: 'stdout' | 'stderr'; pattern: RegExp; resolve: (m: RegExpMatchArray) => void }[] = [];

  /** @param options.script what node runs (default: this tree's bin/koa-juggler.js), e.g. an installed package's bin */
  constructor(args: string[], options: { env?: Record<string, string | undefined>; cwd?: string; script?: string } = {}) {
    const env = { ...process.env, ...options.env };
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key];
    this.child = spawn(process.execPath, [options.script ?? BIN, ...args], { cwd: options.cwd ?? ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const exited = deferred<Exit>();
    this.exited = exited.promise;
    this.child.on('exit', (code, signal) => exited.resolve({ code, signal }));
    this.#lines('stdout');
    this.#lines('stderr');
    onCleanup(() => {
      if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
      return this.exited;
    });
  }

  #lines(stream: 'stdout' | 'stderr'): void {
    let buffer = '';
    this.child[stream]!.setEncoding('utf8');
    this.child[stream]!.on('data', (chunk: string) => {
      buffer += chunk;
      let newline: number;
      while ((newline = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        this[stream].push(line);
        this.#waiters = this.#waiters.filter((w) => {
          const match = w.stream === stream ? line.match(w.pattern) : null;
          if (match) w.resolve(match);
          return !match;
        });
      }
    });
  }

  /** The first line (already printed or later) on `stream` that matches. */
  waitForLine(pattern: RegExp, stream: 'stdout' | 'stderr' = 'stdout', ms = 10_000): Promise<RegExpMatchArray> {
    for (const line of this[stream]) {
      const match = line.match(pattern);
      if (match) return Promise.resolve(match);
    }
    const d = deferred<RegExpMatchArray>();
    this.#waiters.push({ stream, pattern, resolve: d.resolve });
    const failed = this.exited.then((exit) => {
      throw new Error(`the command exited (${exit.code ?? exit.signal}) before printing ${pattern}; stderr: ${this.stderr.join(' | ')}`);
    });
    return within(Promise.race([d.promise, failed]), ms, `a line matching ${pattern}`);
  }

  /** Waits for the `listening on` line (plain, or the `msg` of a JSON line); resolves with the URL it names. */
  async listening(ms?: number): Promise<URL> {
    const [, plain, json] = await this.waitForLine(/^listening on (\S+)$|"msg":"listening on ([^"]+)"/, 'stdout', ms);
    const url = plain ?? json;
    return new URL(url);
  }

  /** Waits for the exit; fails the test when it takes longer than `ms`. */
  waitExit(ms = 10_000): Promise<Exit> {
    return within(this.exited, ms, 'the command to exit');
  }
}

/** Starts `koa-juggler ...args`. */
export function runCli(args: string[], options?: { env?: Record<string, string | undefined>; cwd?: string }): CliProcess {
  return new CliProcess(args, options);
}
