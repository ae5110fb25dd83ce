import assert from 'node:assert/strict';
import { adoptValue } from '../../src/state/adopt-value.js';

describe('adoptValue', () => {
  it('returns primitives as they are, -0 as 0', () => {
    const owned = new WeakSet<object>();
    for (const value of [null, true, false, 0, 1.5, -7, '', 'text']) assert.equal(adoptValue(value, owned, 'v'), value);
    assert.ok(Object.is(adoptValue(-0, owned, 'v'), 0));
  });

  it('marks every container of an accepted value as held, and none of a refused one', () => {
    const owned = new WeakSet<object>();
    const inner = [1];
    const value = { a: { b: inner } };
    assert.equal(adoptValue(value, owned, 'v'), value);
    assert.ok(owned.has(value) && owned.has(value.a) && owned.has(inner));
    const refused = { fine: {}, bad: [1, undefined] };
    assert.throws(() => adoptValue(refused, owned, 'v'), { message: /^v\.bad\[1\] must be a JSON value/ });
    assert.ok(!owned.has(refused) && !owned.has(refused.fine));
  });

  it('names the culprit with a path a reader can follow', () => {
    const owned = new WeakSet<object>();
    assert.throws(() => adoptValue({ 'a b': [{ c: NaN }] }, owned, 'value'), { message: /^value\["a b"\]\[0\]\.c must be a JSON value .*, got NaN$/ });
    assert.throws(() => adoptValue([[], [new Set()]], owned, 'initial'), { message: /^initial\[1\]\[0\] must be a plain object, not a Set$/ });
  });

  it('tells a cycle or a repeated container from a held one', () => {
    const owned = new WeakSet<object>();
    const twice = [0];
    assert.throws(() => adoptValue([twice, twice], owned, 'v'), { message: /^v\[1\] must be free of cycles/ });
    const held = {};
    adoptValue({ held }, owned, 'v');
    assert.throws(() => adoptValue([held], owned, 'v'), { message: /^v\[0\] must be a new value/ });
  });

  it('refuses array subclasses and non-extensible containers', () => {
    const owned = new WeakSet<object>();
    class List extends Array<number> {}
    assert.throws(() => adoptValue(List.from([1]), owned, 'v'), { message: /^v must be a plain array/ });
    assert.throws(() => adoptValue({ s: Object.seal([1]) }, owned, 'v'), { message: /^v\.s must be extensible/ });
    assert.throws(() => adoptValue(Object.preventExtensions({}), owned, 'v'), { message: /^v must be extensible/ });
  });

  it('normalizes -0 inside containers, including under a __proto__ key', () => {
    const owned = new WeakSet<object>();
    const value = JSON.parse('{"__proto__": 1, "list": [0]}') as Record<string, unknown>;
    Object.defineProperty(value, '__proto__', { value: -0, writable: true, enumerable: true, configurable: true });
    (value.list as number[])[0] = -0;
    adoptValue(value, owned, 'v');
    assert.ok(Object.is(Object.getOwnPropertyDescriptor(value, '__proto__')!.value, 0));
    assert.ok(Object.is((value.list as number[])[0], 0));
    assert.equal(Object.getPrototypeOf(value), Object.prototype);
  });
});
