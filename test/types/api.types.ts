/**
 * One API map types both ends: listen<Api>() (handlers, connections,
 * state, broadcast) and connect<Api>() / reconnect<Api>() (state, send,
 * notify, stream, onNotify). Compiled by types.test.ts, never run.
 */
import { listen, attach, Storage, type JsonValue } from '../../src/index.js';
import { connect, reconnect } from '../../src/client/index.js';
import type { Server as HttpServer } from 'node:http';
import type { Equal, Expect } from './assert-type.js';

interface Pump {
  rpm: number;
  on: boolean;
}

interface PlantApi {
  state: { pumps: Record<string, Pump>; alarms: string[] };
  requests: {
    add: { data: [number, number]; result: number };
    setRpm: { data: { pump: string; rpm: number }; result: Pump };
    reset: { data: null; result: null };
  };
  notifies: { alarm: { pump: string; text: string } };
  clientNotifies: { ack: { alarm: number } };
  streams: { trend: { data: { pump: string }; item: number }; upload: { data: null; item: { stored: number }; clientItem: string } };
}

declare const http: HttpServer;

export async function server(): Promise<void> {
  const state = new Storage<PlantApi['state']>({ pumps: {}, alarms: [] });
  const srv = await listen<PlantApi>({
    state,
    onConnection(conn) {
      const pumps: Record<string, Pump> = conn.state.data.pumps;
      void pumps;
    },
    onRequest(conn, name, data) {
      // Testing the name narrows the data.
      if (name === 'add') return data[0] + data[1];
      if (name === 'setRpm') {
        conn.state.set(['pumps', data.pump, 'rpm'], data.rpm);
        return conn.state.get(['pumps', data.pump]) ?? { rpm: data.rpm, on: false };
      }
      const none: null = data;
      return none;
    },
    onNotify(conn, name, data) {
      const alarm: number = data.alarm;
      void [conn, name, alarm];
    },
    async onStream(conn, name, data, call) {
      if (name === 'trend') {
        const pump: string = data.pump;
        await call.send(conn.state.data.pumps[pump]?.rpm ?? 0);
        // @ts-expect-error a trend carries numbers
        await call.send('fast');
        return;
      }
      let stored = 0;
      for await (const line of call) stored += line.length;
      await call.send({ stored });
    },
  });
  for (const conn of srv.connections) await conn.notify('alarm', { pump: 'p1', text: 'hot' });
  await srv.broadcast('alarm', { pump: 'p1', text: 'hot' });
  // @ts-expect-error a wrong notification name
  await srv.broadcast('alarms', { pump: 'p1', text: 'hot' });
  // @ts-expect-error a wrong notification data
  await srv.broadcast('alarm', { pump: 1 });

  await listen<PlantApi>({
    // @ts-expect-error the state's type must match the map's
    state: new Storage<{ other: number }>({ other: 1 }),
  });
  await listen<PlantApi>({
    // @ts-expect-error a wrong result for every request
    onRequest: () => 'not a result',
  });
  await listen<PlantApi>({
    onRequest(conn, name, data) {
      // @ts-expect-error a wrong request name
      if (name === 'substract') return 0;
      // @ts-expect-error a wrong data use: add's data is a pair of numbers
      if (name === 'add') return data.pump;
      return null;
    },
  });
  const attached = await attach<PlantApi>(http, { onRequest: () => null });
  void attached;
}

export async function client(): Promise<void> {
  const client = await connect<PlantApi>('ws://127.0.0.1:8080/ws', {
    onNotify(name, data) {
      const text: string = data.text;
      void [name, text];
    },
  });
  const sum = await client.send('add', [1, 2]);
  const pump = await client.send('setRpm', { pump: 'p1', rpm: 1450 });
  const on: boolean = pump.on;
  void on;
  const state = client.state;
  client.onChange((value) => {
    const alarms: string[] = value.alarms;
    void alarms;
  });
  await client.notify('ack', { alarm: 3 });
  for await (const rpm of client.stream('trend', { pump: 'p1' })) {
    const n: number = rpm;
    void n;
  }
  const upload = client.stream('upload', null);
  await upload.send('a line');
  upload.on('data', (receipt) => void receipt.stored);

  // @ts-expect-error a wrong request name
  await client.send('substract', [1, 2]);
  // @ts-expect-error a wrong data type
  await client.send('add', ['1', '2']);
  // @ts-expect-error a wrong result use
  const text: string = await client.send('add', [1, 2]);
  // @ts-expect-error a wrong client notification
  await client.notify('ack', { alarm: 'three' });
  // @ts-expect-error an upload sends strings
  await upload.send(42);

  const live = reconnect<PlantApi>('ws://127.0.0.1:8080/ws');
  const reset = await live.send('reset', null);
  const livePumps = live.state?.pumps;
  // @ts-expect-error a wrong request name
  await live.send('nope');

  type Checks = [
    Expect<Equal<typeof sum, number>>,
    Expect<Equal<typeof state, PlantApi['state'] | null>>,
    Expect<Equal<typeof reset, null>>,
    Expect<Equal<typeof livePumps, Record<string, Pump> | undefined>>,
  ];
  void [text, {} as Checks];
}

// Untyped: every name, JsonValue data and results, as before.
export async function untyped(): Promise<void> {
  const srv = await listen({
    state: new Storage({ count: 0 }),
    onRequest(conn, name, data) {
      const n: string = name;
      const d: JsonValue = data;
      void [n, d];
      if (name === 'nothing') return;
      return conn.state.get('count');
    },
    onStream: async (conn, name, data, call) => {
      for await (const item of call) await call.send(item);
    },
  });
  await srv.broadcast('anything', { at: 1 });
  const client = await connect('ws://127.0.0.1:8080/ws', { onNotify: (name: string, data: JsonValue) => void [name, data] });
  const answer = await client.send('whatever', { a: [1] });
  const call = client.stream('s');
  type Checks = [
    Expect<Equal<typeof answer, JsonValue>>,
    Expect<Equal<typeof client.state, JsonValue>>,
    Expect<Equal<typeof call, import('../../src/client/index.js').ClientCall>>,
    Expect<Equal<ReturnType<typeof reconnect>['state'], JsonValue>>,
  ];
  void ({} as Checks);
}
