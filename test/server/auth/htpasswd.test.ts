import assert from 'node:assert/strict';
import { InvalidArgumentError } from '../../../src/errors.js';
import { HtpasswdError, loadHtpasswd, type HtpasswdFile } from '../../../src/server/auth/htpasswd.js';
import { makeHtpasswd, makeHtpasswdText, type HtpasswdEntry, type TempHtpasswd } from '../../support/htpasswd.js';

/** Loads a file made from `text`, then removes it. */
async function loadText(text: string): Promise<HtpasswdFile> {
  const tmp = await makeHtpasswdText(text);
  try {
    return await loadHtpasswd(tmp.path);
  } finally {
    await tmp.cleanup();
  }
}

async function loadEntries(entries: HtpasswdEntry[], options?: { eol?: '\n' | '\r\n' }): Promise<HtpasswdFile> {
  const tmp = await makeHtpasswd(entries, options);
  try {
    return await loadHtpasswd(tmp.path);
  } finally {
    await tmp.cleanup();
  }
}

describe('loadHtpasswd', () => {
  describe('formats', () => {
    const cases: HtpasswdEntry[] = [
      { user: 'b', password: 'bcrypt-pass', format: 'bcrypt' },
      { user: 'a', password: 'apr1-pass', format: 'apr1' },
      { user: 's', password: 'sha-pass', format: 'sha' },
    ];
    for (const entry of cases) {
      it(`verifies the right password and rejects a wrong one (${entry.format})`, async () => {
        const file = await loadEntries([entry]);
        assert.equal(await file.verify(entry.user, entry.password), true);
        assert.equal(await file.verify(entry.user, entry.password + 'x'), false);
        assert.equal(await file.verify(entry.user, ''), false);
        assert.equal(await file.verify(entry.user, entry.password.toUpperCase()), false);
      });

      it(`verifies a non-ASCII password as UTF-8 (${entry.format})`, async () => {
        const file = await loadEntries([{ ...entry, password: 'ünïcødé 密码 🔑' }]);
        assert.equal(await file.verify(entry.user, 'ünïcødé 密码 🔑'), true);
        assert.equal(await file.verify(entry.user, 'unicode 密码 🔑'), false);
      });
    }

    for (const prefix of ['$2a$', '$2b$', '$2y$'] as const) {
      it(`accepts bcrypt with the ${prefix} prefix`, async () => {
        const tmp = await makeHtpasswd([{ user: 'u', password: 'pw', format: 'bcrypt', prefix }]);
        try {
          const { readFile } = await import('node:fs/promises');
          assert.ok((await readFile(tmp.path, 'utf8')).startsWith(`u:${prefix}04$`));
          const file = await loadHtpasswd(tmp.path);
          assert.equal(await file.verify('u', 'pw'), true);
          assert.equal(await file.verify('u', 'pW'), false);
        } finally {
          await tmp.cleanup();
        }
      });
    }

    // Hashes made by other implementations (openssl passwd -apr1, libxcrypt's
    // bcrypt, openssl sha1 | base64), so a bug shared by our code and our test
    // helper cannot hide. 'pässwörd' is UTF-8.
    const vectors = [
      { hash: '$apr1$AbCd1234$zidblG7cC.V5/QknFLv6G/', password: 'demo' },
      { hash: '$apr1$xY9./zQ1$vtffOduo6FqTZhEseJc5p1', password: 'pässwörd' },
      { hash: '$2y$04$Qm9uam91ckxlc0FtaXMuLuGPG9350bCa0AV.Sy.aW1QvRXHPsZIq.', password: 'pässwörd' },
      { hash: '$2a$04$Qm9uam91ckxlc0FtaXMuLuGPG9350bCa0AV.Sy.aW1QvRXHPsZIq.', password: 'pässwörd' },
      { hash: '{SHA}9Rfd8dMqES/xrVXGbRsSyzjn6Pc=', password: 'pässwörd' },
      { hash: '{SHA}ieSV55Qc+eQOaYDRSha/AjzNTJE=', password: 'demo' },
    ];
    for (const { hash, password } of vectors) {
      it(`verifies a hash made elsewhere: ${hash.slice(0, 12)}...`, async () => {
        const file = await loadText(`x:${hash}\n`);
        assert.equal(await file.verify('x', password), true);
        if (password.normalize('NFD') !== password) assert.equal(await file.verify('x', password.normalize('NFD')), false);
        assert.equal(await file.verify('x', password + ' '), false);
        assert.equal(await file.verify('x', 'passwörd'), false);
      });
    }
  });

  describe('file syntax', () => {
    it('skips comments and blank lines and tolerates CRLF, a BOM and surrounding spaces', async () => {
      const tmp = await makeHtpasswd(
        [
          { user: 'alice', password: 'a', format: 'apr1' },
          { user: 'bob', password: 'b', format: 'sha' },
        ],
        { eol: '\r\n' },
      );
      try {
        const { readFile } = await import('node:fs/promises');
        const [alice, bob] = (await readFile(tmp.path, 'utf8')).split('\r\n');
        const file = await loadText(
          `\uFEFF# users\r\n\r\n   \r\n  ${alice}  \r\n\t# indented comment\r\n${bob}\r\n# trailing comment`,
        );
        assert.equal(file.size, 2);
        assert.equal(await file.verify('alice', 'a'), true);
        assert.equal(await file.verify('bob', 'b'), true);
        assert.equal(await file.verify('bob', 'b\r'), false);
      } finally {
        await tmp.cleanup();
      }
    });

    it('loads a file written with CRLF line ends', async () => {
      const file = await loadEntries(
        [
          { user: 'x', password: 'px', format: 'bcrypt' },
          { user: 'y', password: 'py', format: 'apr1' },
        ],
        { eol: '\r\n' },
      );
      assert.equal(await file.verify('x', 'px'), true);
      assert.equal(await file.verify('y', 'py'), true);
    });

    it('ignores fields after a second colon, as Apache does', async () => {
      const file = await loadText('viewer:{SHA}QLTyWx/ZVrV22IDbK0EYLgREvR0=:Viewer account\n');
      assert.equal(await file.verify('viewer', 'viewer'), true);
    });

    it('keeps user names case-sensitive', async () => {
      const file = await loadText('viewer:{SHA}QLTyWx/ZVrV22IDbK0EYLgREvR0=\n');
      assert.equal(await file.verify('Viewer', 'viewer'), false);
    });

    it('loads an empty file (nobody can log in)', async () => {
      const file = await loadText('# nobody yet\n');
      assert.equal(file.size, 0);
      assert.equal(await file.verify('anyone', 'anything'), false);
    });
  });

  describe('refusals', () => {
    const bad: { name: string; text: string; line: number; user: string | null; problem: RegExp; secret?: string }[] = [
      { name: 'plain text', text: 'bob:hunter2\n', line: 1, user: 'bob', problem: /unsupported hash format; use bcrypt, \$apr1\$ or \{SHA\}/, secret: 'hunter2' },
      { name: 'crypt(3) DES', text: '# c\n\nbob:abJnggxhB/yWI\n', line: 3, user: 'bob', problem: /unsupported hash format.*crypt\(3\) DES/, secret: 'abJnggxhB/yWI' },
      { name: 'SHA-256 crypt ($5$)', text: 'ok:{SHA}QLTyWx/ZVrV22IDbK0EYLgREvR0=\nbob:$5$saltsalt$K8ZI6V0o1xzLkrrKRq0d1wGrXz3GzYmfu4XIfyWsCm4\n', line: 2, user: 'bob', problem: /unsupported hash format.*\$5\$/ },
      { name: 'SHA-512 crypt ($6$)', text: 'bob:$6$saltsalt$abc\n', line: 1, user: 'bob', problem: /unsupported hash format.*\$6\$/ },
      { name: 'MD5 crypt ($1$)', text: 'bob:$1$saltsalt$abcdefghijklmnopqrstuv\n', line: 1, user: 'bob', problem: /unsupported hash format/ },
      { name: 'salted SHA ({SSHA})', text: 'bob:{SSHA}abcdefgh\n', line: 1, user: 'bob', problem: /unsupported hash format/ },
      { name: 'an empty hash', text: 'bob:\n', line: 1, user: 'bob', problem: /unsupported hash format.*empty/ },
      { name: 'a line without a colon', text: '\r\nalice:{SHA}QLTyWx/ZVrV22IDbK0EYLgREvR0=\r\njust some text\r\n', line: 3, user: null, problem: /expected user:hash/ },
      { name: 'a missing user name', text: ':{SHA}QLTyWx/ZVrV22IDbK0EYLgREvR0=\n', line: 1, user: null, problem: /missing user name/ },
      { name: 'a malformed $apr1$ hash', text: 'bob:$apr1$toolongsalt$zidblG7cC.V5/QknFLv6G/\n', line: 1, user: 'bob', problem: /malformed \$apr1\$ hash/ },
      { name: 'a truncated bcrypt hash', text: 'bob:$2y$10$LjLnO5uwDKR7HKsrONwBRu04ARxCE7T8s0p4\n', line: 1, user: 'bob', problem: /malformed bcrypt hash/ },
      { name: 'a bcrypt cost below 4', text: 'bob:$2y$03$LjLnO5uwDKR7HKsrONwBRu04ARxCE7T8s0p4q3VuKR3RTtcHEHZ5.\n', line: 1, user: 'bob', problem: /bcrypt cost 3/ },
      { name: 'an unknown bcrypt minor ($2x$)', text: 'bob:$2x$10$LjLnO5uwDKR7HKsrONwBRu04ARxCE7T8s0p4q3VuKR3RTtcHEHZ5.\n', line: 1, user: 'bob', problem: /unsupported hash format/ },
      { name: 'a malformed {SHA} hash', text: 'bob:{SHA}c2hvcnQ=\n', line: 1, user: 'bob', problem: /malformed \{SHA\} hash/ },
      { name: 'a duplicate user', text: 'bob:{SHA}QLTyWx/ZVrV22IDbK0EYLgREvR0=\n#\nbob:{SHA}ieSV55Qc+eQOaYDRSha/AjzNTJE=\n', line: 3, user: 'bob', problem: /duplicate user \(first on line 1\)/ },
    ];
    for (const c of bad) {
      it(`rejects ${c.name}, naming the file and line ${c.line}`, async () => {
        const tmp: TempHtpasswd = await makeHtpasswdText(c.text);
        try {
          await assert.rejects(loadHtpasswd(tmp.path), (err: unknown) => {
            assert.ok(err instanceof HtpasswdError);
            assert.equal(err.code, 'ERR_HTPASSWD');
            assert.equal(err.file, tmp.path);
            assert.equal(err.line, c.line);
            assert.equal(err.user, c.user);
            const where = c.user === null ? `line ${c.line}: ` : `line ${c.line} (user "${c.user}"): `;
            assert.ok(err.message.startsWith(`${tmp.path}: ${where}`), err.message);
            assert.match(err.message, c.problem);
            if (c.secret !== undefined) assert.ok(!err.message.includes(c.secret), 'the hash field must not be echoed');
            return true;
          });
        } finally {
          await tmp.cleanup();
        }
      });
    }

    it('rejects with the file system error for a missing file', async () => {
      const tmp = await makeHtpasswdText('');
      await tmp.cleanup();
      await assert.rejects(loadHtpasswd(tmp.path), { code: 'ENOENT' });
    });

    it('rejects a path that is not a non-empty string', async () => {
      await assert.rejects(loadHtpasswd(''), InvalidArgumentError);
      await assert.rejects(loadHtpasswd(42 as unknown as string), /file must be a non-empty string/);
    });
  });

  describe('#verify', () => {
    it('returns false for an unknown user after verifying against the dummy hash', async () => {
      const file = await loadEntries([{ user: 'alice', password: 'pw', format: 'bcrypt', cost: 5 }]);
      assert.deepEqual(file.stats, { verifications: 0, dummyVerifications: 0 });
      assert.equal(await file.verify('mallory', 'pw'), false);
      assert.deepEqual(file.stats, { verifications: 1, dummyVerifications: 1 });
      // A known user with a wrong password takes the normal path, not the dummy.
      assert.equal(await file.verify('alice', 'wrong'), false);
      assert.deepEqual(file.stats, { verifications: 2, dummyVerifications: 1 });
      assert.equal(await file.verify('alice', 'pw'), true);
      assert.deepEqual(file.stats, { verifications: 3, dummyVerifications: 1 });
    });

    it('does not take user names from the object prototype', async () => {
      const file = await loadText('alice:{SHA}QLTyWx/ZVrV22IDbK0EYLgREvR0=\n');
      for (const user of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
        assert.equal(await file.verify(user, 'viewer'), false);
      }
      assert.equal(file.stats.dummyVerifications, 4);
    });

    it('rejects non-string arguments with an InvalidArgumentError', async () => {
      const file = await loadText('');
      await assert.rejects(file.verify(1 as unknown as string, 'x'), { name: 'InvalidArgumentError', argument: 'user' });
      await assert.rejects(file.verify('x', null as unknown as string), { name: 'InvalidArgumentError', argument: 'password' });
    });
  });

  describe('#dummy', () => {
    const table: { name: string; entries: HtpasswdEntry[]; dummy: { format: string; cost: number | null } }[] = [
      {
        name: 'bcrypt at the cost of the bcrypt entries',
        entries: [
          { user: 'a', password: 'a', format: 'bcrypt', cost: 5 },
          { user: 'b', password: 'b', format: 'bcrypt', cost: 5 },
        ],
        dummy: { format: 'bcrypt', cost: 5 },
      },
      {
        name: 'the format most entries use',
        entries: [
          { user: 'a', password: 'a', format: 'bcrypt', cost: 4 },
          { user: 'b', password: 'b', format: 'apr1' },
          { user: 'c', password: 'c', format: 'apr1' },
        ],
        dummy: { format: 'apr1', cost: null },
      },
      {
        name: 'the slower format on a tie',
        entries: [
          { user: 'a', password: 'a', format: 'sha' },
          { user: 'b', password: 'b', format: 'bcrypt', cost: 4 },
          { user: 'c', password: 'c', format: 'bcrypt', cost: 5 },
        ],
        dummy: { format: 'bcrypt', cost: 5 },
      },
      { name: '{SHA} for a {SHA} file', entries: [{ user: 'a', password: 'a', format: 'sha' }], dummy: { format: 'sha', cost: null } },
      { name: 'apr1 for an empty file', entries: [], dummy: { format: 'apr1', cost: null } },
    ];
    for (const c of table) {
      it(`is ${c.name}`, async () => {
        const file = await loadEntries(c.entries);
        assert.deepEqual({ ...file.dummy }, c.dummy);
        assert.equal(await file.verify('nobody', 'a'), false);
        assert.equal(file.stats.dummyVerifications, 1);
      });
    }
  });
});
