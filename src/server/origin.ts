/**
 * The Origin check on the upgrade (docs/protocol.md, "Security of the upgrade").
 * Browsers attach stored Basic credentials and cookies to a cross-site
 * WebSocket handshake, so without this a page on any site could ride on a
 * logged-in operator's browser.
 */

export interface OriginPolicy {
  /** Exact origins allowed; null means "decide by `authenticated`". */
  allowedOrigins: readonly string[] | null;
  /** Whether authentication is on: then only our own origin is allowed by default. */
  authenticated: boolean;
  /** Whether we serve TLS (https/wss). */
  secure: boolean;
}

function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    return `${url.protocol}//${url.host}`.toLowerCase();
  } catch {
    return null;
  }
}

/**
 * Whether an upgrade with these `Origin` and `Host` headers may proceed. A
 * handshake without Origin is not a browser's (Node and Python clients send
 * none) and is allowed.
 */
export function isOriginAllowed(origin: string | undefined, host: string | undefined, policy: OriginPolicy): boolean {
  if (origin === undefined) return true;
  // Parsed only when a rule needs it: a URL parse per browser join is not free.
  if (policy.allowedOrigins === null && !policy.authenticated) return true;
  const normalized = normalizeOrigin(origin);
  if (policy.allowedOrigins !== null) {
    return normalized !== null && policy.allowedOrigins.some((allowed) => normalizeOrigin(allowed) === normalized);
  }
  if (normalized === null || host === undefined) return false;
  // Same origin: http pages open ws, https pages open wss, on the Host we answer as.
  const scheme = policy.secure ? 'https:' : 'http:';
  return normalized === normalizeOrigin(`${scheme}//${host}`);
}
