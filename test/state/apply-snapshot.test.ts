/**
 * applyPatchSnapshot's own promises (the RFC 6902 tables and the
 * fast-json-patch properties run for it in apply-patch.test.ts): the input
 * is never written, and identity changes exactly along the changed paths.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import type { JsonValue } from '../../src/json.js';
import { applyPatch } from '../../src/state/apply-patch.js';
import { applyPatchSnapshot } from '../../src/state/apply-snapshot.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

/** Deep-freezes `value`, so that any write to it throws (the modules run in strict mode). */
function frozen<T>(value: T): T {
  if (value !== null && typeof value === 'object') {
    for (const v of Object.values(value)) frozen(v);
    Object.freeze(value);
  }
  return value;
}

describe('applyPatchSnapshot', () => {
  const doc = (): Any => frozen({ a: { x: 1, list: [{ p: 1 }, { p: 2 }, { p: 3 }] }, b: { y: 2 }, c: [1, 2] });

  it('replace: a new root and new objects along the path, the rest shared', () => {
    const before = doc();
    const after: Any = applyPatchSnapshot(before, [{ op: 'replace', path: '/a/list/1/p', value: 20 }]);
    assert.notEqual(after, before);
    assert.notEqual(after.a, before.a);
    assert.notEqual(after.a.list, before.a.list);
    assert.notEqual(after.a.list[1], before.a.list[1]);
    assert.equal(after.a.list[0], before.a.list[0]);
    assert.equal(after.a.list[2], before.a.list[2]);
    assert.equal(after.b, before.b);
    assert.equal(after.c, before.c);
    assert.equal(after.a.list[1].p, 20);
    assert.equal(before.a.list[1].p, 2);
  });

  it('add and remove on arrays shift the copy only', () => {
    const before = doc();
    const after: Any = applyPatchSnapshot(before, [
      { op: 'add', path: '/a/list/0', value: { p: 0 } },
      { op: 'remove', path: '/a/list/3' },
      { op: 'add', path: '/c/-', value: 3 },
    ]);
    assert.deepEqual(after.a.list, [{ p: 0 }, { p: 1 }, { p: 2 }]);
    assert.equal(after.a.list[1], before.a.list[0]);
    assert.deepEqual(after.c, [1, 2, 3]);
    assert.deepEqual(before.c, [1, 2]);
    assert.equal(after.b, before.b);
  });

  it('move within an array and between containers shares the moved value', () => {
    const before = doc();
    const after: Any = applyPatchSnapshot(before, [
      { op: 'move', from: '/a/list/0', path: '/a/list/2' },
      { op: 'move', from: '/b', path: '/c/0' },
    ]);
    assert.deepEqual(after.a.list, [{ p: 2 }, { p: 3 }, { p: 1 }]);
    assert.equal(after.a.list[2], before.a.list[0]);
    assert.equal(after.c[0], before.b);
    assert.equal(Object.hasOwn(after, 'b'), false);
    assert.deepEqual(before.c, [1, 2]);
  });

  it('copy shares the copied value, and a later write through either place copies it', () => {
    const before = doc();
    const after: Any = applyPatchSnapshot(before, [
      { op: 'copy', from: '/a/list', path: '/c/1' },
      { op: 'replace', path: '/c/1/0/p', value: 9 },
    ]);
    assert.equal(after.a.list, before.a.list);
    assert.deepEqual(after.c[1], [{ p: 9 }, { p: 2 }, { p: 3 }]);
    assert.equal(after.c[1][1], before.a.list[1]);
    assert.equal(before.a.list[0].p, 1);
  });

  it('a copy of something this patch already copied is not written through afterwards', () => {
    const after: Any = applyPatchSnapshot(doc(), [
      { op: 'replace', path: '/a/x', value: 5 },
      { op: 'copy', from: '/a', path: '/d' },
      { op: 'replace', path: '/a/x', value: 6 },
      { op: 'add', path: '/d/list/-', value: 'd only' },
    ]);
    assert.equal(after.a.x, 6);
    assert.equal(after.d.x, 5);
    assert.equal(after.a.list.length, 3);
    assert.equal(after.d.list.length, 4);
  });

  it('test and an empty patch keep the same root', () => {
    const before = doc();
    assert.equal(applyPatchSnapshot(before, [{ op: 'test', path: '/a/x', value: 1 }]), before);
    assert.equal(applyPatchSnapshot(before, []), before);
  });

  it('a failing patch throws and leaves the input as it was (it is frozen: nothing wrote to it)', () => {
    const before = doc();
    assert.throws(
      () => applyPatchSnapshot(before, [{ op: 'remove', path: '/a/list/0' }, { op: 'add', path: '/b/z', value: 1 }, { op: 'remove', path: '/nope' }]),
      ProtocolError,
    );
    assert.deepEqual(before, doc());
  });

  it('writes a __proto__ member as data, never to a prototype', () => {
    const before = frozen(JSON.parse('{"__proto__": {"a": 1}}'));
    const after: Any = applyPatchSnapshot(before, [{ op: 'add', path: '/__proto__/polluted', value: true }]);
    assert.equal(Object.getPrototypeOf(after), Object.prototype);
    assert.equal(JSON.stringify(after), '{"__proto__":{"a":1,"polluted":true}}');
    assert.equal(({} as Any).polluted, undefined);
  });

  describe('properties', () => {
    const KEYS = ['a', 'b', 'c', '0', '1'];
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        fc.integer({ min: -5, max: 5 }),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
      ),
    })).value as fc.Arbitrary<JsonValue>;
    // Through JSON, as the wire delivers it: plain prototypes.
    const objects = fc.dictionary(fc.constantFrom(...KEYS), json, { minKeys: 1, maxKeys: 5 }).map((v): Any => JSON.parse(JSON.stringify(v)));
    /** Every container in `value` with its pointer. */
    function containers(value: JsonValue, pointer = '', out = new Map<string, object>()): Map<string, object> {
      if (value !== null && typeof value === 'object') {
        out.set(pointer, value);
        for (const [k, v] of Object.entries(value)) containers(v, `${pointer}/${k}`, out);
      }
      return out;
    }
    const op = fc.record({ kind: fc.nat(3), path: fc.array(fc.constantFrom(...KEYS), { minLength: 1, maxLength: 3 }), value: json });

    it('agrees with the in-place apply, never writes the input, and keeps every container no operation reaches', () => {
      fc.assert(
        fc.property(objects, fc.array(op, { maxLength: 6 }), (input, ops) => {
          const before = frozen(structuredClone(input));
          const patch = ops.map((o) => {
            const path = '/' + o.path.join('/');
            return o.kind === 0 ? { op: 'add', path, value: o.value } : o.kind === 1 ? { op: 'remove', path } : { op: 'replace', path, value: o.value };
          });
          let inPlace: JsonValue | Error;
          try {
            inPlace = applyPatch(structuredClone(input), structuredClone(patch));
          } catch (err) {
            inPlace = err as Error;
          }
          if (inPlace instanceof Error) {
            assert.throws(() => applyPatchSnapshot(before, structuredClone(patch)), ProtocolError);
            return;
          }
          const after = applyPatchSnapshot(before, structuredClone(patch));
          assert.deepEqual(after, inPlace);
          assert.deepEqual(before, input);
          const touched = patch.map((p) => p.path);
          const now = containers(after);
          for (const [pointer, container] of containers(before)) {
            const onPath = touched.some((t) => t === pointer || t.startsWith(pointer + '/') || pointer.startsWith(t + '/'));
            // Array indexes shift, so only pointers without a numeric token are compared.
            if (onPath || !now.has(pointer) || /\/\d/.test(pointer)) continue;
            assert.equal(now.get(pointer), container, `${pointer} keeps its identity`);
          }
        }),
        { numRuns: 500 },
      );
    });
  });
});
