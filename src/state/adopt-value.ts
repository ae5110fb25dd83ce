/**
 * Checks a value handed to a {@link Storage} before the storage takes it
 * over: it must be JSON exactly as a client will see it, and must share no
 * object or array with itself or with what the storage already holds.
 *
 * Why so strict: the storage mutates its containers in place and sends
 * what it recorded. `JSON.stringify` alone would let through values that
 * the client then receives differently (a `Date` becomes a string,
 * `undefined` members vanish, `NaN` becomes `null`, `-0` becomes `0`), and
 * a container held twice would be changed in two places on the server but
 * in one on the client. Each of these is a silent desync; the walk that
 * catches them costs in proportion to the value, like encoding it does.
 */
import { InvalidArgumentError } from '../errors.js';
import type { JsonValue } from '../json.js';

const EXPECTED = 'a JSON value (null, a boolean, a finite number, a string, an array or a plain object of them)';

/**
 * Validates `value` and marks its containers as held in `owned`. Nothing is
 * marked when it throws. `-0` anywhere inside becomes `0` (JSON has no
 * negative zero, and the client would see `0`).
 *
 * @param owned the containers the storage holds or has held
 * @param argument the name used in errors, e.g. `'value'`
 * @returns the value, with a top-level `-0` turned into `0`
 * @throws InvalidArgumentError naming where inside the value the problem is
 *   (`value.points[3] must be ..., got undefined`)
 */
export function adoptValue(value: unknown, owned: WeakSet<object>, argument: string): JsonValue {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value as JsonValue;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new InvalidArgumentError(argument, EXPECTED, value);
    return value === 0 ? 0 : value;
  }
  if (isFlatRecord(value, owned)) {
    owned.add(value);
    return value as JsonValue;
  }
  const walk = new Walk(owned, argument);
  walk.visit(value, -1);
  for (const container of walk.seen) owned.add(container);
  return value as JsonValue;
}

/**
 * The common value of a live dashboard (`{ value, quality, timestamp }`): a
 * new plain object of primitives. Checked without the general walk's
 * bookkeeping; anything else (or anything wrong) takes the walk, which
 * names the problem.
 */
function isFlatRecord(value: unknown, owned: WeakSet<object>): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) return false;
  if (owned.has(value) || !Object.isExtensible(value)) return false;
  const record = value as Record<string, unknown>;
  for (const key in record) {
    // for-in also sees enumerable keys a polluted Object.prototype would add. Checking
    // them too is harmless (encoding skips them), and cheaper than a hasOwn per key.
    const item = record[key];
    switch (typeof item) {
      case 'string':
      case 'boolean':
        continue;
      case 'number':
        if (item === 0 ? Object.is(item, -0) : !Number.isFinite(item)) return false;
        continue;
      default:
        if (item !== null) return false;
    }
  }
  return true;
}

class Walk {
  readonly seen = new Set<object>();
  readonly #owned: WeakSet<object>;
  readonly #argument: string;
  // Steps from the top, kept only to name the culprit in an error.
  readonly #path: (string | number)[] = [];

  constructor(owned: WeakSet<object>, argument: string) {
    this.#owned = owned;
    this.#argument = argument;
  }

  visit(value: unknown, depth: number): void {
    if (typeof value !== 'object' || value === null) {
      if (typeof value === 'number' ? Number.isFinite(value) : typeof value === 'string' || typeof value === 'boolean' || value === null) return;
      this.#fail(EXPECTED, value);
    }
    if (this.seen.has(value)) this.#fail('free of cycles and of objects or arrays that appear twice (clone the repeated part)');
    if (this.#owned.has(value)) {
      this.#fail(
        'a new value, not an object or array the storage holds or held (set() a clone, e.g. structuredClone(storage.get(path)), instead of writing into what get() returned)',
      );
    }
    // The storage changes its containers in place later; a frozen one would make that throw.
    if (!Object.isExtensible(value)) this.#fail('extensible (not frozen, sealed or made non-extensible): the storage changes it in place');
    this.seen.add(value);
    if (Array.isArray(value)) {
      if (Object.getPrototypeOf(value) !== Array.prototype) this.#fail('a plain array, not an instance of an Array subclass');
      for (let i = 0; i < value.length; i++) {
        const item: unknown = value[i];
        this.#path[depth + 1] = i;
        if (typeof item === 'object' && item !== null) this.visit(item, depth + 1);
        else if (Object.is(item, -0)) value[i] = 0;
        else this.visit(item, depth + 1);
      }
    } else {
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
        this.#fail(`a plain object${typeof name === 'string' && name !== '' ? `, not a ${name}` : ''}`);
      }
      const record = value as Record<string, unknown>;
      for (const key of Object.keys(record)) {
        const item = record[key];
        this.#path[depth + 1] = key;
        if (typeof item === 'object' && item !== null) this.visit(item, depth + 1);
        else if (Object.is(item, -0)) Object.defineProperty(record, key, { value: 0, writable: true, enumerable: true, configurable: true });
        else this.visit(item, depth + 1);
      }
    }
    this.#path.length = depth + 1;
  }

  #fail(expected: string, ...actual: unknown[]): never {
    let where = this.#argument;
    for (const step of this.#path) where += typeof step === 'number' ? `[${step}]` : /^[A-Za-z_$][\w$]*$/.test(step) ? `.${step}` : `[${JSON.stringify(step)}]`;
    throw actual.length > 0 ? new InvalidArgumentError(where, expected, actual[0]) : new InvalidArgumentError(where, expected);
  }
}
