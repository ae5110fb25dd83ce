/**
 * koa-juggler: a stateful UI-sync server on Koa and ws that speaks the
 * hat-juggler protocol. See README.md for an overview.
 */
export { JugglerError, ProtocolError, InvalidArgumentError } from './errors.js';
export type { JsonValue } from './json.js';
