import assert from 'node:assert/strict';
import { connect, InvalidArgumentError, reconnect } from '../../src/client/index.js';
import {
  DEFAULT_FATAL_CLOSE_CODES,
  resolveConnectOptions,
  resolveReconnectOptions,
  resolveRequestOptions,
  resolveUrl,
} from '../../src/client/options.js';

const NODE = { name: 'node' } as const;
const BROWSER = { name: 'browser', baseUrl: 'https://example.test/app/page.html' } as const;

function rejectsNaming(argument: string, message?: RegExp) {
  return (err: unknown) => {
    assert.ok(err instanceof InvalidArgumentError, `expected InvalidArgumentError, got ${err}`);
    assert.ok(err instanceof TypeError);
    assert.equal(err.argument, argument);
    if (message) assert.match(err.message, message);
    return true;
  };
}

describe('client options', () => {
  describe('resolveConnectOptions()', () => {
    it('applies the documented defaults', () => {
      const o = resolveConnectOptions(undefined, NODE);
      assert.equal(o.maxSegmentSize, 65536);
      assert.equal(o.maxMessageSize, 64 * 1024 * 1024);
      assert.equal(o.pingDelay, 30000);
      assert.equal(o.pingTimeout, 30000);
      assert.equal(o.connectTimeout, 30000);
      assert.equal(o.auth, null);
      assert.equal(o.tls, null);
      assert.equal(o.onNotify, null);
      assert.equal(typeof o.onError, 'function');
    });

    it('takes undefined as the default and null pingDelay as "never ping"', () => {
      assert.equal(resolveConnectOptions({ pingDelay: undefined }, NODE).pingDelay, 30000);
      assert.equal(resolveConnectOptions({ pingDelay: null }, NODE).pingDelay, null);
    });

    const bad: [string, unknown, string, RegExp][] = [
      ['pingDelay', -1, 'options.pingDelay', /options.pingDelay must be a positive number or null, got -1/],
      ['pingDelay', '5', 'options.pingDelay', /positive number/],
      ['pingTimeout', 0, 'options.pingTimeout', /options.pingTimeout must be a positive number, got 0/],
      ['pingTimeout', Infinity, 'options.pingTimeout', /positive number/],
      ['connectTimeout', NaN, 'options.connectTimeout', /positive number/],
      ['maxSegmentSize', 1, 'options.maxSegmentSize', /at least 2/],
      ['maxSegmentSize', 10.5, 'options.maxSegmentSize', /integer/],
      ['maxMessageSize', 0, 'options.maxMessageSize', /positive integer/],
      ['onNotify', 'x', 'options.onNotify', /a function/],
      ['onError', 1, 'options.onError', /a function/],
      ['auth', 'user:pass', 'options.auth', /an object/],
      ['auth', { username: 'a:b', password: 'x' }, 'options.auth.username', /without ":"/],
      ['auth', { username: 'a' }, 'options.auth.password', /a string/],
      ['auth', { username: 'a', password: 'b', token: 'c' }, 'options.auth.token', /not a known option/],
      ['tls', { ca: 5 }, 'options.tls.ca', /Uint8Array/],
      ['tls', { rejectUnauthorized: false }, 'options.tls.rejectUnauthorized', /not a known option/],
      ['signal', {}, 'options.signal', /AbortSignal/],
      ['pingdelay', 5, 'options.pingdelay', /not a known option \(known: .*pingDelay/],
      ['extensions', 'yes', 'options.extensions', /a boolean/],
      ['extension', false, 'options.extension', /it is now options\.extensions/],
      ['session', 5, 'options.session', /non-empty string or null/],
      ['version', '', 'options.version', /non-empty string or null/],
    ];
    for (const [key, value, argument, message] of bad) {
      it(`rejects ${key}: ${JSON.stringify(value) ?? String(value)}`, () => {
        assert.throws(() => resolveConnectOptions({ [key]: value }, NODE), rejectsNaming(argument, message));
      });
    }

    it('offers the extension by default and resumes from nothing', () => {
      const o = resolveConnectOptions({}, NODE);
      assert.equal(o.extensions, true);
      assert.deepEqual(o.resume, { session: null, version: null, state: null });
      assert.equal(resolveConnectOptions({ extensions: false }, NODE).extensions, false);
    });

    it('resumes by version only together with the state at that version', () => {
      const state = { a: 1 };
      assert.deepEqual(resolveConnectOptions({ session: 's', version: 'v', state }, NODE).resume, { session: 's', version: 'v', state });
      assert.deepEqual(resolveConnectOptions({ session: 's', version: 'v', state: null }, NODE).resume, { session: 's', version: 'v', state: null });
      // Without the value a diff from `version` would apply to, the whole value is asked for.
      assert.deepEqual(resolveConnectOptions({ session: 's', version: 'v' }, NODE).resume, { session: 's', version: null, state: null });
      assert.deepEqual(resolveConnectOptions({ session: null, version: null }, NODE).resume, { session: null, version: null, state: null });
    });

    it('rejects options that are not an object', () => {
      assert.throws(() => resolveConnectOptions(null, NODE), rejectsNaming('options'));
      assert.throws(() => resolveConnectOptions([], NODE), rejectsNaming('options'));
    });

    it('rejects auth and tls in a browser, saying why', () => {
      assert.throws(() => resolveConnectOptions({ auth: { username: 'a', password: 'b' } }, BROWSER), rejectsNaming('options.auth', /browser/));
      assert.throws(() => resolveConnectOptions({ tls: {} }, BROWSER), rejectsNaming('options.tls', /browser/));
    });

    it('connect() rejects with the same error', async () => {
      await assert.rejects(connect('ws://127.0.0.1:1/ws', { pingDelay: -5 }), rejectsNaming('options.pingDelay'));
    });
  });

  describe('resolveUrl()', () => {
    it('keeps ws: and wss: addresses', () => {
      assert.equal(resolveUrl('ws://127.0.0.1:8080/ws', NODE), 'ws://127.0.0.1:8080/ws');
      assert.equal(resolveUrl('wss://example.test/ws?x=1', NODE), 'wss://example.test/ws?x=1');
    });

    it('resolves relative addresses against the page in a browser, http(s) to ws(s)', () => {
      assert.equal(resolveUrl('/ws', BROWSER), 'wss://example.test/ws');
      assert.equal(resolveUrl('ws', BROWSER), 'wss://example.test/app/ws');
      assert.equal(resolveUrl('http://other.test/ws', BROWSER), 'ws://other.test/ws');
    });

    it('rejects relative addresses in Node and other schemes', () => {
      assert.throws(() => resolveUrl('/ws', NODE), rejectsNaming('url'));
      assert.throws(() => resolveUrl('ftp://x/ws', NODE), rejectsNaming('url', /ws: or wss:/));
      assert.throws(() => resolveUrl('https://x/ws', NODE, 'addresses[1]'), rejectsNaming('addresses[1]'));
    });
  });

  describe('resolveReconnectOptions()', () => {
    it('applies the documented defaults', () => {
      const o = resolveReconnectOptions({}, NODE);
      assert.deepEqual(o.backoff, { initial: 500, max: 30000, jitter: 0.5 });
      assert.equal(o.budget, null);
      assert.deepEqual([...o.fatalCloseCodes], [1002, 1003, 1007, 1008, 1009]);
      assert.deepEqual(DEFAULT_FATAL_CLOSE_CODES, [1002, 1003, 1007, 1008, 1009]);
      assert.equal(o.connect.pingDelay, 30000);
      assert.equal(o.connect.extensions, true);
      assert.equal(o.autoKey, true);
      assert.equal(o.onAttempt, null);
    });

    it('accepts an auth function, in Node only', () => {
      const auth = () => ({ username: 'u', password: 'p' });
      assert.equal(resolveReconnectOptions({ auth }, NODE).auth, auth);
      assert.throws(() => resolveReconnectOptions({ auth }, BROWSER), rejectsNaming('options.auth', /browser/));
    });

    const bad: [string, unknown, string, RegExp][] = [
      ['backoff', 5, 'options.backoff', /an object/],
      ['backoff', { initial: 0 }, 'options.backoff.initial', /positive/],
      ['backoff', { max: -1 }, 'options.backoff.max', /positive/],
      ['backoff', { initial: 100, max: 50 }, 'options.backoff.max', /at least options.backoff.initial/],
      ['backoff', { jitter: 1.5 }, 'options.backoff.jitter', /from 0 to 1/],
      ['backoff', { factor: 2 }, 'options.backoff.factor', /not a known option/],
      ['budget', 0, 'options.budget', /positive/],
      ['fatalCloseCodes', [1008, 'x'], 'options.fatalCloseCodes', /close codes/],
      ['fatalCloseCodes', 1008, 'options.fatalCloseCodes', /array/],
      ['onConnected', true, 'options.onConnected', /function/],
      ['onDisconnected', {}, 'options.onDisconnected', /function/],
      ['onGiveUp', 1, 'options.onGiveUp', /function/],
      ['onAttempt', 'x', 'options.onAttempt', /function/],
      ['autoKey', 1, 'options.autoKey', /a boolean/],
      ['signal', AbortSignal.abort(), 'options.signal', /not a known option/],
      ['session', 's', 'options.session', /not a known option/],
      ['version', 'v', 'options.version', /not a known option/],
    ];
    for (const [key, value, argument, message] of bad) {
      it(`rejects ${key}: ${JSON.stringify(value)}`, () => {
        assert.throws(() => resolveReconnectOptions({ [key]: value }, NODE), rejectsNaming(argument, message));
      });
    }

    it('reconnect() throws at once for bad addresses and options', () => {
      assert.throws(() => reconnect([]), rejectsNaming('addresses'));
      assert.throws(() => reconnect(['ws://127.0.0.1:1/ws', 'nope']), rejectsNaming('addresses[1]'));
      assert.throws(() => reconnect('ws://127.0.0.1:1/ws', { budget: -1 }), rejectsNaming('options.budget'));
    });
  });

  describe('resolveRequestOptions()', () => {
    it('takes a positive timeout or none', () => {
      assert.deepEqual(resolveRequestOptions(undefined), { timeout: null });
      assert.deepEqual(resolveRequestOptions({ timeout: 5 }), { timeout: 5 });
      assert.throws(() => resolveRequestOptions({ timeout: 0 }), rejectsNaming('options.timeout'));
      assert.throws(() => resolveRequestOptions({ retries: 1 }), rejectsNaming('options.retries'));
    });

    it('takes a key of 1 to 256 characters, null for none, or leaves it unset', () => {
      assert.deepEqual(resolveRequestOptions({ key: 'k' }), { timeout: null, key: 'k' });
      assert.deepEqual(resolveRequestOptions({ key: null, timeout: 5 }), { timeout: 5, key: null });
      assert.equal('key' in resolveRequestOptions({ timeout: 5 }), false);
      assert.deepEqual(resolveRequestOptions({ key: 'k'.repeat(256) }).key, 'k'.repeat(256));
      for (const key of ['', 'k'.repeat(257), 5, {}]) {
        assert.throws(() => resolveRequestOptions({ key }), rejectsNaming('options.key', /1 to 256 characters/));
      }
    });
  });
});
