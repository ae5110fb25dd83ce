/**
 * A TCP proxy on 127.0.0.1 in front of a server, for tests of what the
 * network does to a connection: it counts the bytes each way per
 * connection, can cut every connection at once (a blip: both sockets
 * destroyed, no close frame), and can refuse new ones for a while (an
 * outage). Closed after each test by the root hook.
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

export interface BlipProxy {
  readonly port: number;
  /** `ws://127.0.0.1:<port><path>`. */
  url(path?: string): string;
  /** Every connection proxied, oldest first (cut ones included). */
  readonly connections: readonly ProxiedConnection[];
  /** Destroys every open connection, both sides, without a close frame. */
  cut(): void;
  /** While true, new connections are destroyed at once (the address looks down). */
  block(blocked: boolean): void;
  close(): Promise<void>;
}

/** Starts a proxy to `127.0.0.1:targetPort`. */
export async function startBlipProxy(targetPort: number): Promise<BlipProxy> {
  const connections: ProxiedConnection[] = [];
  const open = new Set<ProxiedConnection>();
  let blocked = false;
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
    client.on('data', (chunk: Buffer) => {
      conn.toServer += chunk.length;
    });
    upstream.on('data', (chunk: Buffer) => {
      conn.toClient += chunk.length;
    });
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = (): void => {
      open.delete(conn);
      client.destroy();
      upstream.destroy();
    };
    client.on('close', drop);
    upstream.on('close', drop);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  let closing: Promise<void> | null = null;
  const proxy: BlipProxy = {
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
