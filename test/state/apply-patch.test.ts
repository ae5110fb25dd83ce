import assert from 'node:assert/strict';
import fc from 'fast-check';
import fjp from 'fast-json-patch';
import { ProtocolError } from '../../src/errors.js';
import type { JsonValue } from '../../src/json.js';
import { applyPatch } from '../../src/state/apply-patch.js';
import { applyPatchSnapshot } from '../../src/state/apply-snapshot.js';

// The tables and the property tests hold for both ways of applying a patch.
const APPLIERS = [
  { name: 'in place', apply: applyPatch },
  { name: 'as a snapshot', apply: applyPatchSnapshot },
];

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Any = any;

const clone = <T>(v: T): T => structuredClone(v);

describe('applyPatch', () => {
  for (const { name, apply } of APPLIERS) {
    describe(name, () => {
      describe('RFC 6902 appendix A', () => {
        const cases: { name: string; doc: Any; patch: Any[]; expected?: Any }[] = [
          { name: 'A.1 adds an object member', doc: { foo: 'bar' }, patch: [{ op: 'add', path: '/baz', value: 'qux' }], expected: { baz: 'qux', foo: 'bar' } },
          {
            name: 'A.2 adds an array element',
            doc: { foo: ['bar', 'baz'] },
            patch: [{ op: 'add', path: '/foo/1', value: 'qux' }],
            expected: { foo: ['bar', 'qux', 'baz'] },
          },
          { name: 'A.3 removes an object member', doc: { baz: 'qux', foo: 'bar' }, patch: [{ op: 'remove', path: '/baz' }], expected: { foo: 'bar' } },
          {
            name: 'A.4 removes an array element',
            doc: { foo: ['bar', 'qux', 'baz'] },
            patch: [{ op: 'remove', path: '/foo/1' }],
            expected: { foo: ['bar', 'baz'] },
          },
          {
            name: 'A.5 replaces a value',
            doc: { baz: 'qux', foo: 'bar' },
            patch: [{ op: 'replace', path: '/baz', value: 'boo' }],
            expected: { baz: 'boo', foo: 'bar' },
          },
          {
            name: 'A.6 moves a value',
            doc: { foo: { bar: 'baz', waldo: 'fred' }, qux: { corge: 'grault' } },
            patch: [{ op: 'move', from: '/foo/waldo', path: '/qux/thud' }],
            expected: { foo: { bar: 'baz' }, qux: { corge: 'grault', thud: 'fred' } },
          },
          {
            name: 'A.7 moves an array element',
            doc: { foo: ['all', 'grass', 'cows', 'eat'] },
            patch: [{ op: 'move', from: '/foo/1', path: '/foo/3' }],
            expected: { foo: ['all', 'cows', 'eat', 'grass'] },
          },
          {
            name: 'A.8 tests a value: success',
            doc: { baz: 'qux', foo: ['a', 2, 'c'] },
            patch: [
              { op: 'test', path: '/baz', value: 'qux' },
              { op: 'test', path: '/foo/1', value: 2 },
            ],
            expected: { baz: 'qux', foo: ['a', 2, 'c'] },
          },
          { name: 'A.9 tests a value: error', doc: { baz: 'qux' }, patch: [{ op: 'test', path: '/baz', value: 'bar' }] },
          {
            name: 'A.10 adds a nested member object',
            doc: { foo: 'bar' },
            patch: [{ op: 'add', path: '/child', value: { grandchild: {} } }],
            expected: { foo: 'bar', child: { grandchild: {} } },
          },
          {
            name: 'A.11 ignores unrecognized elements',
            doc: { foo: 'bar' },
            patch: [{ op: 'add', path: '/baz', value: 'qux', xyz: 123 }],
            expected: { foo: 'bar', baz: 'qux' },
          },
          { name: 'A.12 adding to a nonexistent target fails', doc: { foo: 'bar' }, patch: [{ op: 'add', path: '/baz/bat', value: 'qux' }] },
          { name: 'A.14 ~ escape ordering', doc: { '/': 9, '~1': 10 }, patch: [{ op: 'test', path: '/~01', value: 10 }], expected: { '/': 9, '~1': 10 } },
          { name: 'A.15 compares strings and numbers', doc: { '/': 9, '~1': 10 }, patch: [{ op: 'test', path: '/~01', value: '10' }] },
          {
            name: 'A.16 adds an array value',
            doc: { foo: ['bar'] },
            patch: [{ op: 'add', path: '/foo/-', value: ['abc', 'def'] }],
            expected: { foo: ['bar', ['abc', 'def']] },
          },
        ];
        for (const c of cases) {
          it(c.name, () => {
            const doc = clone(c.doc);
            if (c.expected === undefined) {
              assert.throws(() => apply(doc, clone(c.patch)), ProtocolError);
              assert.deepEqual(doc, c.doc);
            } else {
              assert.deepEqual(apply(doc, clone(c.patch)), c.expected);
            }
          });
        }
      });

      describe('operations that apply', () => {
        const cases: { name: string; doc: Any; patch: Any[]; expected: Any }[] = [
          { name: 'add at the root replaces it', doc: { a: 1 }, patch: [{ op: 'add', path: '', value: [1] }], expected: [1] },
          { name: 'replace at the root from null (the first diff)', doc: null, patch: [{ op: 'replace', path: '', value: { a: 1 } }], expected: { a: 1 } },
          { name: 'remove at the root leaves null', doc: { a: 1 }, patch: [{ op: 'remove', path: '' }], expected: null },
          { name: 'add on an existing member replaces it', doc: { a: 1 }, patch: [{ op: 'add', path: '/a', value: 2 }], expected: { a: 2 } },
          { name: 'add at the end index appends', doc: [1, 2], patch: [{ op: 'add', path: '/2', value: 3 }], expected: [1, 2, 3] },
          { name: 'add at index 0 prepends', doc: [1, 2], patch: [{ op: 'add', path: '/0', value: 0 }], expected: [0, 1, 2] },
          { name: 'remove the last element', doc: [1, 2, 3], patch: [{ op: 'remove', path: '/2' }], expected: [1, 2] },
          { name: 'replace an element', doc: [1, 2, 3], patch: [{ op: 'replace', path: '/1', value: null }], expected: [1, null, 3] },
          { name: 'the empty key', doc: { '': 1 }, patch: [{ op: 'replace', path: '/', value: 2 }], expected: { '': 2 } },
          { name: '"-" is an ordinary object key', doc: {}, patch: [{ op: 'add', path: '/-', value: 1 }], expected: { '-': 1 } },
          { name: 'escaped keys', doc: {}, patch: [{ op: 'add', path: '/a~1b~0c', value: 1 }], expected: { 'a/b~c': 1 } },
          { name: 'move onto itself is a no-op', doc: { a: { b: 1 } }, patch: [{ op: 'move', from: '/a', path: '/a' }], expected: { a: { b: 1 } } },
          {
            name: 'move to the root',
            doc: { a: { b: 1 }, c: 2 },
            patch: [{ op: 'move', from: '/a', path: '' }],
            expected: { b: 1 },
          },
          { name: 'move within an array, backwards', doc: [1, 2, 3, 4], patch: [{ op: 'move', from: '/3', path: '/0' }], expected: [4, 1, 2, 3] },
          { name: 'move between arrays', doc: { a: [1, 2], b: [] }, patch: [{ op: 'move', from: '/a/0', path: '/b/-' }], expected: { a: [2], b: [1] } },
          {
            name: 'copy an object',
            doc: { a: { b: [1] } },
            patch: [{ op: 'copy', from: '/a', path: '/c' }],
            expected: { a: { b: [1] }, c: { b: [1] } },
          },
          { name: 'copy the root into itself', doc: { a: 1 }, patch: [{ op: 'copy', from: '', path: '/b' }], expected: { a: 1, b: { a: 1 } } },
          {
            name: 'test compares objects regardless of member order',
            doc: { a: { x: 1, y: [1, { z: null }] } },
            patch: [{ op: 'test', path: '/a', value: { y: [1, { z: null }], x: 1 } }],
            expected: { a: { x: 1, y: [1, { z: null }] } },
          },
          { name: 'test on the root', doc: [1], patch: [{ op: 'test', path: '', value: [1] }], expected: [1] },
          { name: 'test a null member', doc: { a: null }, patch: [{ op: 'test', path: '/a', value: null }], expected: { a: null } },
          { name: 'an empty patch', doc: { a: 1 }, patch: [], expected: { a: 1 } },
        ];
        for (const c of cases) {
          it(c.name, () => {
            assert.deepEqual(apply(clone(c.doc), clone(c.patch)), c.expected);
          });
        }
      });

      describe('operations that do not apply', () => {
        const cases: { name: string; doc: Any; patch: unknown }[] = [
          { name: 'a patch that is not an array', doc: {}, patch: { op: 'add', path: '/a', value: 1 } },
          { name: 'an operation that is not an object', doc: {}, patch: [null] },
          { name: 'an operation that is an array', doc: {}, patch: [['add', '/a', 1]] },
          { name: 'no op', doc: {}, patch: [{ path: '/a', value: 1 }] },
          { name: 'an unknown op', doc: {}, patch: [{ op: 'frob', path: '/a', value: 1 }] },
          { name: 'an op that is not a string', doc: {}, patch: [{ op: 1, path: '/a' }] },
          { name: 'no path', doc: {}, patch: [{ op: 'add', value: 1 }] },
          { name: 'a path without a leading slash', doc: { a: 1 }, patch: [{ op: 'remove', path: 'a' }] },
          { name: 'a "~" followed by 2', doc: { '~2': 1 }, patch: [{ op: 'remove', path: '/~2' }] },
          { name: 'a trailing "~"', doc: { '~': 1 }, patch: [{ op: 'remove', path: '/~' }] },
          { name: 'add without value', doc: {}, patch: [{ op: 'add', path: '/a' }] },
          { name: 'replace without value', doc: { a: 1 }, patch: [{ op: 'replace', path: '/a' }] },
          { name: 'test without value', doc: { a: 1 }, patch: [{ op: 'test', path: '/a' }] },
          { name: 'move without from', doc: { a: 1 }, patch: [{ op: 'move', path: '/b' }] },
          { name: 'copy with a non-string from', doc: { a: 1 }, patch: [{ op: 'copy', from: 1, path: '/b' }] },
          { name: 'remove a missing member', doc: { a: 1 }, patch: [{ op: 'remove', path: '/b' }] },
          { name: 'replace a missing member', doc: { a: 1 }, patch: [{ op: 'replace', path: '/b', value: 1 }] },
          { name: 'add past the end of an array', doc: [1], patch: [{ op: 'add', path: '/2', value: 1 }] },
          { name: 'replace at the end index', doc: [1], patch: [{ op: 'replace', path: '/1', value: 1 }] },
          { name: 'remove "-"', doc: [1], patch: [{ op: 'remove', path: '/-' }] },
          { name: 'an index with a leading zero', doc: [1, 2], patch: [{ op: 'remove', path: '/01' }] },
          { name: 'a negative index', doc: [1, 2], patch: [{ op: 'remove', path: '/-1' }] },
          { name: 'a fractional index', doc: [1, 2], patch: [{ op: 'replace', path: '/1.0', value: 0 }] },
          { name: 'a non-numeric index', doc: [1, 2], patch: [{ op: 'add', path: '/length', value: 0 }] },
          { name: 'a path through a number', doc: { a: 1 }, patch: [{ op: 'add', path: '/a/b', value: 1 }] },
          { name: 'a path through null', doc: { a: null }, patch: [{ op: 'add', path: '/a/b', value: 1 }] },
          { name: 'a child of a null root', doc: null, patch: [{ op: 'add', path: '/a', value: 1 }] },
          { name: 'move from a missing member', doc: {}, patch: [{ op: 'move', from: '/a', path: '/b' }] },
          { name: 'move into its own child', doc: { a: { b: 1 } }, patch: [{ op: 'move', from: '/a', path: '/a/c' }] },
          { name: 'move the root into a child', doc: { a: 1 }, patch: [{ op: 'move', from: '', path: '/b' }] },
          { name: 'copy from a missing member', doc: {}, patch: [{ op: 'copy', from: '/a', path: '/b' }] },
          { name: 'test a missing member', doc: {}, patch: [{ op: 'test', path: '/a', value: null }] },
          { name: 'test order-sensitive arrays', doc: { a: [1, 2] }, patch: [{ op: 'test', path: '/a', value: [2, 1] }] },
          { name: 'test an array against an object', doc: { a: [] }, patch: [{ op: 'test', path: '/a', value: {} }] },
          { name: 'an inherited member is not there', doc: {}, patch: [{ op: 'replace', path: '/toString', value: 1 }] },
        ];
        for (const c of cases) {
          it(`rejects ${c.name}, leaving the value as it was`, () => {
            const doc = clone(c.doc);
            assert.throws(() => apply(doc, clone(c.patch)), ProtocolError);
            assert.deepEqual(doc, c.doc);
          });
        }

        it('names the failing operation in the error', () => {
          assert.throws(
            () => apply({ a: 1 }, [{ op: 'test', path: '/a', value: 1 }, { op: 'remove', path: '/nope' }]),
            (err: unknown) => err instanceof ProtocolError && err.closeCode === 1002 && /operation 1 \(remove "\/nope"\)/.test(err.message),
          );
        });
      });
    });
  }

  describe('in place', () => {
    it('mutates containers on the path and keeps the identity of the rest', () => {
      const untouched = { deep: [1, 2] };
      const items = [1, 2];
      const doc = { items, untouched };
      const out = applyPatch(doc, [{ op: 'add', path: '/items/-', value: 3 }]);
      assert.equal(out, doc);
      assert.equal((out as Any).items, items);
      assert.deepEqual(items, [1, 2, 3]);
      assert.equal((out as Any).untouched, untouched);
    });

    it('copy deep-clones: changing the copy leaves the source alone', () => {
      const doc: Any = { a: { list: [{ x: 1 }] } };
      applyPatch(doc, [
        { op: 'copy', from: '/a', path: '/b' },
        { op: 'replace', path: '/b/list/0/x', value: 2 },
        { op: 'add', path: '/b/list/-', value: 3 },
      ]);
      assert.deepEqual(doc.a, { list: [{ x: 1 }] });
      assert.deepEqual(doc.b, { list: [{ x: 2 }, 3] });
      assert.notEqual(doc.b.list, doc.a.list);
    });

    it('undoes every kind of change when a later operation fails', () => {
      const original = { arr: [1, 2, 3], obj: { k: 'v', gone: true }, keep: { n: 1 } };
      const doc: Any = clone(original);
      const keep = doc.keep;
      assert.throws(
        () =>
          applyPatch(doc, [
            { op: 'remove', path: '/arr/0' },
            { op: 'add', path: '/arr/1', value: 'x' },
            { op: 'replace', path: '/arr/0', value: 'y' },
            { op: 'replace', path: '/obj/k', value: 'w' },
            { op: 'remove', path: '/obj/gone' },
            { op: 'add', path: '/obj/new', value: 1 },
            { op: 'move', from: '/arr/2', path: '/obj/moved' },
            { op: 'copy', from: '/keep', path: '/arr/-' },
            { op: 'add', path: '/keep/extra', value: [] },
            { op: 'add', path: '/replaced', value: 1 },
            { op: 'replace', path: '', value: 'root' },
            { op: 'test', path: '', value: 'not root' },
          ]),
        ProtocolError,
      );
      assert.deepEqual(doc, original);
      assert.equal(doc.keep, keep);
    });
  });

  describe('prototype keys are data', () => {
    afterEach(() => {
      // A failure here would leak into every other test; check it did not happen.
      assert.equal(Object.hasOwn(Object.prototype, 'polluted'), false);
    });

    it('adds a __proto__ member as an own property without touching any prototype', () => {
      const doc: Any = {};
      applyPatch(doc, [{ op: 'add', path: '/__proto__', value: { polluted: true } }]);
      assert.equal(Object.getPrototypeOf(doc), Object.prototype);
      assert.equal(Object.hasOwn(doc, '__proto__'), true);
      assert.deepEqual(Object.keys(doc), ['__proto__']);
      assert.equal(doc.polluted, undefined);
      assert.equal(({} as Any).polluted, undefined);
    });

    it('reads, replaces, tests, copies, moves and removes a __proto__ member', () => {
      const doc: Any = JSON.parse('{"__proto__": {"a": 1}}');
      applyPatch(doc, [
        { op: 'test', path: '/__proto__', value: { a: 1 } },
        { op: 'add', path: '/__proto__/polluted', value: true },
        { op: 'copy', from: '/__proto__', path: '/copy' },
        { op: 'replace', path: '/__proto__', value: 2 },
        { op: 'move', from: '/copy', path: '/__proto__' },
      ]);
      assert.equal(Object.getPrototypeOf(doc), Object.prototype);
      assert.deepEqual(JSON.stringify(doc), '{"__proto__":{"a":1,"polluted":true}}');
      applyPatch(doc, [{ op: 'remove', path: '/__proto__' }]);
      assert.deepEqual(Object.keys(doc), []);
    });

    it('does not follow an inherited constructor', () => {
      const doc: Any = {};
      assert.throws(() => applyPatch(doc, [{ op: 'add', path: '/constructor/prototype/polluted', value: true }]), ProtocolError);
      assert.deepEqual(Object.keys(doc), []);
    });

    it('treats constructor and prototype members as ordinary data', () => {
      const doc: Any = {};
      applyPatch(doc, [
        { op: 'add', path: '/constructor', value: {} },
        { op: 'add', path: '/constructor/prototype', value: {} },
        { op: 'add', path: '/constructor/prototype/polluted', value: true },
      ]);
      assert.deepEqual(doc, { constructor: { prototype: { polluted: true } } });
    });

    it('undoes a __proto__ change on failure', () => {
      const doc: Any = JSON.parse('{"__proto__": 1}');
      assert.throws(() => applyPatch(doc, [{ op: 'replace', path: '/__proto__', value: { polluted: true } }, { op: 'remove', path: '/x' }]));
      assert.equal(JSON.stringify(doc), '{"__proto__":1}');
      assert.equal(Object.getPrototypeOf(doc), Object.prototype);
    });
  });

  for (const { name, apply } of APPLIERS) {
    describe(`${name} against fast-json-patch`, () => {
        // Keys that collide often and exercise escaping; no inherited names, which fast-json-patch mistakes for members.
        const KEYS = ['a', 'b', 'c', '0', '1', '', '~', '/', '~1', 'é', '😀'];
        const json = fc.letrec((tie) => ({
          value: fc.oneof(
            { depthSize: 'small', withCrossShrink: true },
            fc.constantFrom(null, true, false),
            fc.integer({ min: -5, max: 5 }),
            fc.double({ noNaN: true, noDefaultInfinity: true }),
            fc.constantFrom(...KEYS),
            fc.array(tie('value'), { maxLength: 4 }),
            fc.dictionary(fc.constantFrom(...KEYS), tie('value'), { maxKeys: 4 }),
          ),
        })).value as fc.Arbitrary<JsonValue>;
        // Through JSON, as the wire delivers it: plain prototypes, no -0.
        const viaJson = (v: unknown): Any => JSON.parse(JSON.stringify(v));
        const objects = fc.dictionary(fc.constantFrom(...KEYS), json, { maxKeys: 5 }).map(viaJson);
        const arrays = fc.array(json, { maxLength: 5 }).map(viaJson);
        const container = fc.oneof(objects, arrays);
        // Compare as JSON so that -0 and 0 (which JSON cannot tell apart) are equal.
        const same = (a: unknown, b: unknown) => assert.deepEqual(JSON.parse(JSON.stringify(a)), JSON.parse(JSON.stringify(b)));

        it('applies what compare() generates, with the same result', () => {
          fc.assert(
            fc.property(fc.oneof(fc.tuple(objects, objects), fc.tuple(arrays, arrays)), fc.boolean(), ([a, b], invertible) => {
              const patch = fjp.compare(a, b, invertible);
              const ours = apply(clone(a), clone(patch) as Any);
              same(ours, b);
              same(ours, fjp.applyPatch(clone(a), clone(patch), true, true).newDocument);
            }),
            { numRuns: 500 },
          );
        });

        const escape = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');
        /** Every pointer in `doc`, and the places a member could be added. */
        function pointers(doc: JsonValue): { existing: string[]; addable: string[] } {
          const existing: string[] = [];
          const addable: string[] = [];
          const walk = (value: JsonValue, pointer: string) => {
            existing.push(pointer);
            if (Array.isArray(value)) {
              for (let i = 0; i <= value.length; i++) addable.push(`${pointer}/${i}`);
              addable.push(`${pointer}/-`);
              value.forEach((v, i) => walk(v, `${pointer}/${i}`));
            } else if (value !== null && typeof value === 'object') {
              for (const key of KEYS) addable.push(`${pointer}/${escape(key)}`);
              for (const key of Object.keys(value)) walk(value[key]!, `${pointer}/${escape(key)}`);
            }
          };
          walk(doc, '');
          return { existing, addable };
        }
        const step = fc.record({ kind: fc.nat(5), a: fc.nat(), b: fc.nat(), value: json, own: fc.boolean() });

        /** Turns a random step into an operation on `doc`; some do not apply. */
        function operation(doc: JsonValue, s: { kind: number; a: number; b: number; value: JsonValue; own: boolean }): Any {
          const { existing, addable } = pointers(doc);
          const pick = (list: string[], n: number) => list[n % list.length]!;
          const nonRoot = existing.filter((p) => p !== '');
          const missing = ['/nope', '/nope/deeper', `${pick(existing, s.b)}/nope/x`];
          switch (s.kind) {
            case 0:
              return { op: 'add', path: pick([...addable, ...existing, ...missing], s.a), value: s.value };
            case 1:
              return { op: 'remove', path: pick([...nonRoot, ...missing], s.a) };
            case 2:
              return { op: 'replace', path: pick([...existing, ...missing], s.a), value: s.value };
            case 3:
              return { op: 'move', from: pick([...nonRoot, '/nope'], s.a), path: pick([...addable, ...nonRoot], s.b) };
            case 4:
              return { op: 'copy', from: pick([...existing, '/nope'], s.a), path: pick([...addable, ...nonRoot], s.b) };
            default: {
              const path = pick(existing, s.a);
              return { op: 'test', path, value: s.own ? clone(fjp.getValueByPointer(doc, path)) : s.value };
            }
          }
        }

        /**
         * fast-json-patch validates only the source of a move or copy, not its
         * target; spelled out as remove/add it validates both, as RFC 6902 asks.
         */
        function oracle(doc: Any, op: Any): Any[] {
          if (op.op !== 'move' && op.op !== 'copy') return [clone(op)];
          let value: unknown;
          try {
            value = clone(fjp.getValueByPointer(doc, op.from));
          } catch {
            value = undefined;
          }
          // A missing source: let fast-json-patch's own check report it.
          if (value === undefined) return [clone(op)];
          if (op.op === 'copy') return [{ op: 'add', path: op.path, value }];
          return [{ op: 'remove', path: op.from }, { op: 'add', path: op.path, value }];
        }

        it('agrees on random operations of all six kinds, and fails exactly when it does', () => {
          fc.assert(
            fc.property(container, fc.array(step, { maxLength: 12 }), (doc, steps) => {
              let ours: JsonValue = clone(doc);
              let theirs: Any = clone(doc);
              for (const s of steps) {
                // fast-json-patch silently "adds" members to a number or string root.
                if (ours === null || typeof ours !== 'object') break;
                const op = operation(ours, s);
                if (op.op === 'move' && op.path.startsWith(op.from + '/')) {
                  // fast-json-patch does not check this case; RFC 6902 forbids it.
                  assert.throws(() => apply(ours, [clone(op)]), ProtocolError);
                  continue;
                }
                let ourError: unknown = null;
                let theirError: unknown = null;
                try {
                  ours = apply(ours, [clone(op)]);
                } catch (err) {
                  ourError = err;
                }
                try {
                  theirs = fjp.applyPatch(clone(theirs), oracle(theirs, op), true, true).newDocument;
                } catch (err) {
                  theirError = err;
                }
                if (ourError !== null && theirError === null && /"" is not an array index/.test((ourError as Error).message)) {
                  // fast-json-patch takes "" for index 0 (its isInteger('') is true); RFC 6901 does not.
                  theirs = clone(ours);
                  continue;
                }
                assert.equal(ourError === null, theirError === null, `${JSON.stringify(op)}: ours ${ourError}, theirs ${theirError}`);
                if (ourError !== null) assert.ok(ourError instanceof ProtocolError);
                same(ours, theirs);
              }
            }),
            { numRuns: 500 },
          );
        });

        it('leaves the value untouched when the last operation of a long patch fails', () => {
          fc.assert(
            fc.property(container, fc.array(step, { maxLength: 12 }), (doc, steps) => {
              // Collect operations that apply in sequence, then add one that cannot.
              let scratch: JsonValue = clone(doc);
              const patch: Any[] = [];
              for (const s of steps) {
                const op = operation(scratch, s);
                try {
                  scratch = apply(scratch, [clone(op)]);
                  patch.push(op);
                } catch {
                  // This one does not apply here; leave it out.
                }
              }
              patch.push({ op: 'test', path: '', value: 'never equal to a container' });
              const target = clone(doc);
              assert.throws(() => apply(target, patch), ProtocolError);
              assert.deepEqual(target, doc);
            }),
            { numRuns: 300 },
          );
        });
      });
  }
});
