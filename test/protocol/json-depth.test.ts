import assert from 'node:assert/strict';
import { ProtocolError } from '../../src/errors.js';
import { checkJsonDepth, jsonDepth } from '../../src/protocol/json-depth.js';
import { parseClientMessage, parseServerMessage } from '../../src/protocol/messages.js';

describe('jsonDepth()', () => {
  const table: [string, number][] = [
    ['1', 0],
    ['"x"', 0],
    ['[]', 1],
    ['{}', 1],
    ['[[]]', 2],
    ['{"a":[{"b":[]}]}', 4],
    ['[[],[[]],[]]', 3],
    ['[1,[2,[3,[4]]],5]', 4],
    ['"[[[["', 0],
    ['{"a":"]]]{{{"}', 1],
    ['["\\"[[[",[]]', 2],
    ['["\\\\",[[]]]', 3],
    ['["\\\\\\"[[",[]]', 2],
    ['{"k\\"{":"v\\\\"}', 1],
    ['["\\u005b\\u007b"]', 1],
    ['[' + '"]",'.repeat(100) + '[]]', 2],
  ];
  for (const [text, depth] of table) {
    it(`is ${depth} for ${text.length > 40 ? text.slice(0, 40) + '...' : text}`, () => {
      assert.equal(jsonDepth(text), depth);
      // The scanner agrees with the parser on what is a string.
      assert.doesNotThrow(() => JSON.parse(text));
    });
  }

  it('matches a reference depth on generated values', () => {
    const depthOf = (v: unknown): number =>
      v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v as object).map(depthOf)) : 0;
    let value: unknown = 'a"b\\c[{';
    for (let i = 0; i < 30; i++) {
      value = i % 2 ? { [`k${i}"]`]: value, s: '\\"}' } : [value, '[', i];
      const text = JSON.stringify(value);
      assert.equal(jsonDepth(text), depthOf(value), text);
    }
  });

  it('stops one past the limit', () => {
    assert.equal(jsonDepth('['.repeat(1_000_000), 64), 65);
  });

  it('lets JSON.parse refuse an unterminated string', () => {
    assert.equal(jsonDepth('["abc'), 1);
    assert.equal(jsonDepth('["a\\"'), 1);
  });
});

describe('checkJsonDepth()', () => {
  it('accepts a message exactly at the bound and refuses one level more with 1008', () => {
    checkJsonDepth('['.repeat(64) + ']'.repeat(64), 64);
    assert.throws(
      () => checkJsonDepth('['.repeat(65) + ']'.repeat(65), 64),
      (err: unknown) => err instanceof ProtocolError && err.closeCode === 1008 && err.code === 'ERR_JSON_TOO_DEEP' && /maxJsonDepth \(64\)/.test(err.message),
    );
  });

  it('decides the same whether a message has few brackets or many, in strings or not', () => {
    // Few brackets: the bound holds without walking the text. Many: the walk decides.
    const shallowMany = JSON.stringify({ type: 'request', id: 1, name: 'x', data: Array.from({ length: 200 }, (_, i) => ({ k: i, v: [i] })) });
    checkJsonDepth(shallowMany, 64);
    const bracketsInStrings = JSON.stringify({ type: 'request', id: 1, name: 'x', data: '[{'.repeat(100) });
    checkJsonDepth(bracketsInStrings, 64);
    const deepAfterShallow = shallowMany.slice(0, -1) + ',"deep":' + '['.repeat(65) + ']'.repeat(65) + '}';
    assert.throws(() => checkJsonDepth(deepAfterShallow, 64), (err: unknown) => err instanceof ProtocolError && err.closeCode === 1008);
    const deepObjects = '{"a":'.repeat(65) + '1' + '}'.repeat(65);
    assert.throws(() => checkJsonDepth(deepObjects, 64), (err: unknown) => err instanceof ProtocolError && err.closeCode === 1008);
  });

  it('refuses a 2 MB message of [ with 1008 (the scan stops one level past the bound: see jsonDepth above)', () => {
    const bomb = '['.repeat(2 * 1024 * 1024);
    assert.throws(() => checkJsonDepth(bomb, 64), (err: unknown) => err instanceof ProtocolError && err.closeCode === 1008);
  });

  it('is what parseClientMessage and parseServerMessage run first', () => {
    const deep = (n: number) => `{"type":"request","id":1,"name":"x","data":${'['.repeat(n)}${']'.repeat(n)}}`;
    assert.equal(parseClientMessage(deep(63), false).type, 'request');
    assert.throws(() => parseClientMessage(deep(64), false), (err: ProtocolError) => err.closeCode === 1008);
    assert.equal(parseClientMessage(deep(64), false, 65).type, 'request');
    const state = (n: number) => `{"type":"state","diff":[{"op":"replace","path":"","value":${'['.repeat(n)}${']'.repeat(n)}}]}`;
    assert.equal(parseServerMessage(state(125), false, 128).type, 'state');
    assert.throws(() => parseServerMessage(state(126), false, 128), (err: ProtocolError) => err.closeCode === 1008);
  });
});
