import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { brotliCompress, brotliDecompress, constants as zlib, gunzip, gzip } from 'node:zlib';
import type Koa from 'koa';
import { chooseCoding, type ContentCoding } from './accept-encoding.js';

export const CLIENT_BUNDLE_PATH = '/juggler-client.js';

const brotli = promisify(brotliCompress);
const brotliDecode = promisify(brotliDecompress);
const gzipAsync = promisify(gzip);
const gunzipAsync = promisify(gunzip);

/** One encoding of a served file, with its own strong ETag (RFC 9110: each representation has its own). */
interface Representation {
  body: Buffer;
  etag: string;
}

/** A served file in every coding, compressed once when the server starts. */
interface Asset {
  type: string;
  codings: Record<ContentCoding, Representation>;
}

/**
 * Where the browser bundle is: beside the compiled server in dist/, or in
 * the package's dist/ when the server runs from src/ (tests through tsx).
 */
function bundleFile(): string | null {
  const candidates = [
    new URL('../../browser/juggler-client.js', import.meta.url),
    new URL('../../../dist/browser/juggler-client.js', import.meta.url),
  ];
  for (const url of candidates) {
    const path = fileURLToPath(url);
    if (existsSync(path)) return path;
  }
  return null;
}

/**
 * A file's compressed twin as the build wrote it (`.br`, `.gz`), when it
 * still decodes to `raw`; else `raw` compressed here (a file rebuilt by
 * other means, or no twin at all).
 */
async function compressed(path: string, raw: Buffer, coding: 'br' | 'gzip'): Promise<Buffer> {
  const twin = await readFile(path + (coding === 'br' ? '.br' : '.gz')).catch(() => null);
  if (twin !== null) {
    const decoded = await (coding === 'br' ? brotliDecode(twin) : gunzipAsync(twin)).catch(() => null);
    if (decoded !== null && decoded.equals(raw)) return twin;
  }
  return coding === 'br'
    ? brotli(raw, { params: { [zlib.BROTLI_PARAM_QUALITY]: zlib.BROTLI_MAX_QUALITY, [zlib.BROTLI_PARAM_SIZE_HINT]: raw.length } })
    : gzipAsync(raw, { level: zlib.Z_BEST_COMPRESSION });
}

async function loadAsset(path: string, type: string): Promise<Asset> {
  const raw = await readFile(path);
  const [br, gz] = await Promise.all([compressed(path, raw, 'br'), compressed(path, raw, 'gzip')]);
  const tag = createHash('sha256').update(raw).digest('base64url').slice(0, 27);
  return {
    type,
    codings: {
      identity: { body: raw, etag: `"${tag}"` },
      br: { body: br, etag: `"${tag}-br"` },
      gzip: { body: gz, etag: `"${tag}-gz"` },
    },
  };
}

/** The bundle and its source map (null when the build wrote none). */
interface Bundle {
  code: Asset;
  map: Asset | null;
}

async function loadBundle(file: string): Promise<Bundle> {
  const [code, map] = await Promise.all([
    loadAsset(file, 'text/javascript; charset=utf-8'),
    loadAsset(file + '.map', 'application/json; charset=utf-8').catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw err;
    }),
  ]);
  return { code, map };
}

/** Loaded bundles by file, shared by every server of the process and read on first use. */
const loaded = new Map<string, Promise<Bundle>>();

function load(file: string): Promise<Bundle> {
  let bundle = loaded.get(file);
  if (bundle === undefined) {
    bundle = loadBundle(file);
    loaded.set(file, bundle);
    // A failed read (the file being rebuilt) is retried by the next request instead of failing forever.
    bundle.catch(() => loaded.delete(file));
  }
  return bundle;
}

/**
 * Serves the browser build of the client at /juggler-client.js and its
 * source map at /juggler-client.js.map: brotli or gzip when the request's
 * Accept-Encoding allows (compressed by the build, or once per process
 * when the build's files are missing or stale, never per request), with an
 * ETag per encoding, 304 on a matching If-None-Match, and
 * `Vary: Accept-Encoding`.
 */
export function clientBundle(): Koa.Middleware {
  const file = bundleFile();
  return async function clientBundle(ctx, next) {
    const isMap = ctx.path === CLIENT_BUNDLE_PATH + '.map';
    if ((ctx.path !== CLIENT_BUNDLE_PATH && !isMap) || (ctx.method !== 'GET' && ctx.method !== 'HEAD')) return next();
    if (file === null) {
      ctx.status = 404;
      ctx.body = 'the browser client is not built: run npm run build\n';
      return;
    }
    const bundle = await load(file);
    const asset = isMap ? bundle.map : bundle.code;
    if (asset === null) return next();
    const coding = chooseCoding(ctx.get('Accept-Encoding') || undefined);
    const representation = asset.codings[coding];
    ctx.vary('Accept-Encoding');
    ctx.status = 200;
    ctx.set('ETag', representation.etag);
    if (ctx.fresh) {
      ctx.status = 304;
      return;
    }
    ctx.type = asset.type;
    if (coding !== 'identity') ctx.set('Content-Encoding', coding);
    ctx.body = representation.body;
  };
}
