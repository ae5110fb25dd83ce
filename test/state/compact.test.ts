/**
 * Compaction of recorded changes, by example. The property test
 * (sync-property.test.ts) proves it correct in general; these pin the rules.
 */
import assert from 'node:assert/strict';
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { JsonValue } from '../../src/json.js';
import { compactPatchText, type ChangeRecord } from '../../src/state/compact.js';
import { changeLogOf, Storage } from '../../src/state/storage.js';

/** The compacted patch for what `change` does to a storage holding `initial`; also checks it applies. */
function compacted(initial: JsonValue, change: (s: Storage) => void): Operation[] {
  const s = new Storage(structuredClone(initial));
  const cursor = changeLogOf(s).openCursor();
  change(s);
  const text = changeLogOf(s).diffText(cursor.position)!;
  cursor.close();
  const patch = JSON.parse(text) as Operation[];
  assert.equal(fastJsonPatch.validate(JSON.parse(text), structuredClone(initial)), undefined, 'the patch is valid RFC 6902');
  // A fresh parse: applying in place puts the patch's values into the document, and later operations change them.
  const result = fastJsonPatch.applyPatch(structuredClone(initial), JSON.parse(text), false, true).newDocument;
  assert.deepStrictEqual(result, s.data);
  return patch;
}

describe('compaction', () => {
  it('sends a key changed many times once, as replace if it existed at the start', () => {
    assert.deepEqual(
      compacted({ speed: 0 }, (s) => {
        for (let i = 1; i <= 2000; i++) s.set('speed', i);
      }),
      [{ op: 'replace', path: '/speed', value: 2000 }],
    );
  });

  it('sends add for a key that did not exist at the start, however often it changed', () => {
    assert.deepEqual(
      compacted({}, (s) => {
        s.set('k', 1);
        s.remove('k');
        s.set('k', 2);
        s.set('k', 3);
      }),
      [{ op: 'add', path: '/k', value: 3 }],
    );
  });

  it('drops a remove of something added in the same window: nothing is sent', () => {
    assert.deepEqual(
      compacted({ a: {} }, (s) => {
        s.set(['a', 'new'], { deep: [1] });
        s.set(['a', 'new', 'deep', 0], 2);
        s.remove(['a', 'new']);
      }),
      [],
    );
  });

  it('keeps a remove of something that existed at the start, replaced meanwhile', () => {
    assert.deepEqual(
      compacted({ a: 1 }, (s) => {
        s.set('a', 2);
        s.remove('a');
      }),
      [{ op: 'remove', path: '/a' }],
    );
  });

  it('lets a change supersede earlier changes below it, but not above it', () => {
    assert.deepEqual(
      compacted({ a: { b: { c: 1 } } }, (s) => {
        s.set(['a', 'b', 'c'], 2);
        s.set(['a', 'b', 'd'], 3);
        s.set(['a', 'b'], { fresh: true });
        s.set(['a', 'b', 'fresh'], false);
      }),
      [
        { op: 'replace', path: '/a/b', value: { fresh: true } },
        { op: 'replace', path: '/a/b/fresh', value: false },
      ],
    );
  });

  it('lets a root change supersede everything', () => {
    assert.deepEqual(
      compacted({ a: [1, 2] }, (s) => {
        s.set(['a', 0], 9);
        s.remove(['a', 1]);
        s.set('b', 1);
        s.set([], { only: 1 });
      }),
      [{ op: 'replace', path: '', value: { only: 1 } }],
    );
  });

  it('never lets a change through an array supersede another (indexes shift)', () => {
    assert.deepEqual(
      compacted({ list: ['a', 'b', 'c'] }, (s) => {
        s.remove(['list', 0]);
        s.remove(['list', 0]);
        s.set(['list', 0], 'z');
        s.set(['list', 0], 'y');
      }),
      [
        { op: 'remove', path: '/list/0' },
        { op: 'remove', path: '/list/0' },
        { op: 'replace', path: '/list/0', value: 'z' },
        { op: 'replace', path: '/list/0', value: 'y' },
      ],
    );
  });

  it('drops changes through an array when a later object-only change covers them', () => {
    assert.deepEqual(
      compacted({ o: { list: [{ n: 1 }] } }, (s) => {
        s.set(['o', 'list', 0, 'n'], 2);
        s.set(['o', 'list', 1], 'x');
        s.set(['o', 'list'], []);
      }),
      [{ op: 'replace', path: '/o/list', value: [] }],
    );
  });

  it('escapes pointers and encodes strings safely', () => {
    assert.deepEqual(
      compacted({}, (s) => {
        s.set(['a/b', 'm~n'], 'quote " and \u2028 and 😀');
      }),
      [{ op: 'add', path: '/a~1b', value: { 'm~n': 'quote " and \u2028 and 😀' } }],
    );
  });

  it('is linear: 60,000 changes over a 20,000-key object compact in one pass', function () {
    // A quadratic compaction (rescanning earlier records per record) would take
    // minutes here and fail on mocha's timeout; the trie visits each record and
    // node a bounded number of times.
    const wide: Record<string, JsonValue> = {};
    for (let i = 0; i < 20_000; i++) wide[`k${i}`] = { v: i };
    const s = new Storage({ wide }, { log: { maxOps: 1_000_000 } });
    const cursor = changeLogOf(s).openCursor();
    for (let i = 0; i < 60_000; i++) {
      const key = `k${i % 20_000}`;
      if (i % 3 === 0) s.set(['wide', key, 'v'], -i);
      else s.set(['wide', key], { v: i });
    }
    const patch = JSON.parse(changeLogOf(s).diffText(cursor.position)!) as Operation[];
    cursor.close();
    assert.equal(new Set(patch.map((op) => op.path)).size, patch.length, 'at most one change per location survives');
    assert.ok(patch.length >= 20_000 && patch.length <= 2 * 20_000);
    const applied = fastJsonPatch.applyPatch(structuredClone({ wide: Object.fromEntries(Object.keys(wide).map((k, i) => [k, { v: i }])) }), patch, false, true).newDocument;
    assert.deepStrictEqual(applied, s.data);
  });

  it('works on records given directly', () => {
    const records: ChangeRecord[] = [
      { segments: ['x'], objectPath: true, kind: 'set', existed: false, text: '1' },
      { segments: ['x'], objectPath: true, kind: 'set', existed: true, text: '2' },
      { segments: ['y'], objectPath: true, kind: 'remove', existed: true, text: undefined },
    ];
    assert.equal(compactPatchText(records, 0, 3), '[{"op":"add","path":"/x","value":2},{"op":"remove","path":"/y"}]');
    assert.equal(compactPatchText(records, 1, 3), '[{"op":"replace","path":"/x","value":2},{"op":"remove","path":"/y"}]');
    assert.equal(compactPatchText(records, 2, 2), '[]');
  });
});
