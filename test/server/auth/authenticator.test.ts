import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { InvalidArgumentError } from '../../../src/errors.js';
import {
  DEFAULT_AUTH_CACHE_SIZE,
  DEFAULT_AUTH_CACHE_TTL,
  htpasswdAuthenticator,
} from '../../../src/server/auth/authenticator.js';
import { loadHtpasswd, type HtpasswdFile } from '../../../src/server/auth/htpasswd.js';
import { makeHtpasswd } from '../../support/htpasswd.js';

function basic(user: string, password: string): string {
  return 'Basic ' + Buffer.from(`${user}:${password}`, 'utf8').toString('base64');
}

function req(authorization?: string | string[]) {
  return { headers: authorization === undefined ? {} : { authorization } };
}

/** The loaded file behind a wrapper that counts verify() calls. */
interface CountingFile {
  calls: number;
  verify(user: string, password: string): Promise<boolean>;
}

describe('htpasswdAuthenticator', () => {
  let file: HtpasswdFile;

  before(async () => {
    const tmp = await makeHtpasswd([
      { user: 'alice', password: 'wonderland', format: 'bcrypt' },
      { user: 'bob', password: 'builder', format: 'apr1' },
      { user: 'carol', password: 'singer', format: 'sha' },
      { user: 'dörte', password: 'pässwörd', format: 'bcrypt' },
    ]);
    try {
      file = await loadHtpasswd(tmp.path);
    } finally {
      await tmp.cleanup();
    }
  });

  function counting(): CountingFile {
    return {
      calls: 0,
      verify(user, password) {
        this.calls++;
        return file.verify(user, password);
      },
    };
  }

  it('has documented defaults', () => {
    assert.equal(DEFAULT_AUTH_CACHE_SIZE, 1000);
    assert.equal(DEFAULT_AUTH_CACHE_TTL, 5 * 60 * 1000);
  });

  it('returns the user for a right password in each format', async () => {
    const authenticate = htpasswdAuthenticator(file);
    assert.equal(await authenticate(req(basic('alice', 'wonderland'))), 'alice');
    assert.equal(await authenticate(req(basic('bob', 'builder'))), 'bob');
    assert.equal(await authenticate(req(basic('carol', 'singer'))), 'carol');
  });

  it('decodes non-ASCII credentials as UTF-8', async () => {
    const authenticate = htpasswdAuthenticator(file);
    assert.equal(await authenticate(req(basic('dörte', 'pässwörd'))), 'dörte');
  });

  it('returns null for a wrong password and for an unknown user', async () => {
    const authenticate = htpasswdAuthenticator(file);
    assert.equal(await authenticate(req(basic('alice', 'Wonderland'))), null);
    assert.equal(await authenticate(req(basic('mallory', 'wonderland'))), null);
  });

  describe('cache', () => {
    it('answers a repeated header from the cache with the same user', async () => {
      const spy = counting();
      const authenticate = htpasswdAuthenticator(spy);
      assert.equal(await authenticate(req(basic('alice', 'wonderland'))), 'alice');
      assert.equal(spy.calls, 1);
      assert.equal(await authenticate(req(basic('alice', 'wonderland'))), 'alice');
      // The scheme is case-insensitive; the cache keys the credentials, not the spelling.
      assert.equal(await authenticate(req(basic('alice', 'wonderland').replace('Basic', 'basic'))), 'alice');
      assert.equal(spy.calls, 1);
    });

    it('shares one verification among concurrent requests with the same credentials', async () => {
      const spy = counting();
      const authenticate = htpasswdAuthenticator(spy);
      const users = await Promise.all(Array.from({ length: 5 }, () => authenticate(req(basic('alice', 'wonderland')))));
      assert.deepEqual(users, Array(5).fill('alice'));
      assert.equal(spy.calls, 1);
    });

    it('keeps different credentials apart', async () => {
      const spy = counting();
      const authenticate = htpasswdAuthenticator(spy);
      assert.equal(await authenticate(req(basic('alice', 'wonderland'))), 'alice');
      assert.equal(await authenticate(req(basic('alice', 'wonderland2'))), null);
      assert.equal(await authenticate(req(basic('bob', 'builder'))), 'bob');
      assert.equal(spy.calls, 3);
    });

    it('never caches a wrong password as a success, and a right one still works after it', async () => {
      const spy = counting();
      const authenticate = htpasswdAuthenticator(spy);
      assert.equal(await authenticate(req(basic('bob', 'wrong'))), null);
      assert.equal(await authenticate(req(basic('bob', 'wrong'))), null);
      assert.equal(spy.calls, 2);
      assert.equal(await authenticate(req(basic('bob', 'builder'))), 'bob');
      assert.equal(await authenticate(req(basic('bob', 'wrong'))), null);
      assert.equal(spy.calls, 4);
    });

    it('drops the oldest entry beyond cacheSize', async () => {
      const spy = counting();
      const authenticate = htpasswdAuthenticator(spy, { cacheSize: 2 });
      await authenticate(req(basic('alice', 'wonderland')));
      await authenticate(req(basic('bob', 'builder')));
      await authenticate(req(basic('carol', 'singer'))); // evicts alice
      assert.equal(spy.calls, 3);
      assert.equal(await authenticate(req(basic('carol', 'singer'))), 'carol');
      assert.equal(await authenticate(req(basic('bob', 'builder'))), 'bob');
      assert.equal(spy.calls, 3);
      assert.equal(await authenticate(req(basic('alice', 'wonderland'))), 'alice'); // verified again, evicts bob
      assert.equal(spy.calls, 4);
      assert.equal(await authenticate(req(basic('carol', 'singer'))), 'carol');
      assert.equal(spy.calls, 4);
      assert.equal(await authenticate(req(basic('bob', 'builder'))), 'bob');
      assert.equal(spy.calls, 5);
    });

    it('forgets an entry cacheTtl after its verification', async () => {
      const spy = counting();
      const authenticate = htpasswdAuthenticator(spy, { cacheTtl: 250 });
      await authenticate(req(basic('carol', 'singer')));
      assert.equal(await authenticate(req(basic('carol', 'singer'))), 'carol');
      assert.equal(spy.calls, 1);
      await sleep(300);
      assert.equal(await authenticate(req(basic('carol', 'singer'))), 'carol');
      assert.equal(spy.calls, 2);
    });

    for (const options of [{ cacheSize: 0 }, { cacheTtl: 0 }]) {
      it(`is off with ${JSON.stringify(options)}`, async () => {
        const spy = counting();
        const authenticate = htpasswdAuthenticator(spy, options);
        assert.equal(await authenticate(req(basic('carol', 'singer'))), 'carol');
        assert.equal(await authenticate(req(basic('carol', 'singer'))), 'carol');
        assert.equal(spy.calls, 2);
      });
    }
  });

  describe('bad input', () => {
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    const headers: [string, string | string[] | undefined][] = [
      ['no header', undefined],
      ['an empty header', ''],
      ['a Bearer token', 'Bearer abc.def.ghi'],
      ['a Digest header', 'Digest username="alice", realm="koa-juggler"'],
      ['Basic without credentials', 'Basic'],
      ['Basic with spaces only', 'Basic    '],
      ['bad base64 characters', 'Basic !!!!$$$'],
      ['base64 without a colon inside', `Basic ${b64('alicewonderland')}`],
      ['base64 with a comma', `Basic ${b64('alice:wonderland')},x`],
      ['two headers in an array', [basic('alice', 'wonderland'), basic('alice', 'wonderland')]],
      ['credentials after a second scheme', `Bearer x ${basic('alice', 'wonderland')}`],
    ];
    for (const [name, header] of headers) {
      it(`returns null, without verifying, for ${name}`, async () => {
        const spy = counting();
        const authenticate = htpasswdAuthenticator(spy);
        assert.equal(await authenticate(req(header)), null);
        assert.equal(spy.calls, 0);
      });
    }

    it('returns null for an empty user and password', async () => {
      const authenticate = htpasswdAuthenticator(file);
      assert.equal(await authenticate(req(`Basic ${b64(':')}`)), null);
    });

    it('returns null for a request without headers', async () => {
      const authenticate = htpasswdAuthenticator(file);
      assert.equal(await authenticate({} as { headers: Record<string, string> }), null);
    });

    it('returns null when verification itself fails', async () => {
      const authenticate = htpasswdAuthenticator({ verify: () => Promise.reject(new Error('disk on fire')) });
      assert.equal(await authenticate(req(basic('alice', 'wonderland'))), null);
    });

    it('validates its options, naming the one that is wrong', () => {
      for (const cacheSize of [-1, 1.5, NaN, '10' as unknown as number]) {
        assert.throws(() => htpasswdAuthenticator(file, { cacheSize }), (err: unknown) => {
          assert.ok(err instanceof InvalidArgumentError);
          assert.ok(err instanceof TypeError);
          assert.equal(err.argument, 'options.cacheSize');
          return true;
        });
      }
      for (const cacheTtl of [-1, NaN, Infinity, '5' as unknown as number]) {
        assert.throws(() => htpasswdAuthenticator(file, { cacheTtl }), { name: 'InvalidArgumentError', argument: 'options.cacheTtl' });
      }
      assert.throws(() => htpasswdAuthenticator(null as unknown as HtpasswdFile), { argument: 'file' });
    });
  });
});
