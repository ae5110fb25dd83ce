/**
 * Request handlers that misbehave: throw things that are not errors (some
 * that even break `instanceof` or `String()`), return values JSON cannot
 * carry, or never settle. Every request is answered exactly once with a
 * clear failed response, or the connection closes cleanly; nothing crashes,
 * and a handler that hangs holds up nobody but the requests it must.
 */
import assert from 'node:assert/strict';
import { JugglerError } from '../../src/index.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { delay, waitFor, within } from '../support/wait.js';

function revokedProxy(): object {
  const { proxy, revoke } = Proxy.revocable({}, {});
  revoke();
  return proxy;
}

function errorWithThrowingMessage(): Error {
  const err = new Error('x');
  Object.defineProperty(err, 'message', {
    get() {
      throw new Error('no message for you');
    },
  });
  return err;
}

// [what, make the value]; thrown, rejected with, or returned.
const THROWN: [string, () => unknown][] = [
  ['null', () => null],
  ['undefined', () => undefined],
  ['a number', () => 42],
  ['an empty string', () => ''],
  ['a Symbol', () => Symbol('sym')],
  ['a BigInt', () => 10n],
  ['a function', () => () => 1],
  ['an array', () => [1, 2]],
  ['a null-prototype object', () => Object.create(null)],
  ['an object whose toString throws', () => ({ toString: () => { throw new Error('toString'); } })],
  ['a revoked Proxy', revokedProxy],
  ['an Error whose message getter throws', errorWithThrowingMessage],
  ['a JugglerError with a BigInt as data', () => new JugglerError(1n as never)],
  ['a JugglerError with a cycle as data', () => { const c: Record<string, unknown> = {}; c.c = c; return new JugglerError(c as never); }],
  ['a promise', () => Promise.resolve(1)],
];

const cycle = (): unknown => {
  const c: Record<string, unknown> = {};
  c.self = c;
  return c;
};

// [what, value, expected response (success, data matcher)]
const RETURNED: [string, () => unknown, boolean, (data: unknown) => boolean][] = [
  ['undefined', () => undefined, true, (d) => d === null],
  ['NaN (JSON says null)', () => NaN, true, (d) => d === null],
  ['a Date (its toJSON)', () => new Date(0), true, (d) => d === '1970-01-01T00:00:00.000Z'],
  ['a BigInt', () => 10n, false, (d) => /not JSON/.test(String(d))],
  ['a cycle', cycle, false, (d) => /not JSON/.test(String(d))],
  ['a function', () => () => 1, false, (d) => /not JSON/.test(String(d))],
  ['a Symbol', () => Symbol('s'), false, (d) => /not JSON/.test(String(d))],
  ['an object whose toJSON returns undefined', () => ({ toJSON: () => undefined }), false, (d) => /not JSON/.test(String(d))],
  ['an object whose toJSON throws', () => ({ toJSON: () => { throw new Error('toJSON broke'); } }), false, (d) => /toJSON broke/.test(String(d))],
  ['an object with a getter that throws', () => ({ get x() { throw new Error('getter broke'); } }), false, (d) => /getter broke/.test(String(d))],
  ['a revoked Proxy', revokedProxy, false, (d) => typeof d === 'string'],
  ['an object whose then getter throws', () => ({ get then() { throw new Error('then broke'); } }), false, (d) => /then broke/.test(String(d))],
  ['a thenable whose then throws', () => ({ then() { throw new Error('then threw'); } }), false, (d) => /then threw/.test(String(d))],
  ['a thenable that settles twice', () => ({ then(ok: (v: unknown) => void, fail: (e: unknown) => void) { ok('first'); ok('second'); fail(new Error('third')); } }), true, (d) => d === 'first'],
  ['a promise of a function', () => Promise.resolve(() => 1), false, (d) => /not JSON/.test(String(d))],
  ['a promise of a BigInt', () => Promise.resolve(5n), false, (d) => /not JSON/.test(String(d))],
];

describe('handlers that misbehave', function () {
  this.timeout(20_000);

  for (const [mode, wrap] of [
    ['throws', (make: () => unknown) => () => { throw make(); }],
    ['rejects with', (make: () => unknown) => () => Promise.reject(make())],
    ['async-throws', (make: () => unknown) => async () => { await delay(1); throw make(); }],
  ] as const) {
    it(`answers once with a failed response when a handler ${mode} something odd, and keeps going`, async () => {
      const server = await startServer({
        onRequest: (_conn, name, data) => (name === 'ok' ? data : wrap(THROWN[data as number]![1])()) as never,
      });
      const client = await RawClient.connect(server.url);
      THROWN.forEach((_, i) => client.request(i, 'bad', i));
      client.request(999, 'ok', 'still here');
      assert.equal((await client.response(999)).data, 'still here');
      for (const [i, [what]] of THROWN.entries()) {
        const response = await client.response(i, 1000).catch(() => assert.fail(`no response when the handler ${mode} ${what}`));
        assert.equal(response.success, false, what);
        assert.ok('data' in response, `${what}: a response always carries data`);
      }
      assert.equal(client.messages.filter((m) => m.type === 'response').length, THROWN.length + 1, 'each answered once');
      assert.ok(server.errors.every((e) => e.kind === 'handler'), server.errors.map((e) => e.kind).join());
    });
  }

  it('says what was thrown when it can: String(v), else "request failed"', async () => {
    const server = await startServer({ onRequest: (_c, _n, data) => { throw THROWN[data as number]![1](); } });
    const client = await RawClient.connect(server.url);
    const expected: Record<string, unknown> = {
      null: 'null', undefined: 'undefined', 'a number': '42', 'an empty string': '', 'a Symbol': 'Symbol(sym)', 'a BigInt': '10',
      'an array': '1,2', 'a null-prototype object': 'request failed', 'an object whose toString throws': 'request failed',
    };
    THROWN.forEach((_, i) => client.request(i, 'x', i));
    for (const [i, [what]] of THROWN.entries()) {
      const { data } = await client.response(i);
      if (what in expected) assert.equal(data, expected[what], what);
    }
  });

  for (const parallelRequests of [false, true]) {
    it(`answers what a handler returns, JSON or not, exactly once each (parallelRequests: ${parallelRequests})`, async () => {
      const server = await startServer({ parallelRequests, onRequest: (_c, _n, data) => RETURNED[data as number]![1]() as never });
      const client = await RawClient.connect(server.url);
      RETURNED.forEach((_, i) => client.request(i, 'r', i));
      for (const [i, [what, , success, matches]] of RETURNED.entries()) {
        const response = await client.response(i, 1000).catch(() => assert.fail(`no response for ${what}`));
        assert.ok('data' in response, `${what}: a response always carries data`);
        assert.equal(response.success, success, `${what}: ${JSON.stringify(response.data)}`);
        assert.ok(matches(response.data), `${what}: ${JSON.stringify(response.data)}`);
      }
      await delay(20);
      assert.equal(client.messages.filter((m) => m.type === 'response').length, RETURNED.length, 'each answered once');
    });
  }

  describe('a handler that never settles', () => {
    it('with parallelRequests, holds up none of the other requests', async () => {
      const server = await startServer({
        parallelRequests: true,
        maxRequestsInFlight: 8,
        onRequest: (_c, name, data) => (name === 'hang' ? new Promise(() => {}) : data),
      });
      const client = await RawClient.connect(server.url);
      for (let i = 0; i < 7; i++) client.request(i, 'hang');
      for (let i = 100; i < 150; i++) client.request(i, 'echo', i);
      for (let i = 100; i < 150; i++) assert.equal((await client.response(i)).data, i);
      client.sendFrame('2alive');
      await waitFor(() => client.frames.includes('3alive'), 'the pong');
      assert.equal(client.messages.filter((m) => m.type === 'response' && m.id < 7).length, 0);
    });

    it('without parallelRequests, holds up only the later requests of its own connection', async () => {
      const server = await startServer({ onRequest: (_c, name, data) => (name === 'hang' ? new Promise(() => {}) : data) });
      const stuck = await RawClient.connect(server.url);
      const other = await RawClient.connect(server.url);
      stuck.request(1, 'hang');
      stuck.request(2, 'echo', 'queued');
      for (let i = 0; i < 20; i++) other.request(i, 'echo', i);
      for (let i = 0; i < 20; i++) assert.equal((await other.response(i)).data, i);
      // The keepalive still works on the stuck connection: pings are answered in the receive path.
      stuck.sendFrame('2ping');
      await waitFor(() => stuck.frames.includes('3ping'), 'the pong on the stuck connection');
      await delay(50);
      assert.equal(stuck.messages.filter((m) => m.type === 'response').length, 0, 'request 2 waits behind request 1');
      // Closing it frees it; the hung handler keeps nothing open.
      const conns = [...server.connections];
      stuck.close();
      await stuck.waitClose();
      await within(Promise.race(conns.map((c) => c.closed)), 2000, 'conn.closed');
      await waitFor(() => [...server.connections].length === 1, 'the stuck connection to be gone');
      other.request(99, 'echo', 'after');
      assert.equal((await other.response(99)).data, 'after');
    });

    it('in onConnection, holds up only that connection', async () => {
      let first = true;
      const server = await startServer({
        onConnection: () => {
          if (!first) return;
          first = false;
          return new Promise<void>(() => {});
        },
        onRequest: (_c, _n, data) => data,
      });
      const stuck = await RawClient.connect(server.url);
      await waitFor(() => !first, 'the first onConnection');
      const other = await RawClient.connect(server.url);
      stuck.request(1, 'echo', 1);
      other.request(1, 'echo', 'fine');
      assert.equal((await other.response(1)).data, 'fine');
      assert.equal(stuck.messages.length, 0);
      stuck.close();
      await stuck.waitClose();
      await waitFor(() => [...server.connections].length === 1, 'the stuck connection to be gone');
    });
  });

  it('survives an onError that throws, for handler and protocol errors alike', async () => {
    const server = await startServer({
      onError: () => {
        throw new Error('onError broke');
      },
      onRequest: () => {
        throw new Error('handler broke');
      },
    });
    const client = await RawClient.connect(server.url);
    client.request(1, 'x');
    assert.equal((await client.response(1)).data, 'handler broke');
    const bad = await RawClient.connect(server.url);
    bad.sendFrame('x');
    assert.equal((await bad.waitClose()).code, 1002);
    client.request(2, 'x');
    assert.equal((await client.response(2)).data, 'handler broke');
  });
});
