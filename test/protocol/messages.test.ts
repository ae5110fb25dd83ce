import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/errors.js';
import { parseClientMessage, parseServerMessage } from '../../src/protocol/messages.js';

const bad = (text: string, pattern: RegExp, extension = false) =>
  assert.throws(
    () => parseClientMessage(text, extension),
    (e: unknown) => e instanceof ProtocolError && e.closeCode === 1002 && pattern.test(e.message),
    `expected ${text} to fail with ${pattern}`,
  );

describe('messages', () => {
  describe('parseClientMessage()', () => {
    it('accepts a request', () => {
      assert.deepEqual(parseClientMessage('{"type":"request","id":1,"name":"x","data":{"a":[1]}}', false), {
        type: 'request', id: 1, name: 'x', data: { a: [1] },
      });
    });

    it('keeps a key only with the extension', () => {
      const text = '{"type":"request","id":1,"name":"x","data":null,"key":"k1"}';
      assert.equal((parseClientMessage(text, false) as { key?: string }).key, undefined);
      assert.equal((parseClientMessage(text, true) as { key?: string }).key, 'k1');
      bad(`{"type":"request","id":1,"name":"x","data":null,"key":"${'k'.repeat(257)}"}`, /key longer/, true);
    });

    it('says what was wrong', () => {
      bad('{', /invalid JSON/);
      bad('[1]', /not a JSON object.*array/);
      bad('null', /not a JSON object.*null/);
      bad('"x"', /not a JSON object.*string/);
      bad('{}', /no type/);
      bad('{"type":1}', /type must be a string/);
      bad('{"type":"nope"}', /unknown message type "nope"/);
      bad('{"type":"hello"}', /unknown message type "hello".*only "request"/);
      bad('{"type":"request","id":"1","name":"x","data":null}', /id must be an integer.*string/);
      bad('{"type":"request","id":1.5,"name":"x","data":null}', /safe integer.*1.5/);
      bad('{"type":"request","id":1e300,"name":"x","data":null}', /safe integer/);
      bad('{"type":"request","name":"x","data":null}', /id must be an integer.*none/);
      bad('{"type":"request","id":1,"name":3,"data":null}', /name must be a string/);
      bad('{"type":"request","id":1,"name":"x"}', /needs a data field/);
    });

    it('does not let "__proto__" in a message touch any prototype', () => {
      const m = parseClientMessage('{"type":"request","id":1,"name":"x","data":{"__proto__":{"polluted":1}}}', false);
      assert.equal(({} as { polluted?: number }).polluted, undefined);
      assert.deepEqual(Object.keys(m.type === 'request' ? (m.data as object) : {}), ['__proto__']);
    });

    it('validates the extension messages', () => {
      assert.deepEqual(parseClientMessage('{"type":"hello"}', true), { type: 'hello', session: null, version: null });
      assert.deepEqual(parseClientMessage('{"type":"hello","session":"s","version":null,"x":1}', true), {
        type: 'hello', session: 's', version: null,
      });
      bad('{"type":"hello","session":5}', /session must be a string/, true);
      bad('{"type":"stream-credit","id":1,"n":0}', /positive/, true);
      bad('{"type":"stream-credit","id":1,"n":1.5}', /positive/, true);
      assert.deepEqual(parseClientMessage('{"type":"stream-end","id":4}', true), { type: 'stream-end', id: 4 });
    });
  });

  describe('parseServerMessage()', () => {
    it('accepts the four juggler messages', () => {
      assert.deepEqual(parseServerMessage('{"type":"response","id":1,"success":false,"data":"no"}', false), {
        type: 'response', id: 1, success: false, data: 'no',
      });
      assert.deepEqual(parseServerMessage('{"type":"state","diff":[]}', false), { type: 'state', diff: [] });
      assert.deepEqual(parseServerMessage('{"type":"notify","name":"n","data":1}', false), { type: 'notify', name: 'n', data: 1 });
    });

    it('refuses a state without a diff array, and welcome without the extension', () => {
      assert.throws(() => parseServerMessage('{"type":"state","diff":{}}', false), ProtocolError);
      assert.throws(() => parseServerMessage('{"type":"welcome","session":"s","resumed":false,"streamWindow":4}', false), ProtocolError);
      assert.deepEqual(parseServerMessage('{"type":"welcome","session":"s","resumed":false,"streamWindow":4}', true), {
        type: 'welcome', session: 's', resumed: false, streamWindow: 4,
      });
    });
  });
});
