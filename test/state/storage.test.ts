import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/errors.js';
import type { JsonValue } from '../../src/json.js';
import { changeLogOf, MAX_ARRAY_PADDING, Storage } from '../../src/state/storage.js';

/** The patch text `change` records (a reader must be open for records to be kept). */
function recorded(storage: Storage, change: () => void): string {
  const cursor = changeLogOf(storage).openCursor();
  try {
    change();
    return changeLogOf(storage).diffText(cursor.position)!;
  } finally {
    cursor.close();
  }
}

/** Runs `fn` with console.error captured. */
function capturingErrors(fn: () => void): unknown[][] {
  const calls: unknown[][] = [];
  const original = console.error;
  console.error = (...args: unknown[]) => void calls.push(args);
  try {
    fn();
  } finally {
    console.error = original;
  }
  return calls;
}

describe('Storage', () => {
  describe('constructor', () => {
    it('starts at null by default', () => {
      assert.equal(new Storage().data, null);
      assert.equal(new Storage().get(), null);
    });

    it('takes the initial value as it is (no copy)', () => {
      const initial = { a: [1, 2] };
      assert.equal(new Storage(initial).data, initial);
    });

    it('refuses an initial value that is not JSON', () => {
      assert.throws(() => new Storage({ when: new Date() } as never), { name: 'InvalidArgumentError', message: /^initial\.when must be a plain object, not a Date/ });
    });
  });

  describe('#get', () => {
    const storage = new Storage({ a: { b: [10, { c: 'x' }] }, list: [1, 2], 7: 'seven', '': 'empty' });

    it('reads by key, index or array of them; [] and no argument give the root', () => {
      assert.equal(storage.get(), storage.data);
      assert.equal(storage.get([]), storage.data);
      assert.deepEqual(storage.get('list'), [1, 2]);
      assert.equal(storage.get(['a', 'b', 1, 'c']), 'x');
      assert.equal(storage.get(''), 'empty');
    });

    it('gives undefined for what is missing', () => {
      assert.equal(storage.get('missing'), undefined);
      assert.equal(storage.get(['a', 'b', 5]), undefined);
      assert.equal(storage.get(['a', 'b', 0, 'deeper']), undefined);
      assert.equal(storage.get(['list', 'length']), undefined, 'a string step on an array finds nothing');
    });

    it('reads a number step on an object as the key of that name', () => {
      assert.equal(storage.get(7), 'seven');
      assert.equal(storage.get('7'), 'seven');
    });

    it('never reads through a prototype', () => {
      for (const key of ['__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty']) {
        assert.equal(storage.get(key), undefined, key);
        assert.equal(storage.get(['a', key]), undefined, key);
      }
    });

    it('validates the path', () => {
      assert.throws(() => storage.get(['a', -1]), { name: 'InvalidArgumentError', message: /^path\[1\]/ });
    });

    it('returns live values, which later changes reach', () => {
      const s = new Storage({ a: { n: 1 } });
      const a = s.get('a') as { n: number };
      s.set(['a', 'n'], 2);
      assert.equal(a.n, 2);
      assert.equal(s.get('a'), a);
    });
  });

  describe('#set', () => {
    it('writes a bare key, an index or a path, in place', () => {
      const s = new Storage({ a: { b: 1 }, list: [1, 2] });
      const a = s.get('a');
      s.set(['a', 'b'], 2);
      s.set('top', true);
      s.set(['list', 1], 'two');
      assert.deepEqual(s.data, { a: { b: 2 }, list: [1, 'two'], top: true });
      assert.equal(s.get('a'), a, 'containers are changed in place');
    });

    it('replaces the root for []', () => {
      const s = new Storage({ a: 1 });
      assert.equal(recorded(s, () => s.set([], [1])), '[{"op":"replace","path":"","value":[1]}]');
      assert.deepEqual(s.data, [1]);
    });

    it('creates missing containers: an object for a string step, an array for a number step', () => {
      const s = new Storage({});
      s.set(['a', 'b', 0, 'c'], 1);
      assert.deepEqual(s.data, { a: { b: [{ c: 1 }] } });
      s.set(['x', 2], 'z');
      assert.deepEqual(s.get('x'), [null, null, 'z']);
    });

    it('records one change at the highest created level', () => {
      const s = new Storage({});
      assert.equal(recorded(s, () => s.set(['a', 'b', 'c'], 1)), '[{"op":"add","path":"/a","value":{"b":{"c":1}}}]');
      assert.equal(recorded(s, () => s.set(['a', 'x', 1], 'v')), '[{"op":"add","path":"/a/x","value":[null,"v"]}]');
      const fromNull = new Storage();
      assert.equal(recorded(fromNull, () => fromNull.set(['k'], 1)), '[{"op":"replace","path":"","value":{"k":1}}]');
    });

    it('pads an array with null up to an index past its end, like hat', () => {
      const s = new Storage({ list: [1] });
      assert.equal(
        recorded(s, () => s.set(['list', 3], 4)),
        '[{"op":"add","path":"/list/1","value":null},{"op":"add","path":"/list/2","value":null},{"op":"add","path":"/list/3","value":4}]',
      );
      assert.deepEqual(s.get('list'), [1, null, null, 4]);
      assert.equal(recorded(s, () => s.set(['list', 4], 5)), '[{"op":"add","path":"/list/4","value":5}]', 'one past the end appends');
    });

    it('replaces a non-container in the way', () => {
      const s = new Storage({ a: 5, b: null });
      assert.equal(recorded(s, () => s.set(['a', 'x'], 1)), '[{"op":"replace","path":"/a","value":{"x":1}}]');
      s.set(['b', 1], true);
      assert.deepEqual(s.data, { a: { x: 1 }, b: [null, true] });
    });

    it('writes a number step on an object as the key of that name', () => {
      const s = new Storage({ o: {} });
      assert.equal(recorded(s, () => s.set(['o', 0], 'zero')), '[{"op":"add","path":"/o/0","value":"zero"}]');
      assert.deepEqual(s.data, { o: { 0: 'zero' } });
    });

    it('throws for a string step into an existing array, changing nothing', () => {
      const s = new Storage({ list: [{ a: 1 }] });
      const head = changeLogOf(s).head;
      let calls = 0;
      s.onChange(() => calls++);
      assert.throws(() => s.set(['list', 'a'], 1), {
        name: 'InvalidArgumentError',
        message: 'path[1] must be a non-negative integer, as the value there is an array, got "a"',
      });
      assert.deepEqual(s.data, { list: [{ a: 1 }] });
      assert.equal(changeLogOf(s).head, head);
      assert.equal(calls, 0);
    });

    it('records nothing and calls nobody when a primitive is set to an equal one', () => {
      const s = new Storage({ a: 1, b: 'x', c: null, d: false });
      let calls = 0;
      s.onChange(() => calls++);
      assert.equal(recorded(s, () => {
        s.set('a', 1);
        s.set('b', 'x');
        s.set('c', null);
        s.set('d', false);
      }), '[]');
      assert.equal(calls, 0);
      assert.equal(changeLogOf(s).head, 0);
      s.set('a', 2);
      assert.equal(calls, 1);
    });

    it('records the value as it was when set, whatever happens to it later', () => {
      const s = new Storage({});
      const text = recorded(s, () => {
        s.set('a', { x: 1 });
        s.set(['a', 'x'], 2);
      });
      assert.equal(text, '[{"op":"add","path":"/a","value":{"x":1}},{"op":"replace","path":"/a/x","value":2}]');
    });

    it('refuses values that are not JSON, naming where, changing nothing', () => {
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      const shared = { s: 1 };
      class Point {
        x = 1;
      }
      const cases: [unknown, RegExp][] = [
        [undefined, /^value must be a JSON value .*, got undefined$/],
        [10n, /^value must be a JSON value .*, got 10n$/],
        [() => 1, /^value must be a JSON value .*, got a function$/],
        [NaN, /got NaN$/],
        [{ a: [1, Infinity] }, /^value\.a\[1\] must be a JSON value/],
        [{ a: undefined }, /^value\.a must be a JSON value/],
        [[1, , 3], /^value\[1\] must be a JSON value/],
        [{ 'odd key': Symbol('s') }, /^value\["odd key"\] must be a JSON value/],
        [new Date(0), /^value must be a plain object, not a Date$/],
        [new Map(), /^value must be a plain object, not a Map$/],
        [{ p: new Point() }, /^value\.p must be a plain object, not a Point$/],
        [cyclic, /^value\.self must be free of cycles/],
        [{ a: shared, b: shared }, /^value\.b must be free of cycles and of objects or arrays that appear twice/],
        [Object.freeze({ a: 1 }), /^value must be extensible/],
      ];
      const s = new Storage({ keep: 1 });
      for (const [value, message] of cases) {
        assert.throws(() => s.set('k', value as JsonValue), (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError);
          assert.match(err.message, message);
          return true;
        });
      }
      assert.deepEqual(s.data, { keep: 1 });
      assert.equal(changeLogOf(s).head, 0);
    });

    it('refuses an object or array the storage holds or held, which would desync clients', () => {
      const s = new Storage({ a: { n: 1 } });
      const a = s.get('a') as { n: number };
      assert.throws(() => s.set('b', a), { name: 'InvalidArgumentError', message: /^value must be a new value/ });
      const v = { x: [1] };
      s.set('v', v);
      assert.throws(() => s.set('w', { copy: v.x }), { message: /^value\.copy must be a new value/ });
      s.remove('v');
      assert.throws(() => s.set('v', v), { message: /^value must be a new value/ }, 'even after it was removed');
      s.set('v', structuredClone(v));
      assert.deepEqual(s.get('v'), { x: [1] });
    });

    it('does not mark a refused value as held', () => {
      const s = new Storage({});
      const v = { ok: 1, bad: undefined as unknown as JsonValue };
      assert.throws(() => s.set('v', v), InvalidArgumentError);
      delete (v as Record<string, unknown>).bad;
      s.set('v', v);
      assert.deepEqual(s.get('v'), { ok: 1 });
    });

    it('turns -0 into 0, as a client would receive it', () => {
      const s = new Storage({});
      s.set('z', -0);
      s.set('o', { z: -0, list: [-0] });
      assert.ok(Object.is(s.get('z'), 0));
      assert.ok(Object.is(s.get(['o', 'z']), 0));
      assert.ok(Object.is(s.get(['o', 'list', 0]), 0));
    });

    it('accepts objects without a prototype', () => {
      const s = new Storage({});
      const bare = Object.create(null) as Record<string, JsonValue>;
      bare.k = 1;
      s.set('bare', bare);
      assert.equal(s.get(['bare', 'k']), 1);
    });

    it('validates the path first', () => {
      const s = new Storage({});
      assert.throws(() => s.set(['a', 1.5], 1), { message: /^path\[1\]/ });
      assert.throws(() => s.set(undefined as never, 1), { message: /^path must be/ });
    });
  });

  describe('keys __proto__, constructor and prototype', () => {
    afterEach(() => {
      assert.equal(({} as Record<string, unknown>).polluted, undefined, 'Object.prototype was polluted');
    });

    it('are ordinary data keys for set, get and remove', () => {
      const s = new Storage({});
      for (const key of ['__proto__', 'constructor', 'prototype']) {
        s.set([key, 'polluted'], 'yes');
        assert.deepEqual(s.get(key), { polluted: 'yes' }, key);
        assert.equal(s.get([key, 'polluted']), 'yes');
      }
      const data = s.data as Record<string, unknown>;
      assert.equal(Object.getPrototypeOf(data), Object.prototype);
      assert.deepEqual(Object.keys(data), ['__proto__', 'constructor', 'prototype']);
      assert.equal(JSON.stringify(data), '{"__proto__":{"polluted":"yes"},"constructor":{"polluted":"yes"},"prototype":{"polluted":"yes"}}');
      s.set(['__proto__', 'polluted'], 'again');
      s.remove('__proto__');
      assert.equal(s.get('__proto__'), undefined);
      assert.equal(Object.getPrototypeOf(data), Object.prototype);
    });

    it('stay data when set as values, and are recorded as paths', () => {
      const s = new Storage({});
      const value = JSON.parse('{"__proto__":{"polluted":1}}') as JsonValue;
      const text = recorded(s, () => s.set('__proto__', value));
      assert.equal(text, '[{"op":"add","path":"/__proto__","value":{"__proto__":{"polluted":1}}}]');
      assert.deepEqual(s.get(['__proto__', '__proto__']), { polluted: 1 });
    });

    it('are created as data when an intermediate object is made for them', () => {
      const s = new Storage(null);
      s.set(['__proto__', 'constructor', 'prototype', 'polluted'], 1);
      assert.equal(s.get(['__proto__', 'constructor', 'prototype', 'polluted']), 1);
      assert.equal(JSON.stringify(s.data), '{"__proto__":{"constructor":{"prototype":{"polluted":1}}}}');
    });
  });

  describe('#remove', () => {
    it('removes a key, or an element (later ones move down)', () => {
      const s = new Storage({ a: 1, list: ['x', 'y', 'z'] });
      assert.equal(recorded(s, () => s.remove('a')), '[{"op":"remove","path":"/a"}]');
      assert.equal(recorded(s, () => s.remove(['list', 0])), '[{"op":"remove","path":"/list/0"}]');
      assert.deepEqual(s.data, { list: ['y', 'z'] });
    });

    it('sets the root to null for [] (and records nothing when it already is)', () => {
      const s = new Storage({ a: 1 });
      assert.equal(recorded(s, () => s.remove([])), '[{"op":"replace","path":"","value":null}]');
      assert.equal(s.data, null);
      assert.equal(recorded(s, () => s.remove([])), '[]');
    });

    it('is a no-op for a missing path: nothing recorded, nobody called', () => {
      const s = new Storage({ a: { b: 1 }, list: [1], n: 3 });
      let calls = 0;
      s.onChange(() => calls++);
      const head = changeLogOf(s).head;
      for (const path of ['x', ['a', 'x'], ['a', 'b', 'c'], ['list', 1], ['list', 'x'], ['n', 'x'], ['x', 'y', 'z'], ['a', 'constructor']]) {
        s.remove(path as never);
      }
      assert.equal(changeLogOf(s).head, head);
      assert.equal(calls, 0);
      assert.deepEqual(s.data, { a: { b: 1 }, list: [1], n: 3 });
    });

    it('validates the path', () => {
      assert.throws(() => new Storage({}).remove([true as never]), { message: /^path\[0\]/ });
    });
  });

  describe('#onChange', () => {
    it('calls back synchronously after each change with the current value, until unregistered', () => {
      const s = new Storage({});
      const seen: string[] = [];
      const stop = s.onChange((data) => seen.push(JSON.stringify(data)));
      s.set('a', 1);
      s.set(['b', 2], true); // one change, even though it pads
      stop();
      stop();
      s.set('a', 2);
      assert.deepEqual(seen, ['{"a":1}', '{"a":1,"b":[null,null,true]}']);
    });

    it('reports a throwing callback and still runs the others and keeps the change', () => {
      const s = new Storage({});
      let later = 0;
      s.onChange(() => {
        throw new Error('boom');
      });
      s.onChange(() => later++);
      const errors = capturingErrors(() => s.set('a', 1));
      assert.equal(later, 1);
      assert.equal(s.get('a'), 1);
      assert.equal(errors.length, 1);
      assert.match(String(errors[0]![0]), /onChange callback threw/);
      assert.equal((errors[0]![1] as Error).message, 'boom');
    });

    it('lets a callback unregister itself or register another during a change', () => {
      const s = new Storage({});
      const calls: string[] = [];
      const stop = s.onChange(() => {
        calls.push('first');
        stop();
        s.onChange(() => calls.push('added'));
      });
      s.set('a', 1);
      s.set('a', 2);
      assert.deepEqual(calls, ['first', 'added']);
    });

    it('refuses a non-function', () => {
      assert.throws(() => new Storage().onChange('x' as never), { name: 'InvalidArgumentError', message: /^callback must be a function/ });
    });
  });
});

describe('Storage array padding', () => {
  it('refuses an index far past the end of an array instead of padding a billion nulls', () => {
    const s = new Storage({ list: [1] });
    assert.throws(() => s.set(['list', 1e9], 'x'), /path\[1\] must be an index at most/);
    assert.throws(() => s.set(['fresh', 1e9], 'x'), /path\[1\]/);
    assert.deepEqual(s.data, { list: [1] });
    s.set(['list', MAX_ARRAY_PADDING], 'ok');
    assert.equal((s.get('list') as unknown[]).length, MAX_ARRAY_PADDING + 1);
  });
});
