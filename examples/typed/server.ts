// A typed server: listen<PlantApi>() types the handler's name, data and
// result, and the connection's state. Run: npx tsx examples/typed/server.ts
// (PORT=0 picks a free port), then the client with the URL it prints.
import { JugglerError, listen, Storage } from 'koa-juggler';
import type { PlantApi } from './api.js';

const state = new Storage<PlantApi['state']>({ pumps: { p1: { rpm: 0, on: false } } });

const server = await listen<PlantApi>({
  port: Number(process.env.PORT ?? 8080),
  state,
  async onRequest(conn, name, data) {
    if (!state.get(['pumps', data.pump])) throw new JugglerError({ error: `no pump ${data.pump}` });
    if (name === 'stop') {
      state.set(['pumps', data.pump], { rpm: 0, on: false });
      return null;
    }
    // Here TypeScript knows the request is setRpm: data.rpm is a number.
    state.set(['pumps', data.pump], { rpm: data.rpm, on: data.rpm > 0 });
    if (data.rpm > 3000) await conn.notify('alarm', { pump: data.pump, text: `${data.rpm} rpm is too fast` });
    return state.data.pumps[data.pump]!;
  },
});
console.log(`listening on http://127.0.0.1:${server.port}/`);
process.once('SIGINT', () => server.close());
process.once('SIGTERM', () => server.close());
