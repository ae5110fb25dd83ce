// Where the demo pages find the WebSocket: same host as the page, path from
// the demo's /demo-config.json (the server may move it with --ws-path).

/** The WebSocket address: same host as the page, path from the server's config (default /ws). */
export async function endpoint() {
  let wsPath = '/ws';
  try {
    const res = await fetch('/demo-config.json', { cache: 'no-store' });
    if (res.ok) wsPath = (await res.json()).wsPath ?? wsPath;
  } catch {
    // Served by something else: keep the default.
  }
  const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
  return `${scheme}://${location.host}${wsPath}`;
}
