/**
 * The server's logger: pino-compatible (`info`, `warn`, `error`, each
 * taking an object of fields first and a message after), so a pino or
 * bunyan instance can be passed as it is. The default writes one line per
 * call, as koa-juggler always has; {@link jsonLinesLogger} writes one JSON
 * object per line (what `koa-juggler serve --log-format json` uses).
 */

/** A pino-compatible logger: `logger.info({ ...fields }, 'message')`. */
export interface Logger {
  /** Routine events (the listening line, a drain's progress). */
  info(fields: object, message?: string): void;
  /** Something worth a look that the server handled (a refused connection, a slow client). */
  warn(fields: object, message?: string): void;
  /** A failure: handler errors, protocol closes, socket errors (what `onError` reports by default). */
  error(fields: object, message?: string): void;
}

/** Where the plain-text logger writes. */
export interface LineSinks {
  /** info lines. */
  out(line: string): void;
  /** warn and error lines. */
  err(line: string): void;
}

const CONSOLE: LineSinks = {
  out: (line) => console.log(line),
  err: (line) => console.error(line),
};

/**
 * The default logger: info lines as they are on stdout, warnings and errors
 * as `koa-juggler: message` on stderr (the fields are for structured
 * loggers; the message says it all).
 * @example
 * textLogger().error({ kind: 'handler' }, 'handler error: boom'); // stderr: koa-juggler: handler error: boom
 */
export function textLogger(sinks: LineSinks = CONSOLE): Logger {
  return {
    info: (_fields, message = '') => sinks.out(message),
    warn: (_fields, message = '') => sinks.err(`koa-juggler: ${message}`),
    error: (_fields, message = '') => sinks.err(`koa-juggler: ${message}`),
  };
}

// pino's numeric levels, so its tools (pino-pretty, log shippers' parsers) read our lines.
const LEVELS = { info: 30, warn: 40, error: 50 } as const;

/**
 * A logger writing one JSON object per line, in pino's shape: `level`
 * (30, 40, 50), `time` (ms since the epoch), the fields, then `msg`. An
 * `Error` among the fields becomes `{ type, message, stack }`; a field
 * JSON cannot carry (a cycle, a BigInt) is replaced by its `String()`.
 * @param write receives each line without its newline
 * @example
 * const logger = jsonLinesLogger((line) => process.stdout.write(line + '\n'));
 * logger.info({ port: 8080 }, 'listening'); // {"level":30,"time":1700000000000,"port":8080,"msg":"listening"}
 */
export function jsonLinesLogger(write: (line: string) => void): Logger {
  const log =
    (level: keyof typeof LEVELS) =>
    (fields: object, message?: string): void => {
      const record: Record<string, unknown> = { level: LEVELS[level], time: Date.now() };
      for (const [key, value] of Object.entries(fields ?? {})) record[key] = value instanceof Error ? errorFields(value) : value;
      if (message !== undefined) record.msg = message;
      write(stringify(record));
    };
  return { info: log('info'), warn: log('warn'), error: log('error') };
}

function errorFields(err: Error): Record<string, unknown> {
  return { type: err.name, message: err.message, stack: err.stack };
}

function stringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record);
  } catch {
    // One bad field must not cost the whole line.
    const safe: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(record)) {
      try {
        JSON.stringify(value);
        safe[key] = value;
      } catch {
        safe[key] = String(value);
      }
    }
    return JSON.stringify(safe);
  }
}

/** Whether `value` has the three methods of a {@link Logger}. */
export function isLogger(value: unknown): value is Logger {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return typeof v.info === 'function' && typeof v.warn === 'function' && typeof v.error === 'function';
}
