/** Starts servers on 127.0.0.1, port 0, and closes them after each test. */
import { listen, type ListenOptions, type Server } from '../../src/index.js';
import { onCleanup } from './cleanup.js';

/** Starts a server that the root afterEach hook closes. Errors go to `errors` instead of stderr. */
export async function startServer(options: ListenOptions = {}): Promise<Server & { errors: { err: Error; kind: string }[]; url: string }> {
  const errors: { err: Error; kind: string }[] = [];
  const server = await listen({
    host: '127.0.0.1',
    port: 0,
    onError: (err, { kind }) => errors.push({ err, kind }),
    ...options,
  });
  onCleanup(() => server.close());
  const scheme = options.tls ? 'wss' : 'ws';
  return Object.assign(server, { errors, url: `${scheme}://127.0.0.1:${server.port}${options.wsPath ?? '/ws'}` });
}

