/** Helpers for client tests: clients that close after each test, a port nobody listens on. */
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { connect, reconnect, type Client, type ConnectOptions, type ReconnectingClient, type ReconnectOptions } from '../../src/client/index.js';
import { onCleanup } from './cleanup.js';

/** connect(), closed by the root afterEach hook. */
export async function connectTo(url: string, options?: ConnectOptions): Promise<Client> {
  const client = await connect(url, options);
  onCleanup(async () => {
    client.close();
    await client.closed;
  });
  return client;
}

/** reconnect(), closed by the root afterEach hook. */
export function reconnectTo(addresses: string | string[], options?: ReconnectOptions): ReconnectingClient {
  const live = reconnect(addresses, options);
  onCleanup(async () => {
    live.close();
    await live.closed;
  });
  return live;
}

/** A port on 127.0.0.1 that nothing listens on (connections to it are refused). */
export async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** An onError that collects instead of printing. */
export function errorSink(): { errors: unknown[]; onError: (err: unknown) => void } {
  const errors: unknown[] = [];
  return { errors, onError: (err) => errors.push(err) };
}
