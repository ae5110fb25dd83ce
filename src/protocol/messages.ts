/**
 * The juggler user-layer messages (docs/protocol.md, "Messages" and
 * "The extension koa-juggler.v1") as one discriminated union per
 * direction, with builders for what we send and one validator per
 * direction that turns parsed JSON into a typed message or throws a
 * ProtocolError saying what was wrong.
 */
import { ProtocolError } from '../errors.js';
import { isPlainObject, type JsonValue } from '../json.js';
import { checkJsonDepth, DEFAULT_MAX_JSON_DEPTH } from './json-depth.js';
import type { Patch } from '../state/patch.js';

/** The WebSocket subprotocol that switches on the koa-juggler.v1 extension. */
export const EXTENSION_PROTOCOL = 'koa-juggler.v1';
/** Longest idempotency key accepted (docs/protocol.md, "Idempotent retry"). */
export const MAX_KEY_LENGTH = 256;

export interface RequestMessage { type: 'request'; id: number; name: string; data: JsonValue; key?: string }
export interface ClientNotifyMessage { type: 'notify'; name: string; data: JsonValue }
export interface HelloMessage { type: 'hello'; session: string | null; version: string | null }
export interface StreamOpenMessage { type: 'stream-open'; id: number; name: string; data: JsonValue }
export interface StreamDataMessage { type: 'stream-data'; id: number; data: JsonValue }
export interface StreamEndMessage { type: 'stream-end'; id: number }
export interface StreamErrorMessage { type: 'stream-error'; id: number; data: JsonValue }
export interface StreamCreditMessage { type: 'stream-credit'; id: number; n: number }
/** Asks for a view (docs/protocol.md, "Views"): answered by a `response` with this id. */
export interface ViewMessage { type: 'view'; id: number; paths: string[][] }

export interface ResponseMessage { type: 'response'; id: number; success: boolean; data: JsonValue }
export interface StateMessage { type: 'state'; diff: Patch; version?: string }
export interface NotifyMessage { type: 'notify'; name: string; data: JsonValue }
export interface WelcomeMessage { type: 'welcome'; session: string; resumed: boolean; streamWindow: number }
/** Whether the state the client holds may be behind (docs/protocol.md, "Status"). */
export interface StatusMessage { type: 'status'; stale: boolean }

export type StreamMessage = StreamDataMessage | StreamEndMessage | StreamErrorMessage | StreamCreditMessage;
/** What a client may send. Only `request` is allowed without the extension. */
export type ClientMessage = RequestMessage | ClientNotifyMessage | HelloMessage | StreamOpenMessage | StreamMessage | ViewMessage;
/** What a server may send. `welcome`, `status` and `stream-*` only with the extension. */
export type ServerMessage = ResponseMessage | StateMessage | NotifyMessage | WelcomeMessage | StatusMessage | StreamMessage;

type Fields = Record<string, unknown>;

function fail(message: string): never {
  throw new ProtocolError(message);
}

function parseObject(text: string, maxJsonDepth: number): Fields {
  checkJsonDepth(text, maxJsonDepth);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    fail(`invalid JSON: ${(err as Error).message}`);
  }
  if (!isPlainObject(value)) fail(`message is not a JSON object (got ${Array.isArray(value) ? 'an array' : value === null ? 'null' : typeof value})`);
  return value;
}

function id(m: Fields): number {
  const v = m.id;
  if (typeof v !== 'number') fail(`${m.type} id must be an integer (got ${v === undefined ? 'none' : typeof v})`);
  if (!Number.isSafeInteger(v)) fail(`${m.type} id must be a safe integer (got ${v})`);
  return v;
}

function str(m: Fields, field: string): string {
  const v = m[field];
  if (typeof v !== 'string') fail(`${m.type} ${field} must be a string (got ${v === undefined ? 'none' : v === null ? 'null' : typeof v})`);
  return v;
}

function optStr(m: Fields, field: string): string | null {
  const v = m[field];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'string') fail(`${m.type} ${field} must be a string or absent (got ${typeof v})`);
  return v;
}

function data(m: Fields): JsonValue {
  if (!('data' in m)) fail(`${m.type} needs a data field`);
  return m.data as JsonValue;
}

function bool(m: Fields, field: string): boolean {
  const v = m[field];
  if (typeof v !== 'boolean') fail(`${m.type} ${field} must be a boolean`);
  return v;
}

function positive(m: Fields, field: string): number {
  const v = m[field];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v <= 0) fail(`${m.type} ${field} must be a positive safe integer`);
  return v;
}

function typeOf(m: Fields): string {
  const t = m.type;
  if (typeof t !== 'string') fail(t === undefined ? 'message has no type' : 'message type must be a string');
  return t;
}

function streamMessage(m: Fields, type: string): StreamMessage | undefined {
  switch (type) {
    case 'stream-data': return { type, id: id(m), data: data(m) };
    case 'stream-end': return { type, id: id(m) };
    case 'stream-error': return { type, id: id(m), data: data(m) };
    case 'stream-credit': return { type, id: id(m), n: positive(m, 'n') };
  }
  return undefined;
}

/**
 * Parses and validates one message from a client.
 * @param extension whether koa-juggler.v1 was negotiated; without it only `request` is valid
 * @param maxJsonDepth deepest nesting accepted, the message's own object included
 * @throws ProtocolError (close code 1002; 1008 past `maxJsonDepth`) naming what was wrong
 */
export function parseClientMessage(text: string, extension: boolean, maxJsonDepth = DEFAULT_MAX_JSON_DEPTH): ClientMessage {
  const m = parseObject(text, maxJsonDepth);
  const type = typeOf(m);
  if (type === 'request') {
    const msg: RequestMessage = { type, id: id(m), name: str(m, 'name'), data: data(m) };
    if (extension) {
      const key = optStr(m, 'key');
      if (key !== null) {
        if (key.length > MAX_KEY_LENGTH) fail(`request key longer than ${MAX_KEY_LENGTH} characters`);
        msg.key = key;
      }
    }
    return msg;
  }
  if (!extension) fail(`unknown message type ${JSON.stringify(type)} (only "request" without the koa-juggler.v1 extension)`);
  switch (type) {
    case 'hello': return { type, session: optStr(m, 'session'), version: optStr(m, 'version') };
    case 'notify': return { type, name: str(m, 'name'), data: data(m) };
    case 'stream-open': return { type, id: id(m), name: str(m, 'name'), data: data(m) };
    case 'view': return { type, id: id(m), paths: viewPaths(m) };
  }
  return streamMessage(m, type) ?? fail(`unknown message type ${JSON.stringify(type)}`);
}

/** A view's paths: arrays of object keys (a view never steps through an array index). */
function viewPaths(m: Fields): string[][] {
  const paths = m.paths;
  const valid = Array.isArray(paths) && paths.every((path) => Array.isArray(path) && path.every((step) => typeof step === 'string'));
  if (!valid) fail('view paths must be an array of arrays of strings (object keys)');
  return paths as string[][];
}

/**
 * Parses and validates one message from a server.
 * @param maxJsonDepth deepest nesting accepted, the message's own object included
 * @throws ProtocolError naming what was wrong (close code 1008 past `maxJsonDepth`)
 */
export function parseServerMessage(text: string, extension: boolean, maxJsonDepth = DEFAULT_MAX_JSON_DEPTH): ServerMessage {
  const m = parseObject(text, maxJsonDepth);
  const type = typeOf(m);
  switch (type) {
    case 'response': return { type, id: id(m), success: bool(m, 'success'), data: data(m) };
    case 'notify': return { type, name: str(m, 'name'), data: data(m) };
    case 'state': {
      if (!Array.isArray(m.diff)) fail('state diff must be an array');
      const msg: StateMessage = { type, diff: m.diff as Patch };
      const version = optStr(m, 'version');
      if (version !== null) msg.version = version;
      return msg;
    }
  }
  if (!extension) fail(`unknown message type ${JSON.stringify(type)}`);
  if (type === 'welcome') {
    return { type, session: str(m, 'session'), resumed: bool(m, 'resumed'), streamWindow: positive(m, 'streamWindow') };
  }
  if (type === 'status') return { type, stale: bool(m, 'stale') };
  return streamMessage(m, type) ?? fail(`unknown message type ${JSON.stringify(type)}`);
}
