/**
 * `koa-juggler`: the command. `serve [DIR]` runs an app module (`--app`,
 * app-module.ts; the demo, demo-app.ts, without it) behind a static
 * directory until SIGINT or SIGTERM.
 *
 * Output: exactly one line `listening on http://HOST:PORT/` on stdout once
 * the server listens; every problem is one line on stderr. With
 * `--log-format json` the server's lines are JSON objects on stdout (the
 * listening line's `msg` is the same text); a usage mistake stays plain.
 * On SIGINT or SIGTERM the server drains (`--drain-timeout`), then closes. Exit codes: 0
 * after a clean shutdown (and for --help, --version), 1 when the server
 * cannot start, 2 for a usage mistake or a file that cannot be read.
 */
import { constants } from 'node:fs';
import { access, readFile, stat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { helpText, parseCommand, UsageError, type ServeConfig } from './args.js';
import { randomBytes } from 'node:crypto';
import { jsonLinesLogger, textLogger, type Logger } from '../server/logger.js';
import counterApp, { DEMO_STATIC_DIR, demoInitialState, type DemoOptions } from './demo-app.js';
import { AppModuleError, loadApp, type AppFactory } from './app-module.js';
import { startApp, type RunningApp } from './start-app.js';
import { packageVersion } from './package-info.js';

/** Where the command writes and what it reads; the process's own by default (tests may pass others). */
export interface MainIo {
  stdout(line: string): void;
  stderr(line: string): void;
  env: Record<string, string | undefined>;
  /** Resolves with the first shutdown signal; `onSecond` is called on each later one. */
  waitForSignal(onSecond: (signal: string) => void): { signal: Promise<string>; dispose(): void };
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
/** After a clean close nothing should keep the process alive; if something does, this bounds the wait. */
const EXIT_GRACE_MS = 2000;

/**
 * Runs the command with the arguments after the program name.
 *
 * @example
 * // bin/koa-juggler.js
 * main(process.argv.slice(2)).then((code) => { process.exitCode = code; });
 * @returns the exit code; for `serve`, once the server has shut down
 */
export async function main(argv: string[], io: MainIo = processIo()): Promise<number> {
  let command;
  try {
    command = parseCommand(argv, io.env);
  } catch (err) {
    return fail(io, err);
  }
  if (command.kind === 'help') {
    io.stdout(helpText().trimEnd());
    return EXIT_OK;
  }
  if (command.kind === 'version') {
    io.stdout(packageVersion());
    return EXIT_OK;
  }
  return serve(command.config, io);
}

async function serve(config: ServeConfig, io: MainIo): Promise<number> {
  let options: DemoOptions;
  let factory: AppFactory;
  try {
    options = await demoOptions(config);
    // The plant simulation runs on one process only: on a cluster each node would run its own.
    factory = config.app !== undefined ? await loadApp(config.app) : (context) => counterApp(context, undefined, config.redisUrl === undefined);
    // Without --app and DIR the demo's own pages go with the demo's backend.
    if (config.app === undefined && config.dir === null) options.staticDir = DEMO_STATIC_DIR;
  } catch (err) {
    return fail(io, err);
  }
  const logger: Logger = config.logFormat === 'json' ? jsonLinesLogger(io.stdout) : textLogger({ out: io.stdout, err: io.stderr });
  options.logger = logger;
  // Handlers first: a signal that arrives while starting, or right after the
  // "listening" line, must still shut down cleanly.
  const signals = io.waitForSignal((signal) => {
    logger.warn({ signal }, `${signal} again: exiting at once`);
    process.exit(signal === 'SIGINT' ? 130 : 143);
  });
  let demo: RunningApp;
  let leaveCluster = async (): Promise<void> => {};
  try {
    if (config.redisUrl !== undefined) leaveCluster = await joinCluster(config, options, io);
    demo = await startApp(factory, options);
  } catch (err) {
    signals.dispose();
    await leaveCluster();
    return fail(io, startError(err, config));
  }
  const scheme = config.tlsKey !== null ? 'https' : 'http';
  const host = config.host.includes(':') ? `[${config.host}]` : config.host;
  const url = `${scheme}://${host}:${demo.port}/`;
  logger.info({ url }, `listening on ${url}`);

  const signal = await signals.signal;
  // Clients leave as a trickle to the other nodes (1012), then the server closes.
  if (config.logFormat === 'json') logger.info({ signal, drainTimeout: config.drainTimeout }, 'draining');
  await demo.server.drain({ timeout: config.drainTimeout });
  await demo.close();
  await leaveCluster();
  signals.dispose();
  // The server is closed and the uptime timer cleared: the process ends by
  // itself. Should a stray handle (a user's keep-alive socket in some
  // runtime) hold it, this unref'd timer ends it without holding it itself.
  setTimeout(() => process.exit(EXIT_OK), EXIT_GRACE_MS).unref();
  return EXIT_OK;
}

/**
 * `--redis`: joins the cluster (loaded only then, so one process never
 * loads the Redis client) and puts it into the demo's options.
 * @returns what closes the cluster node
 */
async function joinCluster(config: ServeConfig, options: DemoOptions, io: MainIo): Promise<() => Promise<void>> {
  let secret = io.env.SESSION_SECRET;
  if (secret === undefined || secret.length < 16) {
    secret = randomBytes(32).toString('base64url');
    io.stderr('koa-juggler: WARNING: SESSION_SECRET is not set (or shorter than 16 characters): using a random one, so sessions do not cross nodes; give every node the same SESSION_SECRET');
  }
  const { redisCluster } = await import('../cluster/index.js');
  const cluster = await redisCluster({
    url: config.redisUrl!,
    name: config.clusterName ?? 'demo',
    initial: demoInitialState(),
    // Reported once the server listens, by its onError (kind 'cluster').
    onError: () => {},
  });
  options.cluster = cluster;
  options.sessionSecret = secret;
  return () => cluster.close();
}

/** Checks the directory and files named on the command line and turns the config into listen() options. */
async function demoOptions(config: ServeConfig): Promise<DemoOptions> {
  const options: DemoOptions = {
    host: config.host,
    port: config.port,
    autoflushDelay: config.autoflushDelay,
    wsPath: config.wsPath,
    indexPath: config.indexPath,
    parallelRequests: config.parallelRequests,
    noCache: config.noCache,
    shutdownTimeout: config.shutdownTimeout,
    pingDelay: config.pingDelay,
    pingTimeout: config.pingTimeout,
    framing: config.framing,
    allowedOrigins: config.allowedOrigins,
    maxConnections: config.maxConnections,
    metrics: config.metrics,
    health: config.health,
    compression: config.compression,
  };
  if (config.dir !== null) {
    await checkDirectory(config.dirSource, config.dir);
    options.staticDir = resolve(config.dir);
  }
  if (config.htpasswd !== null) {
    await checkFile('--htpasswd', config.htpasswd);
    options.htpasswdFile = resolve(config.htpasswd);
  }
  if (config.tlsKey !== null && config.tlsCert !== null) {
    const [key, cert] = await Promise.all([readUserFile('--tls-key', config.tlsKey), readUserFile('--tls-cert', config.tlsCert)]);
    options.tls = { key, cert };
  }
  return options;
}

async function checkDirectory(source: string, dir: string): Promise<void> {
  const info = await stat(dir).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${source}: cannot read "${dir}": ${describe(err, 'no such directory')}`);
  });
  if (!info.isDirectory()) throw new UsageError(`${source}: "${dir}" is not a directory`);
  await access(dir, constants.R_OK | constants.X_OK).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${source}: cannot read "${dir}": ${describe(err, 'no such directory')}`);
  });
}

async function checkFile(flag: string, file: string): Promise<void> {
  const info = await stat(file).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${flag}: cannot read "${file}": ${describe(err, 'no such file')}`);
  });
  if (!info.isFile()) throw new UsageError(`${flag}: "${file}" is not a file`);
  await access(file, constants.R_OK).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${flag}: cannot read "${file}": ${describe(err, 'no such file')}`);
  });
}

async function readUserFile(flag: string, file: string): Promise<Buffer> {
  await checkFile(flag, file);
  return readFile(file).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`${flag}: cannot read "${file}": ${describe(err, 'no such file')}`);
  });
}

function describe(err: NodeJS.ErrnoException, missing: string): string {
  switch (err.code) {
    case 'ENOENT':
      return missing;
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOTDIR':
      return 'a part of the path is not a directory';
    default:
      return err.message;
  }
}

/** Says why the server did not start, naming the flag when one is at fault. */
function startError(err: unknown, config: ServeConfig): Error {
  if (err instanceof AppModuleError) return err;
  const e: NodeJS.ErrnoException = err instanceof Error ? err : new Error(String(err));
  const where = `${config.host}:${config.port}`;
  switch (e.code) {
    case 'EADDRINUSE':
      return Object.assign(new Error(`cannot listen on ${where}: the address is already in use (try --port)`), { exitCode: EXIT_FAILED });
    case 'EACCES':
      return Object.assign(new Error(`cannot listen on ${where}: permission denied (ports below 1024 need privileges)`), { exitCode: EXIT_FAILED });
    case 'EADDRNOTAVAIL':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return new UsageError(`--host: cannot listen on ${where}: no such local address`);
    case 'ERR_HTPASSWD':
      return new UsageError(`--htpasswd: ${e.message}`);
    case 'ERR_INVALID_ARG':
      return new UsageError(e.message);
  }
  if (config.tlsKey !== null && (/^ERR_OSSL|^ERR_SSL/.test(e.code ?? '') || /PEM|key values mismatch|certificate/i.test(e.message))) {
    return new UsageError(`--tls-key/--tls-cert: not a usable key and certificate: ${e.message}`);
  }
  return Object.assign(new Error(`cannot start: ${e.message}`), { exitCode: EXIT_FAILED });
}

function fail(io: MainIo, err: unknown): number {
  const e = err instanceof Error ? err : new Error(String(err));
  io.stderr(`koa-juggler: ${e.message.split('\n')[0]}`);
  if (e instanceof UsageError) return EXIT_USAGE;
  const code = (e as { exitCode?: unknown }).exitCode;
  return typeof code === 'number' ? code : EXIT_FAILED;
}

function processIo(): MainIo {
  return {
    stdout: (line) => void process.stdout.write(line + '\n'),
    stderr: (line) => void process.stderr.write(line + '\n'),
    env: process.env,
    waitForSignal(onSecond) {
      const names = ['SIGINT', 'SIGTERM'] as const;
      let first: ((signal: string) => void) | null = null;
      const signal = new Promise<string>((resolve) => (first = resolve));
      const handler = (name: NodeJS.Signals): void => {
        if (first !== null) {
          const resolveFirst = first;
          first = null;
          resolveFirst(name);
        } else {
          onSecond(name);
        }
      };
      for (const name of names) process.on(name, handler);
      return {
        signal,
        dispose: () => {
          for (const name of names) process.off(name, handler);
        },
      };
    },
  };
}
