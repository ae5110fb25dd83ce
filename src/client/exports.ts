/** The classes, errors and types both client entries (Node and browser) export. */
export { Client, type ClientStatus, type ChangeListener } from './client.js';
export { ClientCall, type ClientCallEvents } from './client-call.js';
export { ReconnectingClient, type LinkStatus } from './reconnect.js';
export type {
  AuthSource,
  BackoffOptions,
  BasicAuth,
  ConnectOptions,
  ReconnectOptions,
  RequestOptions,
  TlsMaterial,
  TlsOptions,
} from './options.js';
export {
  ConnectError,
  ConnectionClosedError,
  ConnectionLostError,
  ExtensionUnavailableError,
  GaveUpError,
  InternalError,
  InvalidArgumentError,
  JugglerError,
  ProtocolError,
  TimeoutError,
  type ConnectFailure,
} from '../errors.js';
export type { JsonValue } from '../json.js';
// The API map's types (README, "Types"), all of them.
export type * from '../protocol/api-map.js';
export type { CompressionOption } from '../compression-option.js';
export type { Operation, Patch } from '../state/patch.js';
export type { ViewPath, ViewPaths } from '../state/view-paths.js';
