import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { loadHtpasswd } from '../../../src/server/auth/htpasswd.js';

const EXAMPLE = fileURLToPath(new URL('../../../htpasswd.example', import.meta.url));

// What the comment on top of htpasswd.example (and the README) promise.
const USERS = [
  { user: 'demo', password: 'demo', prefix: '$2y$' },
  { user: 'operator', password: 'operator', prefix: '$apr1$' },
  { user: 'viewer', password: 'viewer', prefix: '{SHA}' },
];

describe('htpasswd.example', () => {
  it('loads, and each documented user verifies with its password', async () => {
    const file = await loadHtpasswd(EXAMPLE);
    assert.equal(file.size, USERS.length);
    for (const { user, password } of USERS) {
      assert.equal(await file.verify(user, password), true, user);
      assert.equal(await file.verify(user, password + '!'), false, user);
    }
  });

  it('uses one format per user as documented, and says so in its comment', async () => {
    const text = await readFile(EXAMPLE, 'utf8');
    const lines = text.split('\n');
    assert.match(lines[0]!, /^# .*trying/);
    for (const { user, password, prefix } of USERS) {
      assert.ok(lines.some((l) => l.startsWith(`${user}:${prefix}`)), `${user} is stored as ${prefix}`);
      assert.ok(text.includes(`${user} / ${password}`), `the comment names ${user} / ${password}`);
    }
  });
});
