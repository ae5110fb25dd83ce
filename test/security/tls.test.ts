/**
 * TLS: wss with our client and a certificate authority made in the test;
 * with `tls.requestCert` and `rejectUnauthorized`, a client that presents
 * no certificate, or one from another authority, is refused, and one with
 * a certificate signed by the server's CA is let in.
 */
import assert from 'node:assert/strict';
import { request as httpsRequest } from 'node:https';
import { connect } from '../../src/client/index.js';
import { ConnectError } from '../../src/errors.js';
import { makePki, type TestPki } from '../support/cert.js';
import { onCleanup } from '../support/cleanup.js';
import { RawClient } from '../support/raw-client.js';
import { startServer } from '../support/server.js';

async function connectTo(url: string, tls: { ca?: string; cert?: string; key?: string }) {
  const client = await connect(url, { tls, onError: () => {} });
  onCleanup(async () => {
    client.close();
    await client.closed;
  });
  return client;
}

/** An HTTPS GET; resolves with the status, or rejects with the TLS error. */
function httpsGet(port: number, options: { ca: string; cert?: string; key?: string }): Promise<number> {
  return new Promise((resolve, reject) => {
    httpsRequest({ host: '127.0.0.1', port, path: '/', ...options }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

describe('TLS', function () {
  this.timeout(20_000);
  let pki: TestPki;
  let otherPki: TestPki;
  before(async () => {
    [pki, otherPki] = await Promise.all([makePki(), makePki()]);
  });

  it('serves wss to our client when it trusts the test CA', async () => {
    const server = await startServer({ tls: { key: pki.key, cert: pki.cert }, onRequest: (_c, _n, data) => data });
    const client = await connectTo(server.url, { ca: pki.ca });
    assert.equal(await client.send('echo', 'over tls'), 'over tls');
  });

  it('is refused by our client when the server certificate is not trusted', async () => {
    const server = await startServer({ tls: { key: pki.key, cert: pki.cert } });
    await assert.rejects(connectTo(server.url, {}), (err) => err instanceof ConnectError && err.kind === 'tls');
    await assert.rejects(connectTo(server.url, { ca: otherPki.ca }), (err) => err instanceof ConnectError && err.kind === 'tls');
  });

  describe('with requestCert and rejectUnauthorized', () => {
    const mutual = () =>
      startServer({
        tls: { key: pki.key, cert: pki.cert, ca: pki.ca, requestCert: true, rejectUnauthorized: true },
        onRequest: (conn) => conn.remote,
      });

    it('refuses a client that presents no certificate', async () => {
      const server = await mutual();
      await assert.rejects(connectTo(server.url, { ca: pki.ca }), (err) => err instanceof ConnectError && err.kind === 'tls' && /certificate required/.test(err.message));
      await assert.rejects(RawClient.connect(server.url, { ca: pki.ca }));
      await assert.rejects(httpsGet(server.port, { ca: pki.ca }));
      assert.equal([...server.connections].length, 0);
    });

    it('refuses a client certificate signed by another authority', async () => {
      const server = await mutual();
      await assert.rejects(
        connectTo(server.url, { ca: pki.ca, cert: otherPki.clientCert, key: otherPki.clientKey }),
        (err) => err instanceof ConnectError,
      );
      await assert.rejects(httpsGet(server.port, { ca: pki.ca, cert: otherPki.clientCert, key: otherPki.clientKey }));
      assert.equal([...server.connections].length, 0);
    });

    it('accepts a client certificate signed by its CA, on the socket and the HTTP routes', async () => {
      const server = await mutual();
      const client = await connectTo(server.url, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey });
      assert.equal(await client.send('who', null), '127.0.0.1');
      assert.equal(await httpsGet(server.port, { ca: pki.ca, cert: pki.clientCert, key: pki.clientKey }), 302);
    });
  });
});
