/**
 * Hostile input, property-based (fast-check), over a real socket:
 * - random sequences of juggler frames (valid requests whole or cut into
 *   segments, pings, pongs, partial messages, junk headers, JSON that is not
 *   a request, requests with a field missing or of the wrong type, truncated
 *   JSON, binary frames, invalid UTF-8, frames around maxMessageSize): the
 *   server does exactly what an independent model of PROTOCOL.md predicts
 *   (which requests are answered, which pings echoed, which close code);
 * - random bytes after the handshake, and well-formed frames cut at a
 *   random byte (truncated), then a FIN or a reset: the connection is freed;
 * - every UTF-16 code unit as a frame's header.
 * After each case a bystander on the same server still gets a response and
 * a state diff, and only it is left connected.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Storage, type JsonValue } from '../../src/index.js';
import { Reassembler } from '../../src/transport/framing.js';
import { ProtocolError } from '../../src/errors.js';
import { Bystander } from '../support/bystander.js';
import { frame, OP_BINARY, rawBatch, RawSocket } from '../support/raw-socket.js';
import { startServer } from '../support/server.js';
import { waitFor } from '../support/wait.js';

const MAX = 300;

async function setup() {
  const server = await startServer({
    state: new Storage({}),
    autoflushDelay: 0,
    maxMessageSize: MAX,
    // Echo only (and bump for the bystander): answers are synchronous, so their order is the requests'.
    onRequest(conn, name, data) {
      if (name === 'bump') conn.state.set('bump', data);
      return data;
    },
  });
  const bystander = await Bystander.join(server.url);
  return { server, bystander };
}

const connectionCount = (server: { connections: Iterable<unknown> }) => [...server.connections].length;

interface WireFrame {
  bytes: Buffer;
  binary: boolean;
}

interface Expected {
  responses: { id: number; data: JsonValue }[];
  pongs: string[];
  /** The close: its code and whether we (with a reason) or ws (maybe none) closes. */
  close: { code: number; by: 'server' | 'ws' } | null;
}

const fatalUtf8 = new TextDecoder('utf-8', { fatal: true });
const roundTrip = (v: unknown): JsonValue => JSON.parse(JSON.stringify(v));

/**
 * An independent model of what the server must do with these frames
 * (PROTOCOL.md "Transport", "User layer", "Close codes"), frame by frame,
 * up to the first offence.
 */
function model(frames: WireFrame[], max: number): Expected {
  const expected: Expected = { responses: [], pongs: [], close: null };
  let partial = '';
  let size = 0;
  const close = (code: number, by: 'server' | 'ws' = 'server'): Expected => ({ ...expected, close: { code, by } });
  for (const { bytes, binary } of frames) {
    // ws refuses a frame longer than maxPayload (maxMessageSize + 1 header byte) from its header.
    if (bytes.length > max + 1) return close(1009, 'ws');
    if (binary) return close(1003);
    try {
      fatalUtf8.decode(bytes);
    } catch {
      return close(1007, 'ws');
    }
    const text = bytes.toString('utf8');
    const header = text.charAt(0);
    if (header === '2') {
      expected.pongs.push(text.slice(1));
      continue;
    }
    if (header === '3') continue;
    if (header !== '0' && header !== '1') return close(1002);
    size += header === '1' ? Math.max(bytes.length - 1, 1) : bytes.length - 1;
    if (size > max) return close(1009);
    partial += text.slice(1);
    if (header === '1') continue;
    const message = partial;
    partial = '';
    size = 0;
    let value: unknown;
    try {
      value = JSON.parse(message);
    } catch {
      return close(1002);
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return close(1002);
    const m = value as Record<string, unknown>;
    if (m.type !== 'request') return close(1002);
    if (typeof m.id !== 'number' || !Number.isSafeInteger(m.id)) return close(1002);
    if (typeof m.name !== 'string') return close(1002);
    if (!('data' in m)) return close(1002);
    expected.responses.push({ id: roundTrip(m.id) as number, data: roundTrip(m.data) });
  }
  return expected;
}

// Frame generators. Strings are of any UTF-16 code units, lone surrogates included
// (sent as UTF-8, a lone surrogate becomes U+FFFD, as it would from a browser).
const unit = fc.integer({ min: 0, max: 0xffff }).map((c) => String.fromCharCode(c));
const anyText = fc.string({ unit, maxLength: 20 });
const textFrame = (s: string): WireFrame => ({ bytes: Buffer.from(s, 'utf8'), binary: false });
const id = fc.oneof(fc.integer({ min: -5, max: 5 }), fc.integer(), fc.constantFrom(Number.MAX_SAFE_INTEGER, -Number.MAX_SAFE_INTEGER));
const request = fc.record({ type: fc.constant('request'), id, name: fc.string({ maxLength: 8 }), data: fc.jsonValue({ maxDepth: 2 }) });
const INVALID_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf4, 0x90, 0x80, 0x80], [0x80]];

const frames: fc.Arbitrary<WireFrame[]> = fc.oneof(
  { weight: 6, arbitrary: request.map((r) => [textFrame('0' + JSON.stringify(r))]) },
  {
    weight: 3,
    arbitrary: fc.tuple(request, fc.uniqueArray(fc.nat(), { maxLength: 4 })).map(([r, cuts]) => {
      const text = JSON.stringify(r);
      const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      const pieces = [0, ...at].map((start, i, all) => text.slice(start, i + 1 < all.length ? all[i + 1] : text.length));
      return pieces.map((p, i) => textFrame((i === pieces.length - 1 ? '0' : '1') + p));
    }),
  },
  { weight: 2, arbitrary: anyText.map((s) => [textFrame('2' + s)]) },
  { weight: 1, arbitrary: anyText.map((s) => [textFrame('3' + s)]) },
  { weight: 1, arbitrary: anyText.map((s) => [textFrame('1' + s)]) },
  { weight: 1, arbitrary: anyText.map((s) => [textFrame(s)]) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 2 }).map((j) => [textFrame('0' + j)]) },
  {
    weight: 2,
    arbitrary: fc
      .tuple(request, fc.constantFrom('type', 'id', 'name', 'data'), fc.option(fc.jsonValue({ maxDepth: 1 }), { nil: undefined }))
      .map(([r, key, v]) => {
        const o: Record<string, unknown> = { ...r };
        if (v === undefined) delete o[key];
        else o[key] = v;
        return [textFrame('0' + JSON.stringify(o))];
      }),
  },
  { weight: 1, arbitrary: fc.tuple(request, fc.nat()).map(([r, k]) => [textFrame('0' + JSON.stringify(r).slice(0, k % 40))]) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 10 }).map((b) => [{ bytes: Buffer.from(b), binary: true }]) },
  {
    weight: 1,
    arbitrary: fc.tuple(fc.constantFrom(...INVALID_UTF8), anyText).map(([bad, s]) => [{ bytes: Buffer.concat([Buffer.from('0' + s), Buffer.from(bad)]), binary: false }]),
  },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom('0', '1'), fc.integer({ min: MAX - 3, max: MAX + 3 })).map(([h, n]) => [textFrame(h + 'x'.repeat(n))]) },
);

const SENTINEL = textFrame('0' + JSON.stringify({ type: 'request', id: 424242, name: '', data: 'sentinel' }));

function wire(f: WireFrame): Buffer {
  return frame(f.bytes, f.binary ? { opcode: OP_BINARY } : {});
}

describe('hostile input: property-based', function () {
  this.timeout(60_000);

  it('does with any frame sequence exactly what the protocol model predicts, and only to that connection', async () => {
    const { server, bystander } = await setup();
    await fc.assert(
      fc.asyncProperty(fc.array(frames, { minLength: 1, maxLength: 6 }).map((groups) => groups.flat()), async (sent) => {
        const all = [...sent, SENTINEL];
        const expected = model(all, MAX);
        const raw = RawSocket.open(server.port, Buffer.concat(all.map(wire)));
        const responses = () => raw.outcome.texts.filter((t) => t.startsWith('0{"type":"response"'));
        if (expected.close !== null) {
          const outcome = await raw.waitEnd(3000);
          assert.equal(outcome.code, expected.close.code, `close code (reason: ${outcome.reason})`);
          if (expected.close.by === 'server') assert.notEqual(outcome.reason, '', 'a reason');
        } else {
          await waitFor(() => responses().length >= expected.responses.length, 'every expected response', 3000, 2);
        }
        raw.destroy();
        const got = responses().map((t) => JSON.parse(t.slice(1)));
        assert.deepStrictEqual(got.map((r) => ({ id: r.id, data: r.data })), expected.responses);
        assert.ok(got.every((r) => r.success === true));
        assert.deepStrictEqual(raw.outcome.texts.filter((t) => t.startsWith('3')).map((t) => t.slice(1)), expected.pongs);
        await waitFor(() => connectionCount(server) === 1, 'only the bystander to be left', 3000, 2);
        await bystander.check();
      }),
      { numRuns: 200 },
    );
  });

  it('frees the connection after random bytes or a frame cut short, then a FIN or a reset', async () => {
    const { server, bystander } = await setup();
    const valid = fc
      .array(fc.oneof(request.map((r) => '0' + JSON.stringify(r)), anyText.map((s) => '2' + s)), { minLength: 1, maxLength: 3 })
      .map((texts) => Buffer.concat(texts.map((t) => frame(t))));
    const bytes = fc.oneof(
      fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b)),
      fc.tuple(valid, fc.nat()).map(([b, cut]) => b.subarray(0, cut % (b.length + 1))),
      fc.tuple(valid, fc.uint8Array({ minLength: 1, maxLength: 16 })).map(([b, tail]) => Buffer.concat([b, Buffer.from(tail)])),
    );
    await fc.assert(
      fc.asyncProperty(bytes, fc.boolean(), async (garbage, reset) => {
        const raw = RawSocket.open(server.port, garbage);
        await raw.upgraded();
        await new Promise((resolve) => setTimeout(resolve, 5));
        if (reset) raw.destroy();
        else raw.socket.end();
        const outcome = await raw.waitEnd(3000);
        if (outcome.code !== null) assert.ok([1000, 1002, 1003, 1007, 1009].includes(outcome.code), `close code ${outcome.code}`);
        await waitFor(() => connectionCount(server) === 1, 'the server to free the connection', 3000, 2);
        await bystander.check();
      }),
      { numRuns: 100 },
    );
  });

  it('reassembles any text cut into segments of any sizes, empty and tiny ones mixed with long ones, exactly', () => {
    fc.assert(
      // Long enough for runs of more than a thousand short segments (they are joined a thousand at a time).
      fc.property(fc.string({ unit, maxLength: 6000, size: 'max' }), fc.array(fc.oneof(fc.nat(3), fc.nat(3), fc.nat(300), fc.nat(1000)), { maxLength: 2500, size: 'max' }), (text, sizes) => {
        const reassembler = new Reassembler(1_000_000);
        let pos = 0;
        for (const size of sizes) {
          if (pos >= text.length) break;
          assert.equal(reassembler.push('1' + text.slice(pos, pos + size)).kind, 'partial');
          pos += size;
        }
        const received = reassembler.push('0' + text.slice(pos));
        assert.ok(received.kind === 'message' && received.text === text, 'the same text, in order');
      }),
      // Shrinking inputs this long takes minutes: report the first failure (its seed replays it).
      { numRuns: 100, endOnFailure: true },
    );
  });

  describe('every UTF-16 code unit as a header', () => {
    it('is refused by the framing layer unless it is 0, 1, 2 or 3 (all 65536)', () => {
      const reassembler = new Reassembler(MAX);
      const accepted: number[] = [];
      for (let c = 0; c <= 0xffff; c++) {
        const header = String.fromCharCode(c);
        try {
          reassembler.push(header + '{}');
          accepted.push(c);
        } catch (err) {
          assert.ok(err instanceof ProtocolError && err.closeCode === 1002 && /unknown frame header/.test(err.message), `U+${c.toString(16)}`);
        }
        reassembler.reset();
      }
      assert.deepEqual(accepted, [0x30, 0x31, 0x32, 0x33]);
    });

    it('closes with 1002 over the socket for all of U+0000–U+00FF, every 61st code unit above, and the tricky ones', async () => {
      const { server, bystander } = await setup();
      const units = new Set<number>();
      for (let c = 0; c <= 0xff; c++) units.add(c);
      for (let c = 0x100; c <= 0xffff; c += 61) units.add(c);
      // Lookalike digits, BOM, replacement char, line separators, both surrogate halves, the last code unit.
      for (const c of [0x660, 0x6f0, 0x966, 0x2070, 0x2080, 0x2460, 0x2028, 0x2029, 0xd800, 0xdbff, 0xdc00, 0xdfff, 0xfeff, 0xff10, 0xff11, 0xfffd, 0xffff]) units.add(c);
      for (const c of [0x31, 0x32, 0x33]) units.delete(c); // valid headers: checked below
      const list = [...units];
      const outcomes = await rawBatch(server.port, list.length, (i) => frame(String.fromCharCode(list[i]!) + '{}'), { concurrency: 32 });
      const wrong = outcomes.map((o, i) => ({ c: list[i]!, o })).filter(({ c, o }) => o.status !== 101 || o.code !== 1002 || !(c === 0x30 ? /no type/ : /unknown frame header/).test(o.reason));
      assert.deepEqual(wrong.map(({ c, o }) => `U+${c.toString(16)}: ${o.status} ${o.code} ${o.reason}`), []);
      // '1' starts a message, '2' is answered, '3' is taken as activity: the connection stays open.
      const raw = RawSocket.open(server.port, Buffer.concat([frame('3{}'), frame('2{}'), frame('1{"type":"request","id":1,'), frame('0"name":"","data":7}')]));
      await raw.nextText((t) => t === '3{}');
      await raw.nextText((t) => t === '0{"type":"response","id":1,"success":true,"data":7}');
      raw.destroy();
      await waitFor(() => connectionCount(server) === 1, 'only the bystander to be left');
      await bystander.check();
    });
  });
});
