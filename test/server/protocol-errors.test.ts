import assert from 'node:assert/strict';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';

describe('protocol errors', () => {
  const cases: [string, (c: RawClient) => void, number, RegExp][] = [
    ['an empty frame', (c) => c.sendFrame(''), 1002, /empty frame/],
    ['a bad header character', (c) => c.sendFrame('x{}'), 1002, /unknown frame header "x"/],
    ['invalid JSON', (c) => c.sendFrame('0{"type":'), 1002, /invalid JSON/],
    ['JSON that is not an object', (c) => c.sendFrame('0[1,2]'), 1002, /not a JSON object/],
    ['an unknown type', (c) => c.sendFrame('0{"type":"subscribe"}'), 1002, /unknown message type "subscribe"/],
    ['a fractional id', (c) => c.sendFrame('0{"type":"request","id":1.5,"name":"a","data":null}'), 1002, /safe integer/],
    ['a string id', (c) => c.sendFrame('0{"type":"request","id":"1","name":"a","data":null}'), 1002, /id must be an integer/],
    ['a name that is not a string', (c) => c.sendFrame('0{"type":"request","id":1,"name":null,"data":null}'), 1002, /name must be a string/],
    ['a binary frame', (c) => c.sendFrame(Buffer.from('0{}'), true), 1003, /binary/],
    ['invalid UTF-8', (c) => c.ws.send(Buffer.from([0x30, 0xff, 0xfe]), { binary: false }), 1007, /./],
  ];
  for (const [what, send, code, reason] of cases) {
    it(`closes only the offending connection on ${what} (${code})`, async () => {
      const server = await startServer({ onRequest: (_c, _n, d) => d });
      const good = await RawClient.connect(server.url);
      const bad = await RawClient.connect(server.url);
      send(bad);
      const closed = await bad.waitClose();
      assert.equal(closed.code, code);
      assert.match(closed.reason, code === 1007 ? /.*/ : reason);
      good.request(1, 'still', 'here');
      assert.equal((await good.response(1)).data, 'here');
      assert.equal([...server.connections].length, 1);
    });
  }

  it('closes on a request id already in flight', async () => {
    const server = await startServer({ parallelRequests: true, onRequest: () => new Promise(() => {}) });
    const client = await RawClient.connect(server.url);
    client.request(5, 'hang');
    client.request(5, 'hang');
    const closed = await client.waitClose();
    assert.equal(closed.code, 1002);
    assert.match(closed.reason, /id 5 is already in flight/);
  });

  it('closes with 1009 when a message grows past maxMessageSize, segments included', async () => {
    const server = await startServer({ maxMessageSize: 1000, onRequest: (_c, _n, d) => d });
    const client = await RawClient.connect(server.url);
    client.request(1, 'x', 'a'.repeat(900));
    assert.equal((await client.response(1)).data.length, 900);
    client.sendFrame('1' + 'a'.repeat(600));
    client.sendFrame('1' + 'a'.repeat(600));
    assert.equal((await client.waitClose()).code, 1009);
  });

  it('closes with 1009 on one frame over the limit (ws knows it from the frame header)', async () => {
    const server = await startServer({ maxMessageSize: 1000 });
    const client = await RawClient.connect(server.url);
    client.sendFrame('0' + 'a'.repeat(5000));
    assert.equal((await client.waitClose()).code, 1009);
  });
});
