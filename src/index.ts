/**
 * koa-juggler: a stateful UI-sync server on Koa and ws that speaks the
 * hat-juggler protocol. See README.md for an overview.
 */
export { listen } from './server/listen.js';
export { attach, type AttachOptions } from './server/attach.js';
export { Server } from './server/server.js';
export { Connection } from './server/connection.js';
export type { CloseInfo } from './server/connection-config.js';
export type { SessionSecret } from './server/session-token.js';
export type { ServerCall } from './server/server-call.js';
export type { ListenOptions, AdminAccess, ErrorKind, UpgradeRequest } from './server/options.js';
export type { ServerCluster, ClusterServerHooks } from './server/cluster-hooks.js';
export { Storage, type StorageOptions, type ChangeListener } from './state/storage.js';
export type { ChangeLogOptions } from './state/change-log.js';
export type { Path, PathSegment } from './state/path.js';
export type { CheckedPath, IsLiteralPath, IsUntyped, PathKey, PathStepsLeft, StepInto, TypedKey, TypedPath, TypedPathDepth, TypedPathStep, UntypedPath, ValueAt } from './state/typed-path.js';
// The API map's types (README, "Types"), all of them.
export type * from './protocol/api-map.js';
export type { NotifyHandler, RequestAnswer, RequestHandler, StreamHandler, StreamHandlerArgs, WithConnection } from './server/typed-handlers.js';
export type { Operation, Patch } from './state/patch.js';
export { jsonLinesLogger, textLogger, type Logger, type LineSinks } from './server/logger.js';
export type { DrainOptions } from './server/drain.js';
export type { ReadinessReport } from './server/readiness.js';
export type { CompressionOption } from './compression-option.js';
export type { ViewPath, ViewPaths } from './state/view-paths.js';
export type { OnView } from './server/view-request.js';
export { JugglerError, ProtocolError, InvalidArgumentError } from './errors.js';
export type { JsonValue } from './json.js';
