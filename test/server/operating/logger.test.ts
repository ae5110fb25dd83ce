/** `logger`: the server's own logs through a pino-compatible logger; the JSON-lines and text loggers. */
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { InvalidArgumentError, jsonLinesLogger, listen, textLogger } from '../../../src/index.js';
import { onCleanup } from '../../support/cleanup.js';
import { waitFor } from '../../support/wait.js';

describe('logger', () => {
  it('gets the default onError reports, fields first, message after', async () => {
    const calls: { level: string; fields: Record<string, unknown>; msg: string | undefined }[] = [];
    const record = (level: string) => (fields: object, msg?: string) => void calls.push({ level, fields: fields as Record<string, unknown>, msg });
    const server = await listen({ port: 0, logger: { info: record('info'), warn: record('warn'), error: record('error') } });
    onCleanup(() => server.close());
    const ws = new WebSocket(`ws://127.0.0.1:${server.port}/ws`);
    onCleanup(() => ws.terminate());
    await new Promise((resolve) => ws.once('open', resolve));
    ws.send(Buffer.from([1, 2, 3]), { binary: true });
    await waitFor(() => calls.length > 0, 'a protocol error logged');
    const [call] = calls;
    assert.equal(call!.level, 'error');
    assert.equal(call!.fields.kind, 'protocol');
    assert.equal(call!.fields.remote, '127.0.0.1');
    assert.ok(call!.fields.err instanceof Error);
    assert.match(call!.msg!, /^protocol error \[127\.0\.0\.1\]: /);
  });

  it('rejects something that is not a logger, naming the option', async () => {
    await assert.rejects(listen({ port: 0, logger: { info() {} } as never }), (err: unknown) => err instanceof InvalidArgumentError && /options\.logger/.test(err.message));
  });

  it('jsonLinesLogger writes pino-shaped lines, errors as objects, and survives fields JSON cannot carry', () => {
    const lines: string[] = [];
    const logger = jsonLinesLogger((line) => lines.push(line));
    logger.info({ port: 8080 }, 'listening');
    logger.error({ err: new TypeError('bad') }, 'failed');
    const cycle: Record<string, unknown> = {};
    cycle.self = cycle;
    logger.warn({ cycle, n: 1n, ok: true });
    const [a, b, c] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    assert.equal(a!.level, 30);
    assert.equal(a!.port, 8080);
    assert.equal(a!.msg, 'listening');
    assert.equal(b!.level, 50);
    assert.deepEqual({ ...(b!.err as object), stack: undefined }, { type: 'TypeError', message: 'bad', stack: undefined });
    assert.equal(c!.level, 40);
    assert.equal(c!.cycle, '[object Object]');
    assert.equal(c!.n, '1');
    assert.equal(c!.ok, true);
    assert.equal('msg' in c!, false);
  });

  it('textLogger writes info as it is and warnings and errors prefixed', () => {
    const out: string[] = [];
    const err: string[] = [];
    const logger = textLogger({ out: (l) => out.push(l), err: (l) => err.push(l) });
    logger.info({ url: 'x' }, 'listening on x');
    logger.error({}, 'handler error: boom');
    logger.warn({}, 'careful');
    assert.deepEqual(out, ['listening on x']);
    assert.deepEqual(err, ['koa-juggler: handler error: boom', 'koa-juggler: careful']);
  });
});
