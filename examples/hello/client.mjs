// The other half of server.mjs: connects, prints each state it sees, asks
// the server to add 2 and prints the answer.
// Run: node examples/hello/client.mjs ws://127.0.0.1:8080/ws
import { connect } from 'koa-juggler/client';

const url = process.argv[2] ?? 'ws://127.0.0.1:8080/ws';
const client = await connect(url);
const seen = new Promise((resolve) => {
  client.onChange((state) => {
    console.log('state', JSON.stringify(state));
    if (state?.count >= 2) resolve();
  });
});
console.log('answer', JSON.stringify(await client.send('add', { by: 2 })));
await seen;
client.close();
await client.closed;
