/**
 * Makes real htpasswd files in a fresh temporary directory (tests never
 * write into the repository), hashed with the same libraries `htpasswd`
 * users would get compatible output from.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import apacheMd5 from 'apache-md5';
import bcrypt from 'bcryptjs';

type AprMd5 = (password: string, salt?: string) => string;
// Same typing mismatch as in src/server/auth/htpasswd.ts: CJS module, `export default` typings.
const aprMd5: AprMd5 =
  typeof apacheMd5 === 'function' ? (apacheMd5 as AprMd5) : (apacheMd5 as { default: AprMd5 }).default;

/** One user of a generated file. */
export interface HtpasswdEntry {
  user: string;
  password: string;
  format: 'bcrypt' | 'apr1' | 'sha';
  /** bcrypt cost. Default 4, the minimum, so tests stay fast. */
  cost?: number;
  /** bcrypt prefix to write. Default `$2y$`, what `htpasswd -B` writes. */
  prefix?: '$2a$' | '$2b$' | '$2y$';
}

/** A file on disk and the way to remove it (and its directory). */
export interface TempHtpasswd {
  path: string;
  cleanup(): Promise<void>;
}

/**
 * Hashes a password the way `htpasswd` would (`-B`, `-m`, `-s`).
 *
 * @example
 * await hashPassword({ user: 'a', password: 'x', format: 'apr1' }) // '$apr1$...'
 */
export async function hashPassword(entry: HtpasswdEntry): Promise<string> {
  switch (entry.format) {
    case 'bcrypt': {
      const hash = await bcrypt.hash(entry.password, entry.cost ?? 4);
      // bcryptjs writes $2b$; the other prefixes name the same algorithm.
      return (entry.prefix ?? '$2y$') + hash.slice(4);
    }
    case 'apr1':
      // htpasswd hashes the UTF-8 bytes; apache-md5 takes one byte per char.
      return aprMd5(Buffer.from(entry.password, 'utf8').toString('latin1'));
    case 'sha':
      return '{SHA}' + createHash('sha1').update(entry.password, 'utf8').digest('base64');
  }
}

/**
 * Writes an htpasswd file with these users into a fresh directory under
 * `os.tmpdir()`.
 *
 * @example
 * const tmp = await makeHtpasswd([{ user: 'demo', password: 'demo', format: 'bcrypt' }])
 * try { ... tmp.path ... } finally { await tmp.cleanup() }
 */
export async function makeHtpasswd(
  entries: HtpasswdEntry[],
  options: { eol?: '\n' | '\r\n'; comment?: string } = {},
): Promise<TempHtpasswd> {
  const lines = await Promise.all(entries.map(async (e) => `${e.user}:${await hashPassword(e)}`));
  if (options.comment !== undefined) lines.unshift(`# ${options.comment}`);
  const eol = options.eol ?? '\n';
  return makeHtpasswdText(lines.join(eol) + eol);
}

/**
 * Writes `text` verbatim as an htpasswd file into a fresh directory under
 * `os.tmpdir()`: for malformed files and exact byte layouts.
 */
export async function makeHtpasswdText(text: string): Promise<TempHtpasswd> {
  const dir = await mkdtemp(join(tmpdir(), 'koa-juggler-htpasswd-'));
  const path = join(dir, 'htpasswd');
  await writeFile(path, text, 'utf8');
  return {
    path,
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
