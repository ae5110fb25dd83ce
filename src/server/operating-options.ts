/**
 * The options of "Operating it" that this part of the server reads
 * (`metrics`, `health`, `compression`, `logger`): checked in one place and
 * merged into the resolved options by `resolveOptions()`.
 */
import { resolveCompression, type CompressionOption } from '../compression-option.js';
import { InvalidArgumentError } from '../errors.js';
import { isLogger, textLogger, type Logger } from './logger.js';

/** The operating options as given. */
export interface OperatingOptions {
  metrics?: boolean;
  health?: boolean;
  compression?: CompressionOption;
  logger?: Logger | null;
}

/** The operating options resolved: `compression` is null when off. */
export interface ResolvedOperatingOptions {
  metrics: boolean;
  health: boolean;
  compression: { threshold: number } | null;
  logger: Logger;
}

/** Option names this file resolves. */
export const OPERATING_KEYS = ['metrics', 'health', 'compression', 'logger'] as const;

/**
 * Checks the operating options and applies their defaults.
 * @throws InvalidArgumentError naming the bad option
 */
export function resolveOperatingOptions(o: OperatingOptions): ResolvedOperatingOptions {
  const flag = (name: 'metrics' | 'health'): boolean => {
    const v = o[name];
    if (v === undefined) return false;
    if (typeof v !== 'boolean') throw new InvalidArgumentError(`options.${name}`, 'a boolean', v);
    return v;
  };
  if (o.logger !== undefined && o.logger !== null && !isLogger(o.logger)) {
    throw new InvalidArgumentError('options.logger', 'an object with info, warn and error methods (pino-compatible)', o.logger);
  }
  return { metrics: flag('metrics'), health: flag('health'), compression: resolveCompression(o.compression, 'options.compression'), logger: o.logger ?? textLogger() };
}
