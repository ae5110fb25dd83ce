/**
 * The `compression` option (per-message deflate (RFC 7692)), shared by the server and
 * the Node client: `false`, `true` or `{ threshold }`. Browser-safe: the
 * client's option checking imports it.
 */
import { InvalidArgumentError } from './errors.js';

/** `compression: true` compresses messages from this many bytes on (ws's own default). */
export const DEFAULT_COMPRESSION_THRESHOLD = 1024;

/** `compression` as `listen()` and `connect()` take it: off, on, or on for messages of at least `threshold` bytes. */
export type CompressionOption = boolean | { threshold?: number };

/**
 * `false | true | { threshold }` as ws's per-message deflate (RFC 7692) setting: null when off.
 * @throws InvalidArgumentError naming `name`
 */
export function resolveCompression(value: unknown, name: string): { threshold: number } | null {
  if (value === undefined || value === false) return null;
  if (value === true) return { threshold: DEFAULT_COMPRESSION_THRESHOLD };
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw new InvalidArgumentError(name, 'a boolean or { threshold }', value);
  const { threshold = DEFAULT_COMPRESSION_THRESHOLD, ...rest } = value as { threshold?: unknown };
  const extra = Object.keys(rest)[0];
  if (extra !== undefined) throw new InvalidArgumentError(`${name}.${extra}`, 'absent (only threshold is known)');
  if (typeof threshold !== 'number' || !Number.isSafeInteger(threshold) || threshold < 0) {
    throw new InvalidArgumentError(`${name}.threshold`, 'a non-negative integer (bytes)', threshold);
  }
  return { threshold };
}
