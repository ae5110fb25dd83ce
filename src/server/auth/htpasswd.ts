/**
 * Apache htpasswd files: load once, keep only the hashes, verify in
 * constant time. Supported formats are the ones `htpasswd` writes today:
 * bcrypt (`$2a$`, `$2b$`, `$2y$`), `$apr1$` (Apache MD5) and `{SHA}`.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import apacheMd5 from 'apache-md5';
import bcrypt from 'bcryptjs';
import { InvalidArgumentError } from '../../errors.js';

type AprMd5 = (password: string, salt?: string) => string;
// apache-md5 is CommonJS (`module.exports = fn`) but its typings declare
// `export default`, so under NodeNext TypeScript types the default import as
// a namespace. At run time Node hands us `module.exports` itself; accept both.
const aprMd5: AprMd5 =
  typeof apacheMd5 === 'function' ? (apacheMd5 as AprMd5) : (apacheMd5 as { default: AprMd5 }).default;

/** A hash format this module verifies. */
export type HashFormat = 'bcrypt' | 'apr1' | 'sha';

/** Counters of hash computations, for tests and metrics. */
export interface HtpasswdStats {
  /** Every hash computation `verify()` ran, the dummy ones included. */
  verifications: number;
  /** Those run against the dummy hash because the user was unknown. */
  dummyVerifications: number;
}

/** A loaded htpasswd file. Immutable: to pick up edits, load the file again. */
export interface HtpasswdFile {
  /** The path the file was loaded from. */
  readonly file: string;
  /** The number of users in the file. */
  readonly size: number;
  /**
   * The hash an unknown user is verified against, so that a wrong user name
   * costs the same as a wrong password: the format (and bcrypt cost) that
   * most entries of the file use; `apr1` for an empty file.
   */
  readonly dummy: { readonly format: HashFormat; readonly cost: number | null };
  /** A snapshot of the counters. */
  readonly stats: HtpasswdStats;
  /**
   * Checks a user's password. Resolves `false` for a wrong password and for
   * an unknown user, which still costs one verification against
   * {@link HtpasswdFile.dummy}. Never rejects for bad credentials.
   *
   * @throws {InvalidArgumentError} when `user` or `password` is not a string.
   * @example
   * if (await file.verify('demo', 'demo')) console.log('welcome')
   */
  verify(user: string, password: string): Promise<boolean>;
}

/** The file could not be used: names the file, the line and, when known, the user. */
export class HtpasswdError extends Error {
  override readonly name = 'HtpasswdError';
  readonly code = 'ERR_HTPASSWD';

  constructor(
    /** The file's path. */
    readonly file: string,
    /** 1-based line number. */
    readonly line: number,
    /** The user on that line, or null when the line has none. */
    readonly user: string | null,
    problem: string,
  ) {
    super(`${file}: line ${line}${user === null ? '' : ` (user ${JSON.stringify(user)})`}: ${problem}`);
  }
}

type Entry =
  | { readonly format: 'bcrypt'; readonly hash: string; readonly cost: number }
  | { readonly format: 'apr1'; readonly hash: string }
  | { readonly format: 'sha'; readonly digest: Buffer };

const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const APR1 = /^\$apr1\$[./0-9A-Za-z]{0,8}\$[./0-9A-Za-z]{22}$/;
const SHA = /^\{SHA\}([A-Za-z0-9+/]{27}=)$/;
const UNSUPPORTED = 'unsupported hash format; use bcrypt, $apr1$ or {SHA}';

/**
 * Reads and parses an Apache htpasswd file.
 *
 * Lines are `user:hash`; blank lines and lines starting with `#` are
 * skipped, CRLF and a leading BOM are tolerated, and (as in Apache) fields
 * after a second `:` are ignored. Only hashes are kept, never a password.
 * Loading a file whose users are mostly bcrypt costs one bcrypt hash at
 * their cost, to make the dummy hash for unknown users.
 *
 * @throws {HtpasswdError} (as a rejection) for a line without `user:hash`,
 *   an unsupported or malformed hash, or a user listed twice; the message
 *   names the file, the line and the user, never the hash.
 * @example
 * const file = await loadHtpasswd('htpasswd')
 * await file.verify('demo', 'demo') // true
 */
export async function loadHtpasswd(file: string): Promise<HtpasswdFile> {
  if (typeof file !== 'string' || file === '') throw new InvalidArgumentError('file', 'a non-empty string', file);
  const text = await readFile(file, 'utf8');
  const entries = parse(text, file);
  return new Htpasswd(file, entries, await makeDummy(entries.values()));
}

function parse(text: string, file: string): Map<string, Entry> {
  const entries = new Map<string, Entry>();
  const firstLine = new Map<string, number>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    if (colon < 0) throw new HtpasswdError(file, lineNo, null, 'expected user:hash');
    const user = line.slice(0, colon);
    if (user === '') throw new HtpasswdError(file, lineNo, null, 'missing user name before ":"');
    const seen = firstLine.get(user);
    if (seen !== undefined) throw new HtpasswdError(file, lineNo, user, `duplicate user (first on line ${seen})`);
    // Apache reads the hash up to the next ':' and ignores the rest.
    const hash = line.slice(colon + 1).split(':', 1)[0]!;
    entries.set(user, parseHash(hash, (problem) => new HtpasswdError(file, lineNo, user, problem)));
    firstLine.set(user, lineNo);
  });
  return entries;
}

function parseHash(hash: string, fail: (problem: string) => HtpasswdError): Entry {
  if (hash.startsWith('$2')) {
    const match = BCRYPT.exec(hash);
    if (!match) throw fail(/^\$2[aby]\$/.test(hash) ? 'malformed bcrypt hash' : UNSUPPORTED);
    const cost = Number(match[1]);
    if (cost < 4 || cost > 31) throw fail(`bcrypt cost ${cost} is outside 4–31`);
    // bcryptjs accepts all three prefixes; $2y$ (PHP, htpasswd -B) is the same algorithm as $2b$.
    return { format: 'bcrypt', hash, cost };
  }
  if (hash.startsWith('$apr1$')) {
    if (!APR1.test(hash)) throw fail('malformed $apr1$ hash');
    return { format: 'apr1', hash };
  }
  if (hash.startsWith('{SHA}')) {
    const match = SHA.exec(hash);
    if (!match) throw fail('malformed {SHA} hash');
    return { format: 'sha', digest: Buffer.from(match[1]!, 'base64') };
  }
  // Never quote the hash in the message: a "hash" that fails here may be a plaintext password.
  throw fail(`${UNSUPPORTED}${describeUnsupported(hash)}`);
}

function describeUnsupported(hash: string): string {
  if (hash === '') return ' (the hash is empty)';
  if (/^\$[156]\$/.test(hash)) return ` (looks like crypt(3) ${hash.slice(0, 3)})`;
  if (/^[./0-9A-Za-z]{13}$/.test(hash)) return ' (looks like crypt(3) DES or plain text)';
  return '';
}

const COST_ORDER: Record<HashFormat, number> = { sha: 0, apr1: 1, bcrypt: 2 };

/**
 * Picks the format (and bcrypt cost) most entries use, so the common case
 * of a uniform file makes an unknown user exactly as slow as a known one.
 * A mixed file cannot be uniform for every user; ties go to the slower.
 */
function dominant(entries: Iterable<Entry>): { format: HashFormat; cost: number | null } {
  const counts = new Map<string, { format: HashFormat; cost: number | null; n: number }>();
  for (const entry of entries) {
    const cost = entry.format === 'bcrypt' ? entry.cost : null;
    const key = `${entry.format}:${cost}`;
    const slot = counts.get(key) ?? { format: entry.format, cost, n: 0 };
    slot.n++;
    counts.set(key, slot);
  }
  let best: { format: HashFormat; cost: number | null; n: number } = { format: 'apr1', cost: null, n: 0 };
  for (const slot of counts.values()) {
    const slower =
      COST_ORDER[slot.format] > COST_ORDER[best.format] ||
      (slot.format === best.format && (slot.cost ?? 0) > (best.cost ?? 0));
    if (slot.n > best.n || (slot.n === best.n && slower)) best = slot;
  }
  return { format: best.format, cost: best.cost };
}

async function makeDummy(entries: Iterable<Entry>): Promise<Entry> {
  const { format, cost } = dominant(entries);
  // A random secret nobody knows: the dummy can never verify.
  const secret = randomBytes(18).toString('base64');
  switch (format) {
    case 'bcrypt':
      return { format, cost: cost!, hash: await bcrypt.hash(secret, cost!) };
    case 'apr1': {
      const salt = randomBytes(6).toString('base64').replace(/\+/g, '.').replace(/=/g, '');
      return { format, hash: aprMd5(secret, `$apr1$${salt}$`) };
    }
    case 'sha':
      return { format, digest: randomBytes(20) };
  }
}

/**
 * The password as a string of its UTF-8 bytes, one char per byte: apache-md5
 * hashes with Node's 'ascii' encoding (the low byte of each char), while
 * Apache's htpasswd hashes the raw UTF-8 bytes. Without this, non-ASCII
 * passwords made by `htpasswd -m` would never verify.
 */
function utf8Bytes(password: string): string {
  return Buffer.from(password, 'utf8').toString('latin1');
}

async function verifyEntry(entry: Entry, password: string): Promise<boolean> {
  switch (entry.format) {
    case 'bcrypt':
      // bcryptjs compares the computed hash in constant time itself.
      return bcrypt.compare(password, entry.hash);
    case 'apr1': {
      const computed = Buffer.from(aprMd5(utf8Bytes(password), entry.hash), 'latin1');
      const stored = Buffer.from(entry.hash, 'latin1');
      // Same salt, validated shape: the lengths always match; the check only keeps timingSafeEqual from throwing.
      return computed.length === stored.length && timingSafeEqual(computed, stored);
    }
    case 'sha':
      return timingSafeEqual(createHash('sha1').update(password, 'utf8').digest(), entry.digest);
  }
}

class Htpasswd implements HtpasswdFile {
  readonly file: string;
  readonly dummy: { readonly format: HashFormat; readonly cost: number | null };
  #entries: ReadonlyMap<string, Entry>;
  #dummy: Entry;
  #verifications = 0;
  #dummyVerifications = 0;

  constructor(file: string, entries: ReadonlyMap<string, Entry>, dummy: Entry) {
    this.file = file;
    this.#entries = entries;
    this.#dummy = dummy;
    this.dummy = Object.freeze({ format: dummy.format, cost: dummy.format === 'bcrypt' ? dummy.cost : null });
  }

  get size(): number {
    return this.#entries.size;
  }

  get stats(): HtpasswdStats {
    return { verifications: this.#verifications, dummyVerifications: this.#dummyVerifications };
  }

  async verify(user: string, password: string): Promise<boolean> {
    if (typeof user !== 'string') throw new InvalidArgumentError('user', 'a string', user);
    if (typeof password !== 'string') throw new InvalidArgumentError('password', 'a string', password);
    const entry = this.#entries.get(user);
    this.#verifications++;
    if (entry === undefined) {
      this.#dummyVerifications++;
      // Run the full verification and discard its result, so the time spent
      // does not tell an attacker whether the user exists.
      await verifyEntry(this.#dummy, password);
      return false;
    }
    return verifyEntry(entry, password);
  }
}
