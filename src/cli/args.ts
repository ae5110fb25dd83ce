/**
 * The command line of `koa-juggler`: one table of flags that drives both
 * parsing (node:util parseArgs) and `--help`, and a {@link UsageError} that
 * names the flag at fault. Only syntax is checked here; whether files can
 * be read is checked by main.ts before the server starts.
 */
import { parseArgs } from 'node:util';

/** A mistake on the command line: one line for stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly code = 'ERR_USAGE';
  readonly exitCode = 2;
}

/** What `serve` was asked to do. Fields left undefined take listen()'s defaults. */
export interface ServeConfig {
  /** Directory to serve; null serves the demo dashboard shipped with the package. */
  dir: string | null;
  /** Which flag (or 'the directory argument') named `dir`, for error messages. */
  dirSource: string;
  host: string;
  port: number;
  htpasswd: string | null;
  tlsKey: string | null;
  tlsCert: string | null;
  autoflushDelay?: number | null;
  wsPath?: string;
  indexPath?: string | null;
  parallelRequests?: boolean;
  noCache?: boolean;
  shutdownTimeout?: number;
  pingDelay?: number;
  pingTimeout?: number;
  framing?: 'segmented' | 'plain';
  allowedOrigins?: string[];
  maxConnections?: number;
  /** `--app FILE`: the module with the handlers and options; absent runs the demo. */
  app?: string;
  /** `--redis URL`: run as a node of a Redis cluster; absent for one process. */
  redisUrl?: string;
  /** `--cluster-name NAME` (with `--redis`). @default 'demo' */
  clusterName?: string;
  /** How the server logs: one plain line each, or one JSON object per line. */
  logFormat: 'text' | 'json';
  /** On SIGINT/SIGTERM, over how long connections are closed with 1012 before the server closes. */
  drainTimeout: number;
  metrics?: boolean;
  health?: boolean;
  compression?: boolean;
}

/** Default of `--drain-timeout`. */
export const DEFAULT_DRAIN_TIMEOUT = 10000;

export type Command = { kind: 'help' } | { kind: 'version' } | { kind: 'serve'; config: ServeConfig };

export const DEFAULT_HOST = '127.0.0.1';
export const DEFAULT_PORT = 8080;
/** Timers take at most 2^31 - 1 ms. */
const MAX_MS = 2147483647;

interface FlagSpec {
  name: string;
  short?: string;
  type: 'string' | 'boolean';
  multiple?: boolean;
  value?: string;
  help: string;
}

/** Every flag of `serve`, in the order `--help` lists them. */
export const SERVE_FLAGS: readonly FlagSpec[] = [
  { name: 'host', type: 'string', value: 'HOST', help: `interface to listen on (default ${DEFAULT_HOST}; 0.0.0.0 for all)` },
  { name: 'port', short: 'p', type: 'string', value: 'N', help: `TCP port; 0 picks a free one (default $PORT, else ${DEFAULT_PORT})` },
  { name: 'static', type: 'string', value: 'DIR', help: 'directory of static files; same as the DIR argument (default: the demo dashboard)' },
  { name: 'app', type: 'string', value: 'FILE', help: 'module (.mjs/.js) exporting onRequest, onConnection, onNotify, onStream, onView, state, middleware, start, or a default function returning them: your backend instead of the demo' },
  { name: 'htpasswd', type: 'string', value: 'FILE', help: 'Apache htpasswd file (bcrypt, apr1 or SHA): HTTP Basic auth on every page and the WebSocket' },
  { name: 'tls-key', type: 'string', value: 'FILE', help: 'PEM private key: serve https and wss (needs --tls-cert)' },
  { name: 'tls-cert', type: 'string', value: 'FILE', help: 'PEM certificate (chain) for --tls-key' },
  { name: 'autoflush', type: 'string', value: 'MS', help: "longest delay before state changes are sent (default 200); 0 sends each change; 'off' leaves it to the application (the demo then sends them each second and after each request)" },
  { name: 'ws-path', type: 'string', value: 'PATH', help: 'URL path of the WebSocket endpoint (default /ws)' },
  { name: 'index', type: 'string', value: 'PATH', help: "where GET / redirects (default /index.html); 'off' for no redirect" },
  { name: 'parallel', type: 'boolean', help: 'handle the requests of one connection concurrently (default: one at a time, in order)' },
  { name: 'cache', type: 'boolean', help: 'let browsers cache responses (default: every response says Cache-Control: no-cache)' },
  { name: 'allow-origin', type: 'string', multiple: true, value: 'ORIGIN', help: 'a page origin allowed to open the WebSocket, e.g. https://app.example; repeatable (default: any, or only the own origin with --htpasswd)' },
  { name: 'framing', type: 'string', value: 'KIND', help: "'segmented' (juggler, default) or 'plain' (bare JSON messages, no pings)" },
  { name: 'ping-delay', type: 'string', value: 'MS', help: 'ping a connection silent this long (default 30000)' },
  { name: 'ping-timeout', type: 'string', value: 'MS', help: 'drop a connection that answers nothing this long after a ping (default 30000)' },
  { name: 'shutdown-timeout', type: 'string', value: 'MS', help: 'on SIGINT/SIGTERM, how long connections get to close before they are cut (default 100)' },
  { name: 'max-connections', type: 'string', value: 'N', help: 'open WebSocket connections beyond which new ones get 503 (default 10000)' },
  { name: 'redis', type: 'string', value: 'URL', help: 'run as one node of a cluster sharing its state through this Redis (redis:// or rediss://); needs SESSION_SECRET in the environment for sessions to cross nodes' },
  { name: 'cluster-name', type: 'string', value: 'NAME', help: "the cluster's name with --redis: its Redis keys start with koa-juggler:NAME: (default demo)" },
  { name: 'drain-timeout', type: 'string', value: 'MS', help: `on SIGINT/SIGTERM, first refuse new connections and close the open ones with 1012 (clients go elsewhere) spread over this long (default ${DEFAULT_DRAIN_TIMEOUT}); 0 closes them all at once` },
  { name: 'log-format', type: 'string', value: 'FORMAT', help: "'text' (default: one plain line each) or 'json' (one JSON object per line, pino's fields)" },
  { name: 'metrics', type: 'boolean', help: 'Prometheus metrics at /metrics (behind --htpasswd like every page)' },
  { name: 'health', type: 'boolean', help: '/healthz and /readyz for load balancers (never behind authentication)' },
  { name: 'compression', type: 'boolean', help: 'permessage-deflate on the WebSocket (see docs/operating.md)' },
  { name: 'help', short: 'h', type: 'boolean', help: 'show this help and exit' },
  { name: 'version', short: 'v', type: 'boolean', help: 'print the version and exit' },
];

/** The text of `koa-juggler --help`. */
export function helpText(): string {
  const left = (f: FlagSpec) => `${f.short ? `-${f.short}, ` : '    '}--${f.name}${f.value ? ` ${f.value}` : ''}`;
  const width = Math.max(...SERVE_FLAGS.map((f) => left(f).length)) + 2;
  const flags = SERVE_FLAGS.map((f) => `  ${left(f).padEnd(width)}${wrap(f.help, HELP_WIDTH - width - 2, ' '.repeat(width + 2))}`).join('\n');
  return `Usage: koa-juggler serve [DIR] [flags]

Serves DIR (default: the bundled demo dashboard) over HTTP, with a juggler
WebSocket endpoint at /ws and the browser client at /juggler-client.js.
Behind the endpoint runs the demo application (or yours, with --app): a
shared state (startedAt, uptime, clients, peakClients, counter, requests,
lastAction, and a simulated plant of 3000 points under plant) that every
client sees change live; requests increment, decrement (data: null or a
step), reset and ack (data: a point's id); notifications welcome, joined,
left, reset, milestone, alarm and ack. With --redis the plant is left out.

Prints "listening on http://HOST:PORT/" once it listens. SIGINT or SIGTERM
drains (new connections refused, open ones closed with 1012 over
--drain-timeout), closes and exits 0; a second signal exits at once.

Flags:
${flags}

Environment:
  PORT            the port when --port is not given
  SESSION_SECRET  with --redis: the key every node signs and verifies session tokens with

Exit codes: 0 after a clean shutdown, 1 when the server cannot start,
2 for a mistake on the command line or a file that cannot be read.

Examples:
  koa-juggler serve                          the demo on http://127.0.0.1:8080/
  koa-juggler serve ./public --port 9000     your own pages, same demo backend
  koa-juggler serve ./public --app ./app.mjs your own pages and your own backend
  koa-juggler serve --host 0.0.0.0 --htpasswd ./htpasswd --tls-key key.pem --tls-cert cert.pem
  SESSION_SECRET=... koa-juggler serve --redis redis://127.0.0.1:6379 --port 8081   one node of two
`;
}

const HELP_WIDTH = 100;

function wrap(text: string, width: number, indent: string): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  lines.push(line);
  return lines.join(`\n${indent}`);
}

/**
 * Parses the arguments after the program name.
 * @param env where `PORT` is read from
 * @throws UsageError naming the flag or argument at fault
 */
export function parseCommand(argv: readonly string[], env: Record<string, string | undefined> = {}): Command {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('missing command: try "koa-juggler serve" or "koa-juggler --help"');
  if (command === '--help' || command === '-h' || command === 'help') return { kind: 'help' };
  if (command === '--version' || command === '-v' || command === 'version') return { kind: 'version' };
  if (command !== 'serve') {
    const what = command.startsWith('-') ? `unknown flag ${command} before the command` : `unknown command "${command}"`;
    throw new UsageError(`${what}: try "koa-juggler serve" or "koa-juggler --help"`);
  }
  const { values, positionals } = parseServeArgs(rest);
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };
  return { kind: 'serve', config: toConfig(values, positionals, env) };
}

type Values = Record<string, string | boolean | string[] | undefined>;

function parseServeArgs(args: string[]): { values: Values; positionals: string[] } {
  const options: Record<string, { type: 'string' | 'boolean'; short?: string; multiple?: boolean }> = {};
  for (const f of SERVE_FLAGS) options[f.name] = { type: f.type, ...(f.short && { short: f.short }), ...(f.multiple && { multiple: true }) };
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true }) as { values: Values; positionals: string[] };
  } catch (err) {
    throw toUsageError(err as Error & { code?: string });
  }
}

/** parseArgs' messages are long and suggest things that do not apply; ours name the flag and stop. */
function toUsageError(err: Error & { code?: string }): UsageError {
  const quoted = /'([^']+)'/.exec(err.message)?.[1] ?? '';
  // Quoted as '--port', '-p', '-p, --port <value>' or '--port=x', depending on the mistake.
  const flag = /--[\w-]+/.exec(quoted)?.[0] ?? longName(/-\w/.exec(quoted)?.[0] ?? quoted);
  switch (err.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return new UsageError(`unknown flag ${quoted || '(?)'} (see koa-juggler --help)`);
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE':
      if (/does not take an argument/.test(err.message)) return new UsageError(`${flag} takes no value`);
      return new UsageError(`${flag} needs a value`);
    default:
      return new UsageError(err.message.split('\n')[0]);
  }
}

function longName(flag: string): string {
  if (/^-[^-]$/.test(flag)) {
    const spec = SERVE_FLAGS.find((f) => f.short === flag.slice(1));
    if (spec) return `--${spec.name}`;
  }
  return flag;
}

function toConfig(values: Values, positionals: string[], env: Record<string, string | undefined>): ServeConfig {
  const str = (name: string): string | undefined => {
    const v = values[name] as string | undefined;
    if (v !== undefined && v.trim() === '') throw new UsageError(`--${name} needs a non-empty value`);
    return v;
  };
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}": serve takes one directory`);
  const staticFlag = str('static');
  if (staticFlag !== undefined && positionals.length === 1) {
    throw new UsageError(`--static and the directory argument "${positionals[0]}" both name a directory: give one`);
  }
  const dir = staticFlag ?? positionals[0] ?? null;
  if (dir === '') throw new UsageError('the directory argument is empty');

  let port = DEFAULT_PORT;
  const portFlag = str('port');
  if (portFlag !== undefined) port = integer('--port', portFlag, 0, 65535);
  else if (env.PORT !== undefined && env.PORT !== '') port = integer('PORT (environment)', env.PORT, 0, 65535);

  const tlsKey = str('tls-key') ?? null;
  const tlsCert = str('tls-cert') ?? null;
  if ((tlsKey === null) !== (tlsCert === null)) {
    throw new UsageError(tlsKey === null ? '--tls-cert needs --tls-key as well' : '--tls-key needs --tls-cert as well');
  }

  const config: ServeConfig = {
    dir,
    dirSource: staticFlag !== undefined ? '--static' : 'the directory argument',
    host: str('host') ?? DEFAULT_HOST,
    port,
    htpasswd: str('htpasswd') ?? null,
    tlsKey,
    tlsCert,
    logFormat: 'text',
    drainTimeout: DEFAULT_DRAIN_TIMEOUT,
  };
  const app = str('app');
  if (app !== undefined) config.app = app;
  const redis = str('redis');
  const clusterName = str('cluster-name');
  if (redis !== undefined) {
    if (!/^rediss?:\/\/./.test(redis)) throw new UsageError('--redis: expected a redis:// or rediss:// URL');
    config.redisUrl = redis;
    config.clusterName = clusterName ?? 'demo';
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(config.clusterName)) throw new UsageError('--cluster-name: expected 1-64 of A-Z a-z 0-9 . _ -');
  } else if (clusterName !== undefined) throw new UsageError('--cluster-name needs --redis as well');
  const logFormat = str('log-format');
  if (logFormat !== undefined) {
    if (logFormat !== 'text' && logFormat !== 'json') throw new UsageError(`--log-format: expected "text" or "json", got "${logFormat}"`);
    config.logFormat = logFormat;
  }
  for (const flag of ['metrics', 'health', 'compression'] as const) if (values[flag]) config[flag] = true;
  const autoflush = str('autoflush');
  if (autoflush !== undefined) {
    config.autoflushDelay = /^(off|null|none|manual)$/i.test(autoflush) ? null : integer('--autoflush', autoflush, 0, MAX_MS);
  }
  const wsPath = str('ws-path');
  if (wsPath !== undefined) config.wsPath = urlPath('--ws-path', wsPath);
  const index = str('index');
  if (index !== undefined) config.indexPath = /^(off|null|none)$/i.test(index) ? null : urlPath('--index', index);
  if (values.parallel) config.parallelRequests = true;
  if (values.cache) config.noCache = false;
  const origins = values['allow-origin'] as string[] | undefined;
  if (origins !== undefined) config.allowedOrigins = origins.map(origin);
  const framing = str('framing');
  if (framing !== undefined) {
    if (framing !== 'segmented' && framing !== 'plain') throw new UsageError(`--framing: expected "segmented" or "plain", got "${framing}"`);
    config.framing = framing;
  }
  const ms = (name: string, min: number): number | undefined => {
    const v = str(name);
    return v === undefined ? undefined : integer(`--${name}`, v, min, MAX_MS);
  };
  assignDefined(config, 'pingDelay', ms('ping-delay', 1));
  assignDefined(config, 'pingTimeout', ms('ping-timeout', 1));
  assignDefined(config, 'shutdownTimeout', ms('shutdown-timeout', 0));
  assignDefined(config, 'drainTimeout', ms('drain-timeout', 0));
  const max = str('max-connections');
  if (max !== undefined) config.maxConnections = integer('--max-connections', max, 1, Number.MAX_SAFE_INTEGER);
  return config;
}

function assignDefined<K extends keyof ServeConfig>(config: ServeConfig, key: K, value: ServeConfig[K] | undefined): void {
  if (value !== undefined) config[key] = value;
}

function integer(name: string, text: string, min: number, max: number): number {
  const n = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`${name}: expected an integer from ${min} to ${max}, got "${text}"`);
  }
  return n;
}

function urlPath(name: string, text: string): string {
  if (!text.startsWith('/') || /\s/.test(text)) throw new UsageError(`${name}: expected a URL path starting with "/", got "${text}"`);
  return text;
}

function origin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`--allow-origin: expected an origin like https://app.example, got "${text}"`);
  }
  if (url.origin === 'null' || url.pathname !== '/' || url.search !== '' || url.hash !== '' || url.username !== '') {
    throw new UsageError(`--allow-origin: expected an origin like https://app.example (scheme, host, port only), got "${text}"`);
  }
  return url.origin;
}
