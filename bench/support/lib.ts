/**
 * The library under test, as users run it: the compiled `dist/` that
 * `npm run bench` builds first (scripts/ensure.mjs), not `src/` through
 * tsx. tsx compiles with esbuild's keepNames, which wraps every named
 * closure in a `__name()` call (an Object.defineProperty per closure
 * created, and a 256-byte property array on each): that would add CPU per
 * request and memory per connection that the published package does not
 * have. Every bench imports the library from here only, so the server and
 * the wrappers in capture.ts share one module instance.
 *
 * BENCH_DIST=/path/to/another/dist runs the benchmarks against another
 * build (a candidate fix compiled elsewhere), everything else unchanged.
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

const root = process.env.BENCH_DIST ? pathToFileURL(resolve(process.env.BENCH_DIST) + '/').href : new URL('../../dist/', import.meta.url).href;

const index = (await import(root + 'index.js')) as typeof import('../../dist/index.js');
const channel = (await import(root + 'state/state-channel.js')) as typeof import('../../dist/state/state-channel.js');
const patch = (await import(root + 'state/apply-patch.js')) as typeof import('../../dist/state/apply-patch.js');
const snapshot = (await import(root + 'state/apply-snapshot.js')) as typeof import('../../dist/state/apply-snapshot.js');
const transport = (await import(root + 'transport/transport.js')) as typeof import('../../dist/transport/transport.js');

export const { listen, Storage } = index;
export const { StateChannel } = channel;
export const { applyPatch } = patch;
export const { applyPatchSnapshot } = snapshot;
export const { messageEncoder } = transport;

export type Storage = import('../../dist/index.js').Storage;
export type StateChannel<F = unknown> = import('../../dist/state/state-channel.js').StateChannel<F>;
export type { Connection, JsonValue } from '../../dist/index.js';
export type { StateChannelStats, StateSubscriber } from '../../dist/state/state-channel.js';
export type { EncodedMessage } from '../../dist/transport/transport.js';
