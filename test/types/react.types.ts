/**
 * koa-juggler/react with a typed client: the selector gets the map's state.
 * Compiled by types.test.ts, never run.
 */
import { connect, reconnect } from '../../src/client/index.js';
import { useJuggler, useJugglerStatus } from '../../src/react/index.js';
import type { JsonValue } from '../../src/index.js';
import type { Equal, Expect } from './assert-type.js';

interface BoardApi {
  state: { points: Record<string, { value: number; quality: 'good' | 'bad' }> };
}

export function Board(): void {
  const live = reconnect<BoardApi>('/ws', { snapshots: true });
  const value = useJuggler(live, (state) => state?.points.a?.value);
  const whole = useJuggler(live);
  const { status } = useJugglerStatus(live);
  // @ts-expect-error a wrong selection: no such field
  useJuggler(live, (state) => state?.pointz);
  const loose = useJuggler(reconnect('/ws', { snapshots: true }), (state) => state);
  type Checks = [
    Expect<Equal<typeof value, number | undefined>>,
    Expect<Equal<typeof whole, BoardApi['state'] | null>>,
    Expect<Equal<typeof loose, JsonValue>>,
  ];
  void [status, {} as Checks, connect];
}
