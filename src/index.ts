/**
 * koa-juggler: a stateful UI-sync server on Koa and ws that speaks the
 * hat-juggler protocol. See README.md for an overview.
 */
export { listen } from './server/listen.js';
export { attach, type AttachOptions } from './server/attach.js';
export { Server } from './server/server.js';
export { Connection } from './server/connection.js';
export type { CloseInfo } from './server/connection-config.js';
export type { ServerCall } from './server/server-call.js';
export type { ListenOptions, ErrorKind, UpgradeRequest } from './server/options.js';
export { Storage } from './state/storage.js';
export type { Path } from './state/path.js';
export type { ViewPath, ViewPaths } from './state/view-paths.js';
export { JugglerError, ProtocolError, InvalidArgumentError } from './errors.js';
export type { JsonValue } from './json.js';
