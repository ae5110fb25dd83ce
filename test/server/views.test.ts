/**
 * Views over real sockets (docs/views.md): a raw plain client, our client
 * and the reconnecting client see only their part of one shared state;
 * onView is the authorization point; views belong to the session.
 */
import assert from 'node:assert/strict';
import { ExtensionUnavailableError, JugglerError } from '../../src/client/index.js';
import { JugglerError as ServerJugglerError, Storage, type Connection } from '../../src/index.js';
import { EXTENSION_PROTOCOL } from '../../src/protocol/messages.js';
import { connectTo, reconnectTo } from '../support/client-helpers.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';
import { startProxy } from '../support/tcp-proxy.js';
import { waitFor } from '../support/wait.js';
import { restrict } from '../state/support/restrict.js';

const plant = (): Storage =>
  new Storage({ sites: { north: { p1: 1, p2: 2 }, south: { p1: 'SOUTH-SECRET' } }, alarms: ['a1'], admin: { key: 'ADMIN-SECRET' } });

/** Everything a raw client received, as one text. */
const wire = (client: RawClient): string => client.frames.join('\n');

describe('views', () => {
  describe('view(conn) on plain connections', () => {
    it('a raw plain client gets its view whole, then only diffs within it, never a byte from outside', async () => {
      const state = plant();
      const server = await startServer({ state, autoflushDelay: 0, view: () => [['sites', 'north'], ['alarms']] });
      const raw = await RawClient.connect(server.url);
      const first = await raw.next((m) => m.type === 'state');
      assert.deepEqual(first.diff, [{ op: 'replace', path: '', value: { sites: { north: { p1: 1, p2: 2 } }, alarms: ['a1'] } }]);
      state.set(['sites', 'south', 'p1'], 'SOUTH-SECRET-2');
      state.set(['admin', 'key'], 'ADMIN-SECRET-2');
      state.set(['sites', 'north', 'p1'], 10);
      const next = await raw.next((m) => m.type === 'state' && m !== first);
      assert.deepEqual(next.diff, [{ op: 'replace', path: '/sites/north/p1', value: 10 }]);
      // A parent replaced: only the view's part comes, recomputed.
      state.set('sites', { north: { p1: 3 }, south: { p1: 'SOUTH-SECRET-3' } });
      const third = await raw.next((m) => m.type === 'state' && m !== first && m !== next);
      assert.deepEqual(third.diff, [{ op: 'replace', path: '/sites/north', value: { p1: 3 } }]);
      assert.equal(raw.messages.filter((m) => m.type === 'state').length, 3, 'changes outside the view sent nothing');
      assert.doesNotMatch(wire(raw), /SECRET|south|admin/);
    });

    it('conn.setView() from the server switches a plain connection with one diff', async () => {
      const state = plant();
      let conn: Connection | undefined;
      const server = await startServer({ state, autoflushDelay: 0, onConnection: (c) => void (conn = c), view: () => [['alarms']] });
      const client = await connectTo(server.url, { extensions: false });
      await waitFor(() => client.state !== null, 'the first state');
      assert.deepEqual(client.state, { alarms: ['a1'] });
      assert.deepEqual(conn!.view, [['alarms']]);
      conn!.setView([['sites', 'north', 'p2'], ['alarms']]);
      assert.deepEqual(conn!.view, [['alarms'], ['sites', 'north', 'p2']]);
      await waitFor(() => (client.state as any).sites !== undefined, 'the view diff');
      assert.deepEqual(client.state, restrict(state.data, conn!.view));
      assert.throws(() => conn!.setView([['sites', 3 as never]]), { name: 'InvalidArgumentError', message: /^paths\[0\]\[1\]/ });
      conn!.setView(null);
      await waitFor(() => (client.state as any).admin !== undefined, 'everything');
      assert.deepEqual(client.state, state.data);
    });

    it('a view(conn) that throws or steps through an array closes that connection with 1011 and tells onError', async () => {
      const server = await startServer({
        state: plant(),
        view: (conn) => {
          if (conn.request.url.includes('throw')) throw new Error('no view for you');
          return [['sites', 0 as never]];
        },
      });
      for (const url of [server.url + '?throw', server.url]) {
        const raw = await RawClient.connect(url);
        assert.equal((await raw.waitClose()).code, 1011);
      }
      assert.deepEqual(server.errors.map((e) => e.kind), ['connection', 'connection']);
      assert.match(server.errors[0]!.err.message, /no view for you/);
      assert.match(server.errors[1]!.err.message, /view\(conn\) returned\[0\]\[1\] must be a string/);
    });
  });

  describe('client.setView() (extension)', () => {
    it('resolves with the granted paths after the state changed to them; versions stay the shared state', async () => {
      const state = plant();
      const server = await startServer({
        state,
        autoflushDelay: 0,
        view: () => [],
        onView: (_conn, paths) => paths.filter((p) => p[0] !== 'admin'),
      });
      const client = await connectTo(server.url);
      await waitFor(() => client.state !== null, 'the first state');
      assert.deepEqual(client.state, {});
      const granted = await client.setView([['admin'], ['sites', 'south'], ['sites', 'north']]);
      assert.deepEqual(granted, [['sites', 'north'], ['sites', 'south']]);
      assert.deepEqual(client.state, { sites: state.data && (state.data as any).sites });
      const version = client.version;
      state.set(['admin', 'key'], 'x');
      state.set(['sites', 'north', 'p1'], 7);
      await waitFor(() => (client.state as any).sites.north.p1 === 7, 'the diff');
      assert.notEqual(client.version, version);
    });

    it('is refused without onView, with what onView threw, and on a plain connection; view and state unchanged', async () => {
      const state = plant();
      const none = await startServer({ state, view: () => [['alarms']] });
      const a = await connectTo(none.url);
      await waitFor(() => a.state !== null, 'the first state');
      await assert.rejects(a.setView([['admin']]), (err: unknown) => err instanceof JugglerError && /no onView/.test(String(err.data)));
      const refusing = await startServer({
        state,
        view: () => [['alarms']],
        onView: () => {
          throw new ServerJugglerError({ refused: 'admin' });
        },
      });
      const b = await connectTo(refusing.url);
      await waitFor(() => b.state !== null, 'the first state');
      await assert.rejects(b.setView([['admin']]), (err: unknown) => err instanceof JugglerError && (err.data as any).refused === 'admin');
      assert.deepEqual(b.state, { alarms: ['a1'] });
      await assert.rejects(b.setView([['a', 1 as never]]), { name: 'InvalidArgumentError' });
      const plain = await connectTo(refusing.url, { extensions: false });
      await assert.rejects(plain.setView([['alarms']]), ExtensionUnavailableError);
    });

    it('a raw extension client sees the view message answered after the diff to the new view', async () => {
      const server = await startServer({ state: plant(), view: () => [['alarms']], onView: (_c, paths) => paths });
      const raw = await RawClient.connect(server.url, { protocols: EXTENSION_PROTOCOL });
      raw.send({ type: 'hello' });
      await raw.next((m) => m.type === 'state');
      raw.send({ type: 'view', id: 5, paths: [['sites', 'north']] });
      const response = await raw.response(5);
      assert.deepEqual(response.data, [['sites', 'north']]);
      const states = raw.messages.filter((m) => m.type === 'state');
      assert.deepEqual(states.at(-1).diff, [
        { op: 'remove', path: '/alarms' },
        { op: 'add', path: '/sites', value: { north: { p1: 1, p2: 2 } } },
      ]);
      assert.ok(raw.messages.indexOf(states.at(-1)) < raw.messages.indexOf(response));
      raw.send({ type: 'view', id: 6, paths: [['sites', 1]] });
      assert.equal((await raw.waitClose()).code, 1002);
    });

    it('waits for onConnection like a request: onView sees what onConnection set up, ids stay in flight', async () => {
      let release!: () => void;
      const setUp = new Promise<void>((resolve) => (release = resolve));
      const allowed = new WeakMap<Connection, string>();
      const order: string[] = [];
      const server = await startServer({
        state: plant(),
        view: () => [['alarms']],
        onConnection: async (conn) => {
          await setUp;
          allowed.set(conn, 'north');
          order.push('onConnection');
        },
        onView: (conn, paths) => {
          order.push('onView');
          const site = allowed.get(conn);
          if (site === undefined) throw new Error('onView ran before onConnection');
          return paths.filter((p) => p[1] === site);
        },
      });
      const raw = await RawClient.connect(server.url, { protocols: EXTENSION_PROTOCOL });
      raw.send({ type: 'hello' });
      raw.send({ type: 'view', id: 1, paths: [['sites', 'north'], ['sites', 'south']] });
      await raw.next((m) => m.type === 'state');
      // A waiting view's id is in flight: a request with it is a protocol error.
      const other = await RawClient.connect(server.url, { protocols: EXTENSION_PROTOCOL });
      other.send({ type: 'hello' });
      other.send({ type: 'view', id: 2, paths: [['alarms']] });
      other.send({ type: 'request', id: 2, name: '', data: null });
      assert.equal((await other.waitClose()).code, 1002);
      assert.deepEqual(order, []);
      release();
      const response = await raw.response(1);
      assert.equal(response.success, true);
      assert.deepEqual(response.data, [['sites', 'north']]);
      // Both connections' onConnection ran before the one onView.
      assert.deepEqual(order, ['onConnection', 'onConnection', 'onView']);
      assert.deepEqual(server.errors.map((e) => e.kind), ['protocol']);
    });

    it('belongs to the session: a resumed session starts in it', async () => {
      const state = plant();
      const server = await startServer({ state, autoflushDelay: 0, view: () => [['alarms']], onView: (_c, paths) => paths, sessionTimeout: 60_000 });
      const proxy = await startProxy(server.port);
      const live = reconnectTo(proxy.url(), { backoff: { initial: 10, max: 20, jitter: 0 } });
      await waitFor(() => live.connected && live.state !== null, 'connected');
      await live.setView([['sites', 'north']]);
      assert.deepEqual(live.state, { sites: { north: { p1: 1, p2: 2 } } });
      // A blip: the session resumes in its view, by version.
      proxy.cut();
      await waitFor(() => live.connected && live.resumed, 'resumed');
      state.set(['sites', 'north', 'p2'], 22);
      await waitFor(() => (live.state as any).sites?.north?.p2 === 22, 'the diff');
      assert.deepEqual(live.state, restrict(state.data, [['sites', 'north']]));
    });

    it('a new session starts in view(conn), and reconnect() asks for its view again', async () => {
      const state = plant();
      // maxSessions 0: a session without a connection is forgotten at once.
      const server = await startServer({ state, autoflushDelay: 0, view: () => [['alarms']], onView: (_c, paths) => paths, maxSessions: 0 });
      const proxy = await startProxy(server.port);
      const live = reconnectTo(proxy.url(), { backoff: { initial: 10, max: 20, jitter: 0 } });
      await waitFor(() => live.connected && live.state !== null, 'connected');
      await live.setView([['sites', 'north']]);
      proxy.cut();
      await waitFor(() => live.connected && !live.resumed, 'a new session');
      await waitFor(() => [...server.connections].some((c) => c.view?.[0]?.[0] === 'sites'), 'the view asked again');
      await waitFor(() => JSON.stringify(live.state) === JSON.stringify(restrict(state.data, [['sites', 'north']])), 'the view state');
    });
  });
});
