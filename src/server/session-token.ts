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

export function issueToken(secret: Buffer | string, sessionId: string, now = Date.now()): string {
  const payload = `${sessionId}.${(now + TOKEN_LIFETIME).toString(36)}`;
  return `${payload}.${sign(secret, payload).toString('base64url')}`;
}

/**
 * The session id a token names, or null for anything forged, altered,
 * expired or malformed. Never throws: a bad token just starts a new session.
 */
export function verifyToken(secret: Buffer | string, token: string, now = Date.now()): string | null {
  if (token.length > 200) return null;
  const parts = token.split('.');
  if (parts.length !== 3) return null;
  const [id, expiry, mac] = parts as [string, string, string];
  if (!ID_PATTERN.test(id) || !/^[0-9a-z]{1,12}$/.test(expiry)) return null;
  const given = Buffer.from(mac, 'base64url');
  const expected = sign(secret, `${id}.${expiry}`);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) return null;
  if (parseInt(expiry, 36) < now) return null;
  return id;
}
