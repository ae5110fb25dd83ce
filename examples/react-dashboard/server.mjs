// A live plant for the React dashboard: 200 points whose values drift,
// each with an alarm flag that the page can acknowledge (a request).
// Build the page first (node examples/react-dashboard/build.mjs OUT), then
// run: STATIC_DIR=OUT node examples/react-dashboard/server.mjs
import { listen, Storage, JugglerError } from 'koa-juggler';

const points = {};
for (let i = 0; i < 200; i++) points[`p${i}`] = { value: 50, alarm: false };
const state = new Storage({ points });
const ALARM = Number(process.env.ALARM ?? 90);

const timer = setInterval(() => {
  const id = `p${Math.floor(Math.random() * 200)}`;
  const before = state.get(['points', id, 'value']);
  const value = Math.round(Math.max(0, Math.min(100, before + (Math.random() - 0.5) * 20)));
  state.set(['points', id, 'value'], value);
  // Raised when the value crosses the limit, as a plant's alarm is: an
  // acknowledged alarm stays acknowledged while the value stays high.
  if (value > ALARM && before <= ALARM) state.set(['points', id, 'alarm'], true);
}, Number(process.env.TICK ?? 50));

const server = await listen({
  port: Number(process.env.PORT ?? 8080),
  state,
  staticDir: process.env.STATIC_DIR ?? 'dist',
  onRequest(conn, name, data) {
    if (name !== 'ack' || state.get(['points', String(data)]) === undefined) throw new JugglerError({ error: `bad request ${name}` });
    state.set(['points', String(data), 'alarm'], false);
    return true;
  },
});
console.log(`listening on http://127.0.0.1:${server.port}/`);
const stop = () => { clearInterval(timer); server.close(); };
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
