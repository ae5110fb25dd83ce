// The typed client: connect<PlantApi>() types send()'s data and result,
// the notifications and the state. Run: npx tsx examples/typed/client.ts ws://127.0.0.1:8080/ws
import { connect } from 'koa-juggler/client';
import type { PlantApi } from './api.js';

type PlantState = PlantApi['state'];

const url = process.argv[2] ?? 'ws://127.0.0.1:8080/ws';
let alarmed: (text: string) => void;
const alarm = new Promise<string>((resolve) => (alarmed = resolve));
const client = await connect<PlantApi>(url, {
  onNotify: (name, data) => alarmed(`${name} ${data.pump}: ${data.text}`),
});
// Resolves with the first state (the current one or a later one) that passes `test`.
const until = (test: (state: PlantState) => boolean) =>
  new Promise<PlantState>((resolve) => {
    if (client.state !== null && test(client.state)) return resolve(client.state);
    const stop = client.onChange((state) => test(state) && (stop(), resolve(state)));
  });

// A name or data the map does not have is a compile error (never called here):
// @ts-expect-error 'setRPM' is not a request of PlantApi
void (() => client.send('setRPM', { pump: 'p1', rpm: 1 }));

const pump = await client.send('setRpm', { pump: 'p1', rpm: 3200 });
console.log('answer', pump.rpm, pump.on); // a number and a boolean, as the map says
console.log(await alarm);
console.log('state', JSON.stringify((await until((s) => s.pumps.p1?.rpm === 3200)).pumps));
console.log('stop', JSON.stringify(await client.send('stop', { pump: 'p1' })));
console.log('state', JSON.stringify((await until((s) => s.pumps.p1?.rpm === 0)).pumps));
client.close();
await client.closed;
