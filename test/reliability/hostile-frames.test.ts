/**
 * A fixed corpus of hostile input over a real socket, byte for byte: each
 * case closes only the offending connection, with the close code
 * PROTOCOL.md gives and a reason (ws's own closes may have none), while a
 * bystander on the same server keeps getting responses and state diffs.
 * What is odd but valid (negative ids, unsolicited pongs, ws fragments)
 * must not close anything.
 */
import assert from 'node:assert/strict';
import { Storage } from '../../src/index.js';
import { Bystander, bumpHandler } from '../support/bystander.js';
import { frame, OP_BINARY, OP_CLOSE, OP_CONTINUATION, OP_PING, RawSocket } from '../support/raw-socket.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const MAX = 10_000;

async function setup(options: { maxMessageSize?: number; maxJsonDepth?: number } = {}) {
  const server = await startServer({
    state: new Storage({}),
    autoflushDelay: 0,
    maxMessageSize: options.maxMessageSize ?? MAX,
    maxJsonDepth: options.maxJsonDepth,
    onRequest: bumpHandler,
  });
  const bystander = await Bystander.join(server.url);
  await bystander.check();
  return { server, bystander };
}

const connectionCount = (server: { connections: Iterable<unknown> }) => [...server.connections].length;

/** Opens a raw connection, writes `bytes` after the handshake, and waits for the server to end it. */
async function attack(port: number, bytes: Buffer) {
  const raw = RawSocket.open(port, bytes);
  return raw.waitEnd();
}

const text = (s: string) => frame(s);
const request = (fields: Record<string, unknown>) => text('0' + JSON.stringify({ type: 'request', ...fields }));
const rawText = (...bytes: number[]) => frame(Buffer.from(bytes));

// [what, bytes after the handshake, close code, reason (null: ws closes by itself, any reason)]
const CORPUS: [string, Buffer, number, RegExp | null][] = [
  // Transport layer: frames and headers.
  ['an empty frame', text(''), 1002, /empty frame/],
  ['a letter as header', text('x{}'), 1002, /unknown frame header "x"/],
  ['the digit 4 as header', text('4{}'), 1002, /unknown frame header "4"/],
  ['a space before the header', text(' 0{}'), 1002, /unknown frame header " "/],
  ['NUL as header', text('\u0000'), 1002, /unknown frame header/],
  ['a BOM before the header', text('\uFEFF0{}'), 1002, /unknown frame header/],
  ['a fullwidth zero as header', text('\uFF10{}'), 1002, /unknown frame header/],
  ['an emoji as header', text('\u{1F600}{}'), 1002, /unknown frame header/],
  ['a binary frame', frame(Buffer.from('0{}'), { opcode: OP_BINARY }), 1003, /binary/],
  ['an empty binary frame', frame(Buffer.alloc(0), { opcode: OP_BINARY }), 1003, /binary/],
  // Invalid UTF-8 (ws checks it and closes by itself).
  ['a 0xFF byte', rawText(0x30, 0xff), 1007, null],
  ['an overlong NUL', rawText(0x30, 0xc0, 0x80), 1007, null],
  ['a UTF-8 encoded surrogate', rawText(0x30, 0xed, 0xa0, 0x80), 1007, null],
  ['a truncated sequence', rawText(0x30, 0xe2, 0x82), 1007, null],
  ['a code point past U+10FFFF', rawText(0x30, 0xf4, 0x90, 0x80, 0x80), 1007, null],
  ['a lone continuation byte', rawText(0x30, 0x80), 1007, null],
  // User layer: JSON.
  ['an empty message', text('0'), 1002, /invalid JSON/],
  ['an unclosed object', text('0{'), 1002, /invalid JSON/],
  ['a cut-off member', text('0{"type":'), 1002, /invalid JSON/],
  ['a trailing comma', text('0{"a":1,}'), 1002, /invalid JSON/],
  ['single quotes', text("0{'type':'request'}"), 1002, /invalid JSON/],
  ['NaN', text('0NaN'), 1002, /invalid JSON/],
  ['two objects', text('0{} {}'), 1002, /invalid JSON/],
  ['an unterminated string', text('0"abc'), 1002, /invalid JSON/],
  // Refused before parsing (maxJsonDepth, default 64): JSON.parse of these blocks the event loop.
  ['a million unclosed [', text('0' + '['.repeat(1_000_000)), 1008, /nested deeper than maxJsonDepth \(64\)/],
  ['an array', text('0[]'), 1002, /not a JSON object \(got an array\)/],
  ['null', text('0null'), 1002, /not a JSON object \(got null\)/],
  ['a string', text('0"request"'), 1002, /not a JSON object \(got string\)/],
  ['a number', text('042'), 1002, /not a JSON object \(got number\)/],
  ['true', text('0true'), 1002, /not a JSON object \(got boolean\)/],
  ['a million nested arrays', text('0' + '['.repeat(1_000_000) + ']'.repeat(1_000_000)), 1008, /nested deeper than maxJsonDepth \(64\)/],
  // User layer: the schema.
  ['an object without type', text('0{}'), 1002, /no type/],
  ['a numeric type', text('0{"type":1}'), 1002, /type must be a string/],
  ['a response from the client', text('0{"type":"response","id":1,"success":true,"data":null}'), 1002, /unknown message type "response"/],
  ['a state message from the client', text('0{"type":"state","diff":[]}'), 1002, /unknown message type "state"/],
  ['a notify on a plain connection', text('0{"type":"notify","name":"x","data":1}'), 1002, /unknown message type "notify"/],
  ['a hello on a plain connection', text('0{"type":"hello"}'), 1002, /unknown message type "hello"/],
  ['a request without id', request({ name: 'a', data: null }), 1002, /id must be an integer \(got none\)/],
  ['a string id', request({ id: '1', name: 'a', data: null }), 1002, /id must be an integer \(got string\)/],
  ['a null id', request({ id: null, name: 'a', data: null }), 1002, /id must be an integer/],
  ['a boolean id', request({ id: true, name: 'a', data: null }), 1002, /id must be an integer/],
  ['an array id', request({ id: [1], name: 'a', data: null }), 1002, /id must be an integer/],
  ['an object id', request({ id: { n: 1 }, name: 'a', data: null }), 1002, /id must be an integer/],
  ['a fractional id', request({ id: 1.5, name: 'a', data: null }), 1002, /safe integer \(got 1\.5\)/],
  ['a negative fractional id', request({ id: -0.25, name: 'a', data: null }), 1002, /safe integer/],
  ['id 2^53', text('0{"type":"request","id":9007199254740992,"name":"a","data":null}'), 1002, /safe integer/],
  ['id 2^53 + 1 (rounds on parse)', text('0{"type":"request","id":9007199254740993,"name":"a","data":null}'), 1002, /safe integer/],
  ['id 1e308', text('0{"type":"request","id":1e308,"name":"a","data":null}'), 1002, /safe integer/],
  ['id 1e400 (Infinity)', text('0{"type":"request","id":1e400,"name":"a","data":null}'), 1002, /safe integer \(got Infinity\)/],
  ['id -1e400 (-Infinity)', text('0{"type":"request","id":-1e400,"name":"a","data":null}'), 1002, /safe integer/],
  ['a request without name', request({ id: 1, data: null }), 1002, /name must be a string \(got none\)/],
  ['a numeric name', request({ id: 1, name: 5, data: null }), 1002, /name must be a string \(got number\)/],
  ['a null name', request({ id: 1, name: null, data: null }), 1002, /name must be a string \(got null\)/],
  ['an object name', request({ id: 1, name: { toString: 'x' }, data: null }), 1002, /name must be a string/],
  ['a request without data', request({ id: 1, name: 'a' }), 1002, /needs a data field/],
  // WebSocket layer (ws closes by itself).
  ['RSV1 set without an extension', frame('0{}', { rsv: 4 }), 1002, null],
  ['a reserved opcode', frame('0{}', { opcode: 0x3 }), 1002, null],
  ['a reserved control opcode', frame('', { opcode: 0xb }), 1002, null],
  ['an unmasked frame', Buffer.from([0x81, 0x03, 0x30, 0x7b, 0x7d]), 1002, null],
  ['a continuation without a start', frame('0{}', { opcode: OP_CONTINUATION }), 1002, null],
  ['a new text frame inside a fragmented message', Buffer.concat([frame('0{', { fin: false }), frame('}')]), 1002, null],
  ['a ping longer than 125 bytes', frame('x'.repeat(126), { opcode: OP_PING }), 1002, null],
  ['a fragmented ping', frame('x', { opcode: OP_PING, fin: false }), 1002, null],
  ['a close frame with a one-byte payload', frame(Buffer.from([3]), { opcode: OP_CLOSE }), 1002, null],
  ['a close frame with reserved code 1005', frame(Buffer.from([0x03, 0xed]), { opcode: OP_CLOSE }), 1002, null],
  ['a close frame with code 999', frame(Buffer.from([0x03, 0xe7]), { opcode: OP_CLOSE }), 1002, null],
  ['a 2^63 payload length', Buffer.from([0x81, 0xff, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]), 1009, null],
];

describe('hostile input: a fixed corpus over a raw socket', function () {
  this.timeout(20_000);

  for (const [what, bytes, code, reason] of CORPUS) {
    it(`closes only the offending connection on ${what} (${code})`, async () => {
      const { server, bystander } = await setup({ maxMessageSize: bytes.length > MAX ? 4 * 1024 * 1024 : MAX });
      const outcome = await attack(server.port, bytes);
      assert.equal(outcome.status, 101);
      assert.equal(outcome.code, code, `close code (reason: ${outcome.reason})`);
      if (reason !== null) assert.match(outcome.reason, reason);
      await waitFor(() => connectionCount(server) === 1, 'the offending connection to be gone');
      await bystander.check();
    });
  }

  it('still answers what is odd but valid, on the same connection', async () => {
    const { server, bystander } = await setup();
    const raw = RawSocket.open(server.port);
    await raw.upgraded();
    const sends: [Buffer, string | null][] = [
      [request({ id: -7, name: 'neg', data: 'n' }), '{"type":"response","id":-7,"success":true,"data":"n"}'],
      [text('0{"type":"request","id":1.0,"name":"one","data":1}'), '{"type":"response","id":1,"success":true,"data":1}'],
      [text('0{"type":"request","id":1e2,"name":"exp","data":2}'), '{"type":"response","id":100,"success":true,"data":2}'],
      [text('0{"type":"request","id":-0,"name":"zero","data":3}'), '{"type":"response","id":0,"success":true,"data":3}'],
      [request({ id: Number.MAX_SAFE_INTEGER, name: 'max', data: 4 }), `{"type":"response","id":${Number.MAX_SAFE_INTEGER},"success":true,"data":4}`],
      [request({ id: -Number.MAX_SAFE_INTEGER, name: 'min', data: 5 }), `{"type":"response","id":${-Number.MAX_SAFE_INTEGER},"success":true,"data":5}`],
      [text('3unsolicited pong'), null],
      [frame('ws-level ping', { opcode: OP_PING }), null],
      [text('2\u{1F600} \u0000 é'), '3\u{1F600} \u0000 é'],
      // One juggler message in three ws fragments, a euro sign cut between them.
      [
        Buffer.concat([
          frame(Buffer.from('0{"type":"request","id":8,"name":"frag","data":"\xe2', 'latin1'), { fin: false }),
          frame(Buffer.from([0x82]), { opcode: OP_CONTINUATION, fin: false }),
          frame(Buffer.from('\xac"}', 'latin1'), { opcode: OP_CONTINUATION }),
        ]),
        '{"type":"response","id":8,"success":true,"data":"€"}',
      ],
      // One request in 60 one-character segments.
      [
        Buffer.concat(
          [...'{"type":"request","id":9,"name":"seg","data":"xyz"}'].map((c, i, all) => text((i === all.length - 1 ? '0' : '1') + c)),
        ),
        '{"type":"response","id":9,"success":true,"data":"xyz"}',
      ],
    ];
    for (const [bytes, answer] of sends) {
      raw.write(bytes);
      if (answer !== null) await raw.nextText((t) => t === (answer.startsWith('3') ? answer : '0' + answer), 2000);
    }
    raw.write(request({ id: 10, name: 'last', data: 'still open' }));
    await raw.nextText((t) => t.includes('"id":10'));
    assert.equal(raw.outcome.code, null);
    assert.equal(connectionCount(server), 2);
    await bystander.check();
  });

  for (const [what, second] of [
    ['running', 3],
    ['queued behind a running one', 4],
  ] as const) {
    it(`closes on a request id that is already in flight (${what}), with sequential requests`, async () => {
      const { server, bystander } = await setup();
      const raw = RawSocket.open(server.port);
      raw.write(Buffer.concat([request({ id: 3, name: 'slow', data: 300 }), request({ id: 4, name: 'echo', data: 1 }), request({ id: second, name: 'again', data: 2 })]));
      const outcome = await raw.waitEnd();
      assert.equal(outcome.code, 1002);
      assert.match(outcome.reason, new RegExp(`request id ${second} is already in flight`));
      assert.deepEqual(outcome.texts.filter((t) => t.includes('"response"')), [], 'nothing was answered');
      await waitFor(() => connectionCount(server) === 1, 'the offending connection to be gone');
      await bystander.check();
    });
  }
});

/** A request whose JSON text is exactly `bytes` bytes of UTF-8, padded with `pad` (1 or 2 bytes a character). */
function requestOfSize(bytes: number, pad: 'a' | 'é' = 'a'): string {
  const base = JSON.stringify({ type: 'request', id: 1, name: 'big', data: '' });
  const room = bytes - Buffer.byteLength(base);
  const data = pad === 'a' ? 'a'.repeat(room) : 'é'.repeat(Math.floor(room / 2)) + 'a'.repeat(room % 2);
  const text = JSON.stringify({ type: 'request', id: 1, name: 'big', data });
  assert.equal(Buffer.byteLength(text), bytes);
  return text;
}

/** `text` as `n` segments (cut by UTF-16 units; the padding never has surrogates). */
function segments(text: string, n: number): Buffer {
  const size = Math.ceil(text.length / n);
  const frames: Buffer[] = [];
  for (let i = 0; i < text.length; i += size) frames.push(frame((i + size >= text.length ? '0' : '1') + text.slice(i, i + size)));
  return Buffer.concat(frames);
}

/** Writes `batch` again and again until the server ends the connection; at most `rounds` times. */
async function floodUntilClosed(raw: RawSocket, batch: Buffer, rounds: number): Promise<number> {
  let sent = 0;
  while (!raw.outcome.ended && raw.outcome.code === null && sent < rounds) {
    if (!raw.socket.write(batch)) await new Promise((resolve) => raw.socket.once('drain', resolve));
    sent += 1;
    await new Promise((resolve) => setImmediate(resolve));
  }
  return sent;
}

describe('hostile input: message size limits', function () {
  this.timeout(20_000);

  for (const pad of ['a', 'é'] as const) {
    for (const n of [1, 3]) {
      const how = `${n === 1 ? 'one frame' : `${n} segments`} of ${pad === 'a' ? 'ASCII' : 'two-byte characters'}`;

      it(`answers a message of exactly maxMessageSize bytes (${how})`, async () => {
        const { server, bystander } = await setup();
        const raw = RawSocket.open(server.port, segments(requestOfSize(MAX, pad), n));
        const answer = JSON.parse((await raw.nextText((t) => t.includes('"response"'))).slice(1));
        assert.equal(Buffer.byteLength(answer.data) + Buffer.byteLength(JSON.stringify({ type: 'request', id: 1, name: 'big', data: '' })), MAX);
        assert.equal(connectionCount(server), 2);
        await bystander.check();
      });

      it(`closes with 1009 on one byte more (${how})`, async () => {
        const { server, bystander } = await setup();
        const outcome = await attack(server.port, segments(requestOfSize(MAX + 1, pad), n));
        assert.equal(outcome.code, 1009);
        // A single frame is refused by ws from its header, before we see it; segments by us, with a reason.
        if (n > 1) assert.match(outcome.reason, /larger than maxMessageSize \(10000 bytes\)/);
        assert.ok(!outcome.texts.some((t) => t.includes('"response"')));
        await waitFor(() => connectionCount(server) === 1, 'the offending connection to be gone');
        await bystander.check();
      });
    }
  }

  it('closes with 1009 an endless run of "1" segments', async () => {
    const { server, bystander } = await setup();
    const raw = RawSocket.open(server.port);
    const batch = Buffer.concat(Array.from({ length: 50 }, () => frame('1' + 'x'.repeat(99))));
    const rounds = await floodUntilClosed(raw, batch, 1000);
    const outcome = await raw.waitEnd();
    assert.equal(outcome.code, 1009);
    assert.match(outcome.reason, /larger than maxMessageSize/);
    assert.ok(rounds < 10, `closed after ${rounds} rounds of 50 segments`);
    await bystander.check();
  });

  it('closes with 1009 an endless run of empty "1" segments (each one counts)', async () => {
    const { server, bystander } = await setup();
    const raw = RawSocket.open(server.port);
    const batch = Buffer.concat(Array.from({ length: 1000 }, () => frame('1')));
    const rounds = await floodUntilClosed(raw, batch, 1000);
    const outcome = await raw.waitEnd();
    assert.equal(outcome.code, 1009, `after ${rounds} rounds of 1000 empty segments`);
    assert.match(outcome.reason, /larger than maxMessageSize/);
    await bystander.check();
  });

  it('answers a request whose data nests a million arrays deep once, and keeps serving (maxJsonDepth raised)', async () => {
    const { server, bystander } = await setup({ maxMessageSize: 4 * 1024 * 1024, maxJsonDepth: 2_000_000 });
    const deep = '['.repeat(1_000_000) + ']'.repeat(1_000_000);
    const raw = RawSocket.open(server.port, text(`0{"type":"request","id":1,"name":"echo","data":${deep}}`));
    const answer = JSON.parse((await raw.nextText((t) => t.includes('"response"'))).slice(1));
    // Echoing it back needs a recursion deeper than the stack: a failed response saying so, not a crash.
    assert.equal(answer.success, false);
    assert.match(answer.data, /not JSON.*call stack/);
    raw.write(request({ id: 2, name: 'echo', data: 'after' }));
    await raw.nextText((t) => t.includes('"after"'));
    assert.equal(connectionCount(server), 2);
    await bystander.check();
  });
});
