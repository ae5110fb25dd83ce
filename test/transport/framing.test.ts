import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ProtocolError } from '../../src/errors.js';
import { Reassembler, segment } from '../../src/transport/framing.js';

describe('framing', () => {
  describe('segment()', () => {
    const table: [string, number, string[]][] = [
      ['', 4, ['0']],
      ['abc', 4, ['0abc']],
      ['abcd', 4, ['0abcd']],
      ['abcde', 4, ['1abcd', '0e']],
      ['abcdefgh', 4, ['1abcd', '0efgh']],
      ['abc\u{1F600}x', 4, ['1abc', '0\u{1F600}x']],
      ['ab\u{1F600}x', 4, ['1ab\u{1F600}', '0x']],
      ['\u{1F600}\u{1F600}', 3, ['1\u{1F600}', '0\u{1F600}']],
    ];
    for (const [text, max, frames] of table) {
      it(`cuts ${JSON.stringify(text)} at ${max} into ${JSON.stringify(frames)}`, () => {
        assert.deepEqual(segment(text, max), frames);
      });
    }

    it('never splits a surrogate pair, and the pieces join back to the text', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.integer({ min: 2, max: 20 }), (text, max) => {
          const frames = segment(text, max);
          for (const frame of frames) {
            const payload = frame.slice(1);
            assert.ok(payload.length <= max);
            const last = payload.charCodeAt(payload.length - 1);
            if (frame[0] === '1') assert.ok(!(last >= 0xd800 && last <= 0xdbff), 'segment ends in a high surrogate');
          }
          assert.equal(frames.map((f) => f.slice(1)).join(''), text);
          assert.ok(frames.slice(0, -1).every((f) => f[0] === '1'));
          assert.equal(frames[frames.length - 1]![0], '0');
        }),
        { numRuns: 500 },
      );
    });
  });

  describe('Reassembler', () => {
    it('joins segments into one message', () => {
      const r = new Reassembler(100);
      assert.deepEqual(r.push('1ab'), { kind: 'partial' });
      assert.deepEqual(r.push('1cd'), { kind: 'partial' });
      assert.deepEqual(r.push('0ef'), { kind: 'message', text: 'abcdef' });
      assert.equal(r.pendingSize, 0);
    });

    it('reports pings with their payload and pongs', () => {
      const r = new Reassembler(100);
      assert.deepEqual(r.push('2xyz'), { kind: 'ping', payload: 'xyz' });
      assert.deepEqual(r.push('2'), { kind: 'ping', payload: '' });
      assert.deepEqual(r.push('3abc'), { kind: 'pong' });
    });

    it('takes a ping between two segments of a message', () => {
      const r = new Reassembler(100);
      r.push('1ab');
      assert.deepEqual(r.push('2'), { kind: 'ping', payload: '' });
      assert.deepEqual(r.push('0c'), { kind: 'message', text: 'abc' });
    });

    it('refuses an empty frame and unknown headers with 1002', () => {
      const r = new Reassembler(100);
      assert.throws(() => r.push(''), (e: ProtocolError) => e.closeCode === 1002 && /empty frame/.test(e.message));
      for (const header of ['4', 'a', '{', ' ', '\u0000']) {
        assert.throws(() => r.push(header + 'x'), (e: ProtocolError) => e.closeCode === 1002 && /header/.test(e.message));
      }
    });

    it('caps the whole message, closing with 1009, and keeps nothing of it', () => {
      const r = new Reassembler(10);
      r.push('1abcde');
      assert.throws(() => r.push('1fghijk'), (e: ProtocolError) => e.closeCode === 1009);
      assert.equal(r.pendingSize, 0);
      assert.deepEqual(r.push('0abcdefghij'), { kind: 'message', text: 'abcdefghij' });
      assert.throws(() => r.push('0abcdefghijk'), (e: ProtocolError) => e.closeCode === 1009);
    });

    it('counts bytes when the caller knows them', () => {
      const r = new Reassembler(4);
      // 'éé' is 2 UTF-16 units but 4 bytes of UTF-8 (+1 header byte)
      assert.deepEqual(r.push('0éé', 5), { kind: 'message', text: 'éé' });
      assert.throws(() => r.push('0ééé', 7), (e: ProtocolError) => e.closeCode === 1009);
    });
  });
});
