/**
 * `__proto__`, `constructor` and `prototype` as state paths, in patches and
 * in messages: they are ordinary data keys everywhere, and no prototype is
 * ever polluted, on the server (Storage, message parsing) or in our client
 * (apply-patch, client.state). Property-based: random paths made of those
 * keys (and their friends), random values that carry them too.
 */
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import fc from 'fast-check';
import { connect } from '../../src/client/index.js';
import { ProtocolError } from '../../src/errors.js';
import { InvalidArgumentError, Storage, type JsonValue } from '../../src/index.js';
import { applyPatch } from '../../src/state/apply-patch.js';
import { onCleanup } from '../support/cleanup.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const PROTOTYPES: [string, object][] = [
  ['Object.prototype', Object.prototype],
  ['Array.prototype', Array.prototype],
  ['Function.prototype', Function.prototype],
  ['String.prototype', String.prototype],
  ['Number.prototype', Number.prototype],
  ['Boolean.prototype', Boolean.prototype],
  ['Object', Object],
];

type Snapshot = Map<string, Map<string | symbol, PropertyDescriptor>>;

function snapshot(): Snapshot {
  const all: Snapshot = new Map();
  for (const [name, target] of PROTOTYPES) {
    const props = new Map<string | symbol, PropertyDescriptor>();
    for (const key of Reflect.ownKeys(target)) props.set(key, Object.getOwnPropertyDescriptor(target, key)!);
    all.set(name, props);
  }
  return all;
}

/** Fails if any own property of a built-in prototype was added, removed or changed since `before`. */
function assertUnpolluted(before: Snapshot): void {
  for (const [name, target] of PROTOTYPES) {
    const was = before.get(name)!;
    const keys = Reflect.ownKeys(target);
    assert.deepEqual(keys.map(String).sort(), [...was.keys()].map(String).sort(), `${name} gained or lost a property`);
    for (const key of keys) {
      const now = Object.getOwnPropertyDescriptor(target, key)!;
      const then = was.get(key)!;
      assert.ok(now.value === then.value && now.get === then.get && now.set === then.set, `${name}.${String(key)} changed`);
    }
  }
  assert.equal(Object.getPrototypeOf({}), Object.prototype);
  for (const key of ['polluted', 'x', 'a']) assert.equal(({} as Record<string, unknown>)[key], undefined, `({}).${key}`);
}

/** Every object in `value` still has Object.prototype, every array Array.prototype. */
function assertPlain(value: unknown, where = 'value'): void {
  if (value === null || typeof value !== 'object') return;
  if (Array.isArray(value)) {
    assert.equal(Object.getPrototypeOf(value), Array.prototype, where);
    value.forEach((v, i) => assertPlain(v, `${where}[${i}]`));
    return;
  }
  assert.equal(Object.getPrototypeOf(value), Object.prototype, `${where} has another prototype`);
  for (const key of Object.keys(value)) assertPlain((value as Record<string, unknown>)[key], `${where}.${key}`);
}

const KEYS = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'length', 'polluted', 'a'];
const segment = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: fc.nat({ max: 2 }) });
const path = fc.array(segment, { maxLength: 4 });
// Values that carry the same keys, as JSON.parse makes them (own properties, even "__proto__").
const hostileValue: fc.Arbitrary<JsonValue> = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc
    .tuple(fc.constantFrom(...KEYS), fc.jsonValue({ maxDepth: 1 }), fc.constantFrom(...KEYS))
    .map(([k1, v, k2]) => JSON.parse(`{${JSON.stringify(k1)}: {${JSON.stringify(k2)}: ${JSON.stringify(v)}}, "polluted": true}`)),
);
const storageOp = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), path, value: hostileValue }),
  fc.record({ kind: fc.constant('remove' as const), path }),
);

describe('prototype keys in state paths and patches', function () {
  this.timeout(60_000);
  const before = snapshot();
  afterEach(() => assertUnpolluted(before));

  it('Storage: set, get and remove treat them as own data keys (property)', () => {
    fc.assert(
      fc.property(fc.array(storageOp, { maxLength: 12 }), (ops) => {
        const storage = new Storage({});
        for (const op of ops) {
          if (op.kind === 'remove') {
            storage.remove(op.path);
            // (An index removed from an array lets the next element move into its place.)
            if (typeof op.path[op.path.length - 1] === 'string') assert.equal(storage.get(op.path), undefined, 'gone after remove');
            continue;
          }
          // Fresh copies: fast-check may hand the same object to two operations, and a Storage owns what it is given.
          const expected = JSON.parse(JSON.stringify(op.value));
          try {
            storage.set(op.path, JSON.parse(JSON.stringify(op.value)));
          } catch (err) {
            // A string step into an existing array is refused; nothing else may throw.
            assert.ok(err instanceof InvalidArgumentError && /as the value there is an array/.test(err.message), String(err));
            continue;
          }
          assert.ok(isDeepStrictEqual(storage.get(op.path), expected), `get after set at ${JSON.stringify(op.path)}`);
        }
        assertPlain(storage.data, 'storage.data');
        // What the storage holds is what a client would parse from it.
        assert.ok(isDeepStrictEqual(JSON.parse(JSON.stringify(storage.data)), storage.data));
        assertUnpolluted(before);
      }),
      { numRuns: 500 },
    );
  });

  it('apply-patch: any patch over those keys applies as data or fails whole, never touching a prototype (property)', () => {
    const pointer = path.map((p) => p.map((s) => '/' + String(s).replace(/~/g, '~0').replace(/\//g, '~1')).join(''));
    const op = fc.oneof(
      fc.record({ op: fc.constantFrom('add', 'replace', 'test'), path: pointer, value: hostileValue }),
      fc.record({ op: fc.constant('remove'), path: pointer }),
      fc.record({ op: fc.constantFrom('move', 'copy'), from: pointer, path: pointer }),
    );
    fc.assert(
      fc.property(hostileValue, fc.array(op, { maxLength: 6 }), (start, patch) => {
        const doc = JSON.parse(JSON.stringify(start)) as JsonValue;
        const copy = structuredClone(doc);
        let result: JsonValue;
        try {
          result = applyPatch(doc, patch);
        } catch (err) {
          assert.ok(err instanceof ProtocolError, String(err));
          // All or nothing: a patch that fails leaves the value as it was.
          assert.ok(isDeepStrictEqual(doc, copy), 'rolled back');
          assertUnpolluted(before);
          return;
        }
        assertPlain(result, 'result');
        assertUnpolluted(before);
      }),
      { numRuns: 1000 },
    );
  });

  it('server to client: paths chosen by the client end as the same own keys on both sides (property)', async () => {
    const storage = new Storage({});
    const server = await startServer({
      state: storage,
      autoflushDelay: 0,
      onRequest(conn, name, data) {
        const d = data as { path: (string | number)[]; value: JsonValue };
        if (name === 'set') conn.state.set(d.path, d.value);
        if (name === 'remove') conn.state.remove(d.path);
        return null;
      },
    });
    const client = await connect(server.url, { onError: () => {} });
    onCleanup(async () => {
      client.close();
      await client.closed;
    });
    await fc.assert(
      fc.asyncProperty(fc.array(storageOp, { minLength: 1, maxLength: 8 }), async (ops) => {
        for (const op of ops) {
          await client.send(op.kind, op.kind === 'set' ? { path: op.path, value: op.value } : { path: op.path }).catch((err) => {
            assert.match(String(err.message), /as the value there is an array/);
          });
        }
        await waitFor(() => isDeepStrictEqual(client.state, storage.data), 'the client to equal the server', 3000, 2);
        assertPlain(client.state, 'client.state');
        assertPlain(storage.data, 'storage.data');
        assertUnpolluted(before);
      }),
      { numRuns: 100 },
    );
    // A client that joins now gets the whole value, keys and all, as its own data.
    const late = await connect(server.url, { onError: () => {} });
    onCleanup(async () => {
      late.close();
      await late.closed;
    });
    await waitFor(() => isDeepStrictEqual(late.state, storage.data), 'the late client to equal the server');
    assert.equal(client.status, 'open');
  });

  it('a message carrying those keys is read as data: extra members ignored, nothing inherited', async () => {
    const server = await startServer({ onRequest: (_c, name, data) => ({ name, data }) });
    const client = await RawClient.connect(server.url);
    client.sendFrame('0{"type":"request","id":1,"name":"x","data":{"__proto__":{"polluted":true}},"__proto__":{"polluted":true}}');
    const response = await client.response(1);
    assert.equal(Object.hasOwn(response.data.data, '__proto__'), true);
    assert.deepEqual(JSON.parse(JSON.stringify(response.data.data)), JSON.parse('{"__proto__":{"polluted":true}}'));
    // A type hidden under __proto__ is not inherited: the message has no type.
    const bad = await RawClient.connect(server.url);
    bad.sendFrame('0{"__proto__":{"type":"request","id":2,"name":"x","data":null}}');
    const closed = await bad.waitClose();
    assert.equal(closed.code, 1002);
    assert.match(closed.reason, /no type/);
    client.request(3, 'after');
    assert.equal((await client.response(3)).data.name, 'after');
  });
});
