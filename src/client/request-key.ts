/**
 * Idempotency keys for requests (docs/protocol.md, "Idempotent retry"): random
 * enough that two requests of one session never share one by chance.
 * Works in Node and in every browser, secure context or not.
 */

interface WebCrypto {
  randomUUID?: () => string;
  getRandomValues?: <T extends ArrayBufferView>(array: T) => T;
}

/**
 * A new random key: `crypto.randomUUID()` where there is one (Node, and
 * browsers on https: or localhost), else 128 random bits from
 * `crypto.getRandomValues()` as hex (pages served over plain http: have
 * that but not randomUUID).
 */
export function newRequestKey(): string {
  const crypto = (globalThis as { crypto?: WebCrypto }).crypto;
  if (typeof crypto?.randomUUID === 'function') return crypto.randomUUID();
  const bytes = new Uint8Array(16);
  if (typeof crypto?.getRandomValues === 'function') crypto.getRandomValues(bytes);
  // No Web Crypto at all (very old runtimes): keys only need to be unique, not secret.
  else for (let i = 0; i < bytes.length; i++) bytes[i] = Math.floor(Math.random() * 256);
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
