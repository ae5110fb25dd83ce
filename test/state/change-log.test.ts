import assert from 'node:assert/strict';
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import { ChangeLog } from '../../src/state/change-log.js';
import { changeLogOf, Storage } from '../../src/state/storage.js';

describe('ChangeLog', () => {
  describe('positions and cursors', () => {
    it('counts every change in head, and keeps nothing while no reader is open', () => {
      const s = new Storage({});
      s.set('a', 1);
      s.set('b', 2);
      assert.equal(changeLogOf(s).head, 2);
      assert.equal(changeLogOf(s).tail, 2);
      assert.equal(changeLogOf(s).size, 0);
      assert.equal(changeLogOf(s).recording, false);
      assert.equal(changeLogOf(s).diffText(0), undefined, 'a position not held');
      assert.equal(changeLogOf(s).diffText(2), '[]');
    });

    it('keeps what the smallest cursor still needs, and drops it as cursors move on or close', () => {
      const s = new Storage({});
      const slow = changeLogOf(s).openCursor();
      s.set('a', 1);
      const fast = changeLogOf(s).openCursor();
      s.set('b', 2);
      s.set('c', 3);
      assert.equal(changeLogOf(s).size, 3);
      assert.equal(changeLogOf(s).diffText(slow.position), '[{"op":"add","path":"/a","value":1},{"op":"add","path":"/b","value":2},{"op":"add","path":"/c","value":3}]');
      assert.equal(changeLogOf(s).diffText(fast.position), '[{"op":"add","path":"/b","value":2},{"op":"add","path":"/c","value":3}]');
      slow.advance(2);
      assert.equal(changeLogOf(s).tail, 1, 'the fast cursor still holds position 1');
      fast.advance();
      assert.equal(changeLogOf(s).tail, 2);
      assert.equal(changeLogOf(s).diffText(2), '[{"op":"add","path":"/c","value":3}]');
      slow.close();
      slow.close();
      assert.equal(slow.closed, true);
      assert.equal(changeLogOf(s).size, 0);
      assert.equal(changeLogOf(s).recording, true);
      fast.close();
      assert.equal(changeLogOf(s).recording, false);
    });

    it('diffs between two held positions', () => {
      const s = new Storage({});
      const cursor = changeLogOf(s).openCursor();
      s.set('a', 1);
      s.set('b', 2);
      s.set('a', 3);
      assert.equal(changeLogOf(s).diffText(0, 2), '[{"op":"add","path":"/a","value":1},{"op":"add","path":"/b","value":2}]');
      assert.equal(changeLogOf(s).diffText(1, 3), '[{"op":"add","path":"/b","value":2},{"op":"replace","path":"/a","value":3}]');
      cursor.close();
    });

    it('refuses positions out of range', () => {
      const s = new Storage({});
      const cursor = changeLogOf(s).openCursor();
      s.set('a', 1);
      assert.throws(() => changeLogOf(s).openCursor(5), { name: 'InvalidArgumentError', message: /^position must be an integer from 0 to 1/ });
      assert.throws(() => cursor.advance(7), { name: 'InvalidArgumentError' });
      cursor.advance();
      assert.throws(() => cursor.advance(0), { name: 'InvalidArgumentError', message: /^position must be an integer from 1 to 1/ });
      assert.throws(() => changeLogOf(s).diffText(0, 9), { name: 'InvalidArgumentError', message: /^to must be/ });
      assert.throws(() => changeLogOf(s).diffText(1, 0), { name: 'InvalidArgumentError', message: /^from must be/ });
      cursor.close();
    });
  });

  describe('lazy encoding', () => {
    it('encodes a value when the diff is built, so later changes beside it cost no encoding now', () => {
      const s = new Storage({ points: {} });
      const cursor = changeLogOf(s).openCursor();
      const point = { value: 1, quality: 'good' };
      s.set(['points', 'p1'], point);
      s.set(['points', 'p2'], { value: 2, quality: 'good' });
      const unencoded = changeLogOf(s).bytes;
      assert.equal(
        changeLogOf(s).diffText(cursor.position),
        '[{"op":"add","path":"/points/p1","value":{"value":1,"quality":"good"}},{"op":"add","path":"/points/p2","value":{"value":2,"quality":"good"}}]',
      );
      assert.equal(changeLogOf(s).bytes - unencoded, 2 * '{"value":1,"quality":"good"}'.length, 'the texts were made (and counted) by the diff');
      cursor.close();
    });

    it('encodes waiting values before a change inside one of them, so each record keeps what it said', () => {
      const s = new Storage({});
      const cursor = changeLogOf(s).openCursor();
      s.set('list', [1]);
      s.set(['list', 1], 2); // writes inside the array recorded just before
      s.set(['list', 0], 0);
      s.remove(['list', 1]);
      const diff = changeLogOf(s).diffText(cursor.position)!;
      assert.equal(diff, '[{"op":"add","path":"/list","value":[1]},{"op":"add","path":"/list/1","value":2},{"op":"replace","path":"/list/0","value":0},{"op":"remove","path":"/list/1"}]');
      const client = fastJsonPatch.applyPatch({}, JSON.parse(diff) as Operation[], false, false).newDocument;
      assert.deepEqual(client, s.data);
      cursor.close();
    });
  });

  describe('bound', () => {
    it('drops the oldest records past maxOps; a reader behind them gets undefined', () => {
      const s = new Storage({}, { log: { maxOps: 3 } });
      const cursor = changeLogOf(s).openCursor();
      for (let i = 0; i < 5; i++) s.set(String(i), i);
      assert.equal(changeLogOf(s).size, 3);
      assert.equal(changeLogOf(s).tail, 2);
      assert.equal(changeLogOf(s).holds(cursor.position), false);
      assert.equal(changeLogOf(s).diffText(cursor.position), undefined);
      assert.equal(changeLogOf(s).diffText(2), '[{"op":"add","path":"/2","value":2},{"op":"add","path":"/3","value":3},{"op":"add","path":"/4","value":4}]');
      cursor.close();
    });

    it('drops the oldest records past maxBytes, counting value texts once encoded (when a diff is built)', () => {
      const s = new Storage({}, { log: { maxBytes: 100 } });
      const cursor = changeLogOf(s).openCursor();
      s.set('a', 'x'.repeat(60));
      s.set('b', 'y'.repeat(60));
      assert.equal(changeLogOf(s).diffText(cursor.position), undefined, 'encoding both passed the bound: the first was dropped');
      assert.equal(changeLogOf(s).size, 1);
      assert.ok(changeLogOf(s).bytes <= 100);
      assert.equal(changeLogOf(s).diffText(1), `[{"op":"add","path":"/b","value":"${'y'.repeat(60)}"}]`);
      s.set('c', 'z'.repeat(500));
      assert.equal(changeLogOf(s).diffText(2), undefined);
      assert.equal(changeLogOf(s).size, 0, 'a record larger than the bound is not kept either');
      cursor.close();
    });

    it('refuses a bound that is not a positive integer', () => {
      assert.throws(() => new ChangeLog({ maxOps: 0 }), { name: 'InvalidArgumentError', message: /^options\.maxOps must be a positive integer/ });
      assert.throws(() => new ChangeLog({ maxBytes: 1.5 }), { message: /^options\.maxBytes/ });
    });

    it('stays correct when it slices off a long dropped prefix', () => {
      const s = new Storage({});
      const reader = changeLogOf(s).openCursor();
      for (let i = 0; i < 5000; i++) {
        s.set('k', i);
        if (i % 3 === 0) reader.advance();
      }
      assert.equal(changeLogOf(s).diffText(reader.position), changeLogOf(s).size === 0 ? '[]' : '[{"op":"replace","path":"/k","value":4999}]');
      reader.close();
    });
  });

  describe('commit listeners', () => {
    it('run once per whole change, before the storage callbacks, until unregistered', () => {
      const s = new Storage({ list: [] });
      const order: string[] = [];
      const stop = changeLogOf(s).onCommit(() => order.push(`log@${changeLogOf(s).head}`));
      s.onChange(() => order.push('storage'));
      s.set(['list', 2], 1); // three records (two of padding), one change
      stop();
      s.set('x', 1);
      assert.deepEqual(order, ['log@3', 'storage', 'storage']);
    });

    it('report a throwing listener and run the others', () => {
      const log = new ChangeLog();
      let ran = 0;
      log.onCommit(() => {
        throw new Error('listener');
      });
      log.onCommit(() => ran++);
      const original = console.error;
      const errors: unknown[] = [];
      console.error = (...args: unknown[]) => void errors.push(args);
      try {
        log.commit();
      } finally {
        console.error = original;
      }
      assert.equal(ran, 1);
      assert.equal(errors.length, 1);
    });
  });
});
