/**
 * Session tokens: `<session id>.<expiry>.<HMAC>`, signed with the server's
 * secret so a client can neither forge nor alter one. The token only names
 * a session and limits replay; whether the session lives is the server's
 * own record (sessions.ts).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** How long a token can be presented after its welcome (renewed in every welcome). */
export const TOKEN_LIFETIME = 24 * 60 * 60 * 1000;

/** A process-wide default secret: tokens survive nothing longer than the process anyway. */
export const PROCESS_SECRET = randomBytes(32);

const ID_PATTERN = /^[A-Za-z0-9_-]{22}$/;

export function newSessionId(): string {
  return randomBytes(16).toString('base64url');
}

function sign(secret: Buffer | string, payload: string): Buffer {
  return createHmac('sha256', secret).update(payload).digest();
}

/**
 * A session secret, or a list of them for rotation: the first signs, every
 * one verifies (so tokens signed before a rotation stay valid).
 */
export type SessionSecret = Buffer | string | readonly (Buffer | string)[];

function signing(secret: SessionSecret): Buffer | string {
  return typeof secret === 'string' || Buffer.isBuffer(secret) ? secret : (secret as readonly (Buffer | string)[])[0]!;
}

export function issueToken(secret: SessionSecret, sessionId: string, now = Date.now()): string {
  secret = signing(secret);
  const payload = `${sessionId}.${(now + TOKEN_LIFETIME).toString(36)}`;
  return `${payload}.${sign(secret, payload).toString('base64url')}`;
}

/**
 * The session id a token names, or null for anything forged, altered,
 * expired or malformed. Never throws: a bad token just starts a new session.
 */
export function verifyToken(secret: SessionSecret, token: string, now = Date.now()): string | null {
  if (token.length > 200) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [id, expiry, mac] = parts as [string, string, string];
  if (!ID_PATTERN.test(id) || !/^[0-9a-z]{1,12}$/.test(expiry)) return null;
  const given = Buffer.from(mac, 'base64url');
  const secrets = typeof secret === 'string' || Buffer.isBuffer(secret) ? [secret] : (secret as readonly (Buffer | string)[]);
  const matches = (s: Buffer | string): boolean => {
    const expected = sign(s, `${id}.${expiry}`);
    return given.length === expected.length && timingSafeEqual(given, expected);
  };
  if (!secrets.some(matches)) return null;
  if (parseInt(expiry, 36) < now) return null;
  return id;
}
