import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../src/errors.js';
import { escapePointerSegment, isPathSegment, normalizePath, parsePointer, toPointer } from '../../src/state/path.js';

describe('path', () => {
  describe('normalizePath', () => {
    it('takes a bare key, a bare index, an array, and [] for the root', () => {
      assert.deepEqual(normalizePath('a'), ['a']);
      assert.deepEqual(normalizePath(''), ['']);
      assert.deepEqual(normalizePath(3), [3]);
      assert.deepEqual(normalizePath(['a', 0, 'b']), ['a', 0, 'b']);
      assert.deepEqual(normalizePath([]), []);
    });

    it('returns a fresh array the caller cannot change afterwards', () => {
      const path = ['a', 'b'];
      const segments = normalizePath(path);
      path[0] = 'z';
      assert.deepEqual(segments, ['a', 'b']);
    });

    it('turns -0 into 0', () => {
      assert.ok(Object.is(normalizePath(-0)[0], 0));
      assert.ok(Object.is(normalizePath(['a', -0])[1], 0));
    });

    it('names the bad step in its error', () => {
      assert.throws(() => normalizePath(['a', 'b', -1]), {
        name: 'InvalidArgumentError',
        message: 'path[2] must be a string or a non-negative integer, got -1',
      });
      assert.throws(() => normalizePath([1.5]), { message: 'path[0] must be a string or a non-negative integer, got 1.5' });
      assert.throws(() => normalizePath([null as never]), { message: 'path[0] must be a string or a non-negative integer, got null' });
      assert.throws(() => normalizePath([['a'] as never]), InvalidArgumentError);
    });

    it('refuses what is neither a step nor an array, naming the argument given', () => {
      assert.throws(() => normalizePath(null as never), {
        message: 'path must be a string, a non-negative integer or an array of them, got null',
      });
      assert.throws(() => normalizePath(undefined as never, 'where'), { message: /^where must be/ });
      assert.throws(() => normalizePath(NaN), InvalidArgumentError);
      assert.throws(() => normalizePath(2 ** 53), InvalidArgumentError);
      assert.throws(() => normalizePath({ 0: 'a', length: 1 } as never), InvalidArgumentError);
    });
  });

  describe('isPathSegment', () => {
    it('accepts strings and non-negative safe integers only', () => {
      for (const ok of ['', 'a', 0, 7, Number.MAX_SAFE_INTEGER]) assert.equal(isPathSegment(ok), true, String(ok));
      for (const bad of [-1, 0.5, NaN, Infinity, null, undefined, true, 1n, {}]) assert.equal(isPathSegment(bad), false, String(bad));
    });
  });

  describe('JSON Pointer', () => {
    const table: [segments: (string | number)[], pointer: string][] = [
      [[], ''],
      [[''], '/'],
      [['a'], '/a'],
      [['a', 0, 'b'], '/a/0/b'],
      [['a/b'], '/a~1b'],
      [['m~n'], '/m~0n'],
      [['~1'], '/~01'],
      [['/~'], '/~1~0'],
      [['', ''], '//'],
      [['__proto__', 'constructor'], '/__proto__/constructor'],
    ];

    it('escapes ~ and / as RFC 6901 says', () => {
      for (const [segments, pointer] of table) assert.equal(toPointer(segments), pointer, JSON.stringify(segments));
      assert.equal(escapePointerSegment(12), '12');
      assert.equal(escapePointerSegment('plain'), 'plain');
    });

    it('takes only the first steps when given a length', () => {
      assert.equal(toPointer(['a', 'b', 'c'], 2), '/a/b');
      assert.equal(toPointer(['a'], 0), '');
    });

    it('parses back what it encodes (as strings)', () => {
      for (const [segments, pointer] of table) assert.deepEqual(parsePointer(pointer), segments.map(String), pointer);
    });

    it('refuses a pointer that does not start with /', () => {
      assert.throws(() => parsePointer('a/b'), { name: 'InvalidArgumentError', message: /^pointer must be a JSON Pointer/ });
    });
  });
});
