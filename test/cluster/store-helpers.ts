/** Opening RedisLogStores for a test (closed after it) and reading Redis behind their back. */
import { createClient } from 'redis';
import { RedisLogStore, type RedisLogStoreOptions } from '../../src/cluster/redis-log-store.js';
import { onCleanup } from '../support/cleanup.js';

let clusters = 0;

/** A cluster name of its own for each test. */
export function freshName(): string {
  clusters += 1;
  return `t${process.pid}-${clusters}`;
}

/** Opens a store with short bounds; closed after the test. */
export async function openStore(url: string, options: Partial<RedisLogStoreOptions> = {}): Promise<RedisLogStore> {
  const store = await RedisLogStore.open({ url, name: options.name ?? freshName(), watchdog: 1000, block: 200, ...options });
  onCleanup(() => store.close());
  return store;
}

/** A plain node-redis client for looking at Redis directly; closed after the test. */
export async function rawClient(url: string) {
  const client = createClient({ url, RESP: 2, socket: { reconnectStrategy: 100 } });
  client.on('error', () => {});
  await client.connect();
  onCleanup(() => (client.isOpen ? client.destroy() : undefined));
  return client;
}

/** Appends `count` entries with bodies `{ i }` and resolves with their results. */
export function appendMany(store: RedisLogStore, epoch: string, count: number, from = 0) {
  const out = [];
  for (let i = from; i < from + count; i++) out.push(store.append(epoch, store.newWriteId(), JSON.stringify({ i })));
  return Promise.all(out);
}
