/**
 * A TCP proxy on 127.0.0.1 in front of a server, for tests of what the
 * network does to a connection. It counts the bytes each way per
 * connection, and can:
 * - `cut()` every connection at once (a blip: both sockets destroyed, no close frame);
 * - `block(true)` new connections for a while (an outage: they are destroyed at once);
 * - `vanish(how)` make every connection dead without a close from now on:
 *   `'drop'` loses every packet (both sockets stay open, nothing is
 *   forwarded), `'stall'` stops reading (the TCP windows fill and writes back up);
 *   `vanish(null)` lets new connections through again (half-open ones stay dead, as in life).
 * Closed after each test by the root hook.
 */
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { onCleanup } from './cleanup.js';

/** One proxied connection. */
export interface ProxiedConnection {
  /** Bytes from the server to the client, so far. */
  toClient: number;
  /** Bytes from the client to the server, so far. */
  toServer: number;
  readonly client: Socket;
  readonly server: Socket;
}

export interface Proxy {
  readonly port: number;
  /** `ws://127.0.0.1:<port><path>`. */
  url(path?: string): string;
  /** Every connection proxied, oldest first (cut ones included). */
  readonly connections: readonly ProxiedConnection[];
  /** Destroys every open connection, both sides, without a close frame. */
  cut(): void;
  /** While true, new connections are destroyed at once (the address looks down). */
  block(blocked: boolean): void;
  /**
   * From now on, every connection is dead without a close: `'drop'` loses
   * packets, `'stall'` stops reading. `null`: new connections work again.
   */
  vanish(how: 'drop' | 'stall' | null): void;
  close(): Promise<void>;
}

function silence(conn: ProxiedConnection, how: 'drop' | 'stall'): void {
  conn.client.unpipe(conn.server);
  conn.server.unpipe(conn.client);
  if (how === 'drop') {
    // Read and discard both ways: the packets are lost.
    for (const socket of [conn.client, conn.server]) {
      socket.removeAllListeners('data');
      socket.on('data', () => {});
      socket.resume();
    }
  } else {
    conn.client.pause();
    conn.server.pause();
  }
}

/** Starts a proxy to `127.0.0.1:targetPort`. */
export async function startProxy(targetPort: number): Promise<Proxy> {
  const connections: ProxiedConnection[] = [];
  const open = new Set<ProxiedConnection>();
  let blocked = false;
  let vanished: 'drop' | 'stall' | null = null;
  const server = createServer((client) => {
    client.on('error', () => {});
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = tcpConnect(targetPort, '127.0.0.1');
    upstream.on('error', () => {});
    const conn: ProxiedConnection = { toClient: 0, toServer: 0, client, server: upstream };
    connections.push(conn);
    open.add(conn);
    const drop = (): void => {
      open.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
    if (vanished !== null) {
      silence(conn, vanished);
      return;
    }
    client.on('data', (chunk: Buffer) => {
      conn.toServer += chunk.length;
    });
    upstream.on('data', (chunk: Buffer) => {
      conn.toClient += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  const proxy: Proxy = {
    port,
    url: (path = '/ws') => `ws://127.0.0.1:${port}${path}`,
    connections,
    cut() {
      for (const conn of [...open]) {
        open.delete(conn);
        conn.client.destroy();
        conn.server.destroy();
      }
    },
    block(value) {
      blocked = value;
    },
    vanish(how) {
      vanished = how;
      if (how !== null) for (const conn of open) silence(conn, how);
    },
    close() {
      closing ??= new Promise<void>((resolve) => {
        proxy.cut();
        server.close(() => resolve());
      });
      return closing;
    },
  };
  onCleanup(() => proxy.close());
  return proxy;
}
