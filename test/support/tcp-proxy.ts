/**
 * A TCP proxy on 127.0.0.1 in front of a server, for peers that vanish
 * without a close: `vanish('drop')` loses every packet from then on (both
 * sockets stay open, nothing is forwarded), `vanish('stall')` shuts the
 * window (nothing is read from the server any more, so its writes back up).
 * Closed after each test by the root hook.
 *
 * (Reconstructed: an earlier version of this file was overwritten by
 * mistake; this one keeps the API slow-peers.test.ts uses.)
 */
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup.js';

export interface Proxy {
  readonly port: number;
  /** From now on, every connection is dead without a close: `'drop'` loses packets, `'stall'` stops reading. */
  vanish(how: 'drop' | 'stall'): void;
  close(): Promise<void>;
}

/** Starts a proxy to `127.0.0.1:targetPort`. */
export async function startProxy(targetPort: number): Promise<Proxy> {
  const pairs = new Set<{ client: Socket; upstream: Socket }>();
  let vanished: 'drop' | 'stall' | null = null;
  const cut = (pair: { client: Socket; upstream: Socket }, how: 'drop' | 'stall'): void => {
    pair.client.unpipe(pair.upstream);
    pair.upstream.unpipe(pair.client);
    if (how === 'drop') {
      // Read and discard both ways: the packets are lost.
      pair.client.removeAllListeners('data');
      pair.upstream.removeAllListeners('data');
      pair.client.on('data', () => {});
      pair.upstream.on('data', () => {});
      pair.client.resume();
      pair.upstream.resume();
    } else {
      // Read nothing more: the TCP windows fill up and writes back up.
      pair.client.pause();
      pair.upstream.pause();
    }
  };
  const server = createServer((client) => {
    client.on('error', () => {});
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    upstream.on('error', () => {});
    const pair = { client, upstream };
    pairs.add(pair);
    const drop = (): void => {
      pairs.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
    if (vanished !== null) {
      cut(pair, vanished);
      return;
    }
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  let closing: Promise<void> | null = null;
  const proxy: Proxy = {
    port: (server.address() as AddressInfo).port,
    vanish(how) {
      vanished = how;
      for (const pair of pairs) cut(pair, how);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const pair of [...pairs]) {
          pair.client.destroy();
          pair.upstream.destroy();
        }
        server.close(() => resolve());
      });
      return closing;
    },
  };
  onCleanup(() => proxy.close());
  return proxy;
}
