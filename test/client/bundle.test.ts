import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { get as httpGet, request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import * as nodeEntry from '../../src/client/index.js';
import { bundleClient } from '../support/client-bundle.js';
import { startServer } from '../support/server.js';

describe('browser bundle', () => {
  let code: string;
  let inputs: string[];
  before(async function () {
    this.timeout(30000);
    ({ code, inputs } = await bundleClient());
  });

  it('pulls in neither ws nor node:* modules', () => {
    assert.ok(inputs.length > 5);
    const foreign = inputs.filter((input) => !input.startsWith('src/'));
    assert.deepEqual(foreign, []);
    assert.ok(!inputs.some((input) => input.includes('node-socket')));
    assert.doesNotMatch(code, /\bnode:|\brequire\(/);
  });

  it('exports the same names as the Node entry', async () => {
    const bundle = await import(`data:text/javascript;base64,${Buffer.from(code).toString('base64')}`);
    assert.deepEqual(Object.keys(bundle).sort(), Object.keys(nodeEntry).sort());
    assert.equal(typeof bundle.connect, 'function');
    assert.equal(typeof bundle.reconnect, 'function');
    assert.equal(new bundle.JugglerError({ a: 1 }).name, 'JugglerError');
  });
});

/** One GET over node:http, so that nothing decodes the body or adds an Accept-Encoding of its own. */
function get(url: string, headers: Record<string, string> = {}): Promise<{ status: number; headers: IncomingHttpHeaders; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpGet(url, { headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

describe('browser bundle over HTTP', () => {
  const bundleUrl = (server: { port: number }) => `http://127.0.0.1:${server.port}/juggler-client.js`;
  const built = readFileSync(new URL('../../dist/browser/juggler-client.js', import.meta.url));

  it('is minified and points at its source map, which is served too', async () => {
    const server = await startServer();
    const { status, headers, body } = await get(bundleUrl(server));
    assert.equal(status, 200);
    assert.equal(headers['content-encoding'], undefined);
    assert.ok(body.equals(built));
    const text = body.toString('utf8');
    const lines = text.trimEnd().split('\n');
    assert.ok(lines.length <= 3, `a minified bundle has few lines, got ${lines.length}`);
    assert.equal(lines.at(-1), '//# sourceMappingURL=juggler-client.js.map');
    const map = await get(bundleUrl(server) + '.map');
    assert.equal(map.status, 200);
    assert.match(String(map.headers['content-type']), /application\/json/);
    const parsed = JSON.parse(map.body.toString('utf8')) as { version: number; sources: string[]; sourcesContent?: string[] };
    assert.equal(parsed.version, 3);
    assert.ok(parsed.sources.some((source) => source.endsWith('src/client/browser.ts')));
    assert.equal(parsed.sourcesContent?.length, parsed.sources.length);
  });

  it('is sent with brotli or gzip as Accept-Encoding allows, each decoding to the same file', async () => {
    const server = await startServer();
    const cases: [string | undefined, string | undefined][] = [
      ['gzip, deflate, br, zstd', 'br'],
      ['br', 'br'],
      ['gzip', 'gzip'],
      ['br;q=0, gzip', 'gzip'],
      ['gzip;q=1, br;q=0.5', 'gzip'],
      ['*', 'br'],
      ['x-gzip', 'gzip'],
      ['BR;Q=0.9, GZIP', 'gzip'],
      ['*;q=0.5, br;q=0', 'gzip'],
      ['deflate', undefined],
      ['identity;q=0', undefined],
      ['identity', undefined],
      [undefined, undefined],
    ];
    for (const [accept, expected] of cases) {
      const res = await get(bundleUrl(server), accept === undefined ? {} : { 'accept-encoding': accept });
      assert.equal(res.status, 200, String(accept));
      assert.equal(res.headers['content-encoding'], expected, String(accept));
      assert.match(String(res.headers.vary), /accept-encoding/i);
      assert.equal(Number(res.headers['content-length']), res.body.length);
      const decoded = expected === 'br' ? brotliDecompressSync(res.body) : expected === 'gzip' ? gunzipSync(res.body) : res.body;
      assert.ok(decoded.equals(built), `${accept} decodes to the built file`);
    }
  });

  it('has an ETag per encoding and answers a matching If-None-Match with 304', async () => {
    const server = await startServer();
    const plain = await get(bundleUrl(server));
    const br = await get(bundleUrl(server), { 'accept-encoding': 'br' });
    const gz = await get(bundleUrl(server), { 'accept-encoding': 'gzip' });
    const tags = [plain, br, gz].map((res) => res.headers.etag);
    assert.ok(tags.every((tag) => typeof tag === 'string' && /^"[^"]+"$/.test(tag)), String(tags));
    assert.equal(new Set(tags).size, 3);
    assert.equal((await get(bundleUrl(server), { 'if-none-match': tags[0]! })).status, 304);
    const notModified = await get(bundleUrl(server), { 'accept-encoding': 'br', 'if-none-match': `"other", ${tags[1]!}` });
    assert.equal(notModified.status, 304);
    assert.equal(notModified.body.length, 0);
    assert.equal(notModified.headers.etag, tags[1]);
    assert.match(String(notModified.headers.vary), /accept-encoding/i);
    // The gzip tag does not stand for the brotli body, nor an old tag for the current file.
    assert.equal((await get(bundleUrl(server), { 'accept-encoding': 'br', 'if-none-match': tags[2]! })).status, 200);
    assert.equal((await get(bundleUrl(server), { 'if-none-match': '"stale"' })).status, 200);
  });

  it('is compressed well: brotli under a third of the file, gzip under 40 %', async () => {
    const server = await startServer();
    const br = await get(bundleUrl(server), { 'accept-encoding': 'br' });
    const gz = await get(bundleUrl(server), { 'accept-encoding': 'gzip' });
    assert.ok(br.body.length < built.length / 3, `brotli ${br.body.length} B of ${built.length} B`);
    assert.ok(gz.body.length < built.length * 0.4, `gzip ${gz.body.length} B of ${built.length} B`);
    assert.ok(br.body.length < gz.body.length);
  });

  it('answers HEAD with the headers of GET and no body', async () => {
    const server = await startServer();
    const head = await new Promise<{ status: number; headers: IncomingHttpHeaders }>((resolve, reject) => {
      const req = httpRequest(bundleUrl(server), { method: 'HEAD', headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers }));
      });
      req.on('error', reject);
      req.end();
    });
    const get200 = await get(bundleUrl(server), { 'accept-encoding': 'gzip' });
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-encoding'], 'gzip');
    assert.equal(head.headers.etag, get200.headers.etag);
    assert.equal(Number(head.headers['content-length']), get200.body.length);
  });
});
