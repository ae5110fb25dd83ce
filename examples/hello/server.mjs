// A juggler server in a dozen lines: one shared counter that every client
// sees, and a request that changes it. Run: node examples/hello/server.mjs
// (PORT=0 picks a free port), then node examples/hello/client.mjs URL.
import { listen, Storage, JugglerError } from 'koa-juggler';

const state = new Storage({ count: 0 });

const server = await listen({
  port: Number(process.env.PORT ?? 8080),
  state,
  onRequest(conn, name, data) {
    if (name !== 'add') throw new JugglerError({ error: `unknown request ${name}` });
    state.set(['count'], state.get(['count']) + (data?.by ?? 1));
    return state.get(['count']);
  },
});
console.log(`listening on http://127.0.0.1:${server.port}/`);
process.once('SIGINT', () => server.close());
process.once('SIGTERM', () => server.close());
