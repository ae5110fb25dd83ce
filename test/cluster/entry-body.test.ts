import assert from 'node:assert/strict';
import { copyWrites, decodeBody, encodeWrites } from '../../src/cluster/entry-body.js';
import type { JsonValue } from '../../src/json.js';
import type { StateWrite } from '../../src/state/state-log.js';

/** What every other node applies: the writes parsed back from the entry's text. */
function parsedBack(writes: StateWrite[]): unknown {
  const body = decodeBody(encodeWrites(writes));
  assert.ok(typeof body !== 'string' && body.kind === 'writes');
  return body.entry;
}

function sameKeysInOrder(a: unknown, b: unknown): void {
  if (typeof a !== 'object' || a === null) return;
  assert.deepEqual(Object.keys(a), Object.keys(b as object));
  for (const key of Object.keys(a)) sameKeysInOrder((a as Record<string, unknown>)[key], (b as Record<string, unknown>)[key]);
}

describe('entry bodies: the copy a writer applies equals what other nodes parse', () => {
  it('copies plain JSON exactly: values, key order, __proto__ as data, -0 as 0', () => {
    const proto = JSON.parse('{"__proto__": {"x": 1}, "b": 2}') as JsonValue;
    const nullProto = Object.assign(Object.create(null) as Record<string, JsonValue>, { k: 'v' });
    const writes: StateWrite[] = [
      { kind: 'set', path: ['points', 'p1'], value: { value: 3.25, quality: 'good', timestamp: 1_700_000_000_000 } },
      { kind: 'set', path: ['a', 0], value: -0 },
      { kind: 'set', path: ['order'], value: { b: 1, 10: 'ten', a: [1, -0, { z: null, y: true }], 2: 'two' } },
      { kind: 'set', path: ['proto'], value: proto },
      { kind: 'set', path: ['nullProto'], value: nullProto },
      { kind: 'set', path: ['text'], value: 'lone \ud800 surrogate, "quotes", \u2028' },
      { kind: 'set', path: ['big'], value: [1e21, 5e-324, Number.MAX_VALUE, -1.5] },
      { kind: 'remove', path: ['gone'] },
      { kind: 'set', path: [], value: null },
    ];
    const copy = copyWrites(writes);
    assert.ok(copy !== null);
    const parsed = parsedBack(writes);
    assert.deepEqual(copy, parsed);
    sameKeysInOrder(copy, parsed);
    assert.ok(Object.is((copy[1] as { value: number }).value, 0), '-0 became 0');
    const copiedProto = (copy[3] as { value: Record<string, unknown> }).value;
    assert.equal(Object.getPrototypeOf(copiedProto), Object.prototype);
    assert.ok(Object.hasOwn(copiedProto, '__proto__'));
  });

  it('shares nothing with the writes it copies, paths included', () => {
    const value = { nested: { list: [1, 2] } };
    const writes: StateWrite[] = [{ kind: 'set', path: ['a'], value }];
    const copy = copyWrites(writes)!;
    const copied = copy[0] as unknown as { path: unknown[]; value: typeof value };
    assert.notEqual(copied.path, writes[0]!.path);
    assert.notEqual(copied.value, value);
    assert.notEqual(copied.value.nested, value.nested);
    value.nested.list.push(3);
    assert.deepEqual(copied.value, { nested: { list: [1, 2] } });
  });

  it('gives up (null) on whatever JSON would turn into something else, so the text decides', () => {
    const cases: unknown[] = [
      { a: undefined },
      [1, undefined],
      { f: () => 1 },
      { d: new Date(0) },
      { n: Number.NaN },
      [Infinity],
      new Array(2),
      { toJSON: () => 'x' },
      Object.assign([1], { toJSON: () => 'x' }),
      new Map(),
      { s: Symbol('s') },
    ];
    for (const value of cases) assert.equal(copyWrites([{ kind: 'set', path: ['v'], value: value as JsonValue }]), null, String(value));
  });
});
