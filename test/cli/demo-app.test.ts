/** startDemo(): the demo application behind `koa-juggler serve`, over real sockets. */
import assert from 'node:assert/strict';
import { startDemo, type Demo, type DemoOptions } from '../../src/cli/demo-app.js';
import { onCleanup } from '../support/cleanup.js';
import { RawClient } from '../support/raw-client.js';
import { delay, waitFor } from '../support/wait.js';

async function demo(options: DemoOptions = {}): Promise<Demo & { ws: string }> {
  const running = await startDemo({ host: '127.0.0.1', port: 0, autoflushDelay: 0, onError: () => {}, ...options });
  onCleanup(() => running.close());
  return Object.assign(running, { ws: `ws://127.0.0.1:${running.port}/ws` });
}

const notifications = (client: RawClient, name: string) => client.messages.filter((m) => m.type === 'notify' && m.name === name);

describe('startDemo', () => {
  it('sends a new client the whole non-null state first, then welcomes it', async () => {
    const server = await demo();
    const client = await RawClient.connect(server.ws);
    const welcome = await client.next((m) => m.type === 'notify');
    assert.equal(client.messages[0].type, 'state');
    const [op] = client.messages[0].diff;
    assert.equal(op.op, 'replace');
    assert.equal(op.path, '');
    assert.deepEqual(Object.keys(op.value).sort(), ['clients', 'counter', 'lastAction', 'peakClients', 'requests', 'startedAt', 'uptime']);
    assert.equal(op.value.clients, 1);
    assert.equal(welcome.name, 'welcome');
    assert.equal(welcome.data.client, 1);
    assert.equal(welcome.data.clients, 1);
  });

  it('answers increment, decrement and reset with the new counter', async () => {
    const server = await demo();
    const client = await RawClient.connect(server.ws);
    const calls: [string, unknown, unknown][] = [
      ['increment', null, 1],
      ['increment', 5, 6],
      ['decrement', null, 5],
      ['decrement', 10, -5],
      ['reset', null, 0],
    ];
    for (const [i, [name, data, expected]] of calls.entries()) {
      client.request(i + 1, name, data);
      assert.deepEqual(await client.response(i + 1), { type: 'response', id: i + 1, success: true, data: expected }, name);
    }
    assert.equal(server.state.get('counter'), 0);
    assert.equal(server.state.get('requests'), calls.length);
    assert.deepEqual({ ...(server.state.get('lastAction') as object), at: null }, { client: 1, action: 'reset', counter: 0, at: null });
  });

  it('sends the new state before the response', async () => {
    const server = await demo({ autoflushDelay: 10_000 });
    const client = await RawClient.connect(server.ws);
    await client.next((m) => m.type === 'state');
    client.request(1, 'increment');
    const response = await client.response(1);
    const index = client.messages.indexOf(response);
    const diffs = client.messages.slice(0, index).filter((m) => m.type === 'state');
    assert.ok(diffs.some((m) => m.diff.some((op: any) => op.path === '/counter' && op.value === 1)));
  });

  it('refuses unknown requests and bad steps with a message', async () => {
    const server = await demo();
    const client = await RawClient.connect(server.ws);
    client.request(1, 'explode');
    client.request(2, 'increment', 1.5);
    client.request(3, 'decrement', 1001);
    client.request(4, 'increment', '2');
    const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map((id) => client.response(id)));
    assert.deepEqual(a, { type: 'response', id: 1, success: false, data: 'unknown request "explode" (this demo knows increment, decrement and reset)' });
    for (const r of [b, c, d]) assert.deepEqual(r.data, 'the step must be null or an integer from 1 to 1000');
    assert.equal(server.state.get('counter'), 0);
  });

  it('counts clients and tells the others who joined and left', async () => {
    const server = await demo();
    const first = await RawClient.connect(server.ws);
    await first.next((m) => m.name === 'welcome');
    const second = await RawClient.connect(server.ws);
    assert.equal((await second.next((m) => m.name === 'welcome')).data.client, 2);
    assert.deepEqual((await first.next((m) => m.name === 'joined')).data.client, 2);
    assert.equal(server.state.get('clients'), 2);
    second.close();
    const left = await first.next((m) => m.name === 'left');
    assert.equal(left.data.client, 2);
    assert.equal(left.data.clients, 1);
    assert.equal(server.state.get('clients'), 1);
    assert.equal(server.state.get('peakClients'), 2);
    assert.deepEqual(notifications(second, 'joined'), [], 'nobody is told about their own arrival');
  });

  it('tells everyone about a reset and about each tenth step', async () => {
    const server = await demo();
    const a = await RawClient.connect(server.ws);
    const b = await RawClient.connect(server.ws);
    a.request(1, 'increment', 9);
    await a.response(1);
    assert.deepEqual(notifications(b, 'milestone'), []);
    a.request(2, 'increment');
    await a.response(2);
    for (const client of [a, b]) assert.equal((await client.next((m) => m.name === 'milestone')).data.counter, 10);
    b.request(1, 'reset');
    await b.response(1);
    for (const client of [a, b]) {
      const reset = await client.next((m) => m.name === 'reset');
      assert.equal(reset.data.from, 10);
      assert.equal(reset.data.client, 2);
    }
  });

  it('updates uptime every tick, and stops ticking once closed', async () => {
    const server = await demo({ tickInterval: 20 });
    const { startedAt } = server.state.data as { startedAt: string };
    assert.ok(Math.abs(Date.parse(startedAt) - Date.now()) < 5000);
    let changes = 0;
    const stop = server.state.onChange(() => changes++);
    onCleanup(stop);
    // Uptime moves once a second; a wrong value is put right by the next tick (20 ms).
    server.state.set('uptime', -1);
    await waitFor(() => (server.state.data as { uptime: number }).uptime >= 0, 'a tick to correct the uptime');
    assert.ok(changes >= 2);
    await server.close();
    server.state.set('uptime', -1);
    const after = changes;
    // A timer still running would put it right again within 20 ms: give it five ticks.
    await delay(100);
    assert.equal(changes, after);
    assert.equal((server.state.data as { uptime: number }).uptime, -1);
  });

  it('with autoflush off, still sends state each tick and after each request', async () => {
    const server = await demo({ autoflushDelay: null, tickInterval: 1000 });
    const client = await RawClient.connect(server.ws);
    await client.next((m) => m.type === 'state');
    client.request(1, 'increment');
    await client.response(1);
    assert.ok(client.messages.some((m) => m.type === 'state' && m.diff.some((op: any) => op.path === '/counter')));
    await client.next((m) => m.type === 'state' && m.diff.some((op: any) => op.path === '/uptime'), 3000);
  });

  it('tells the dashboard where the WebSocket is', async () => {
    const server = await demo({ wsPath: '/live' });
    const res = await fetch(`http://127.0.0.1:${server.port}/demo-config.json`);
    assert.equal(res.status, 200);
    assert.equal((await res.json()).wsPath, '/live');
  });

  it('serves the dashboard from static/ by default', async () => {
    const server = await demo();
    const res = await fetch(`http://127.0.0.1:${server.port}/dashboard.js`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /from '\/juggler-client\.js'/);
  });

  it('closes once however often close() is called', async () => {
    const server = await demo();
    const [a, b] = [server.close(), server.close()];
    assert.equal(a, b);
    await a;
  });
});
