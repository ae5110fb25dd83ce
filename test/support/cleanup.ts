/**
 * After each test, close whatever the test opened (servers, clients,
 * temp files), even when it failed. Helpers register what they open here;
 * this file imports nothing, so loading the root hook costs nothing.
 */
type Closer = () => unknown;

const closers = new Set<Closer>();

/** Runs `close` after the current test; returns a function that unregisters it. */
export function onCleanup(close: Closer): () => void {
  closers.add(close);
  return () => closers.delete(close);
}

export async function runCleanups(): Promise<void> {
  const pending = [...closers].reverse();
  closers.clear();
  const results = await Promise.allSettled(pending.map((close) => close()));
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}
