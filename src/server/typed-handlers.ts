/**
 * The server's callbacks as the API map types them (README, "Types"):
 * `listen<Api>()` checks `onRequest`, `onNotify` and `onStream` against
 * `Api`. Each handler gets its arguments as a union of `[conn, name, data]`
 * tuples, one per name, so testing `name` narrows `data` in its body (the
 * connection is in each tuple: TypeScript narrows only parameters that all
 * come from one union).
 * Types only; with the default map they are the untyped signatures.
 */
import type { AnyRequestResult, ClientNotifyArgs, RequestArgs, StreamClientItem, StreamData, StreamItem, StreamName } from '../protocol/api-map.js';
import type { Connection } from './connection.js';
import type { ServerCall } from './server-call.js';

/**
 * What `onRequest` may return: a result of one of the map's requests, or
 * `undefined` (sent as `null`) when a result may be `null`.
 */
export type RequestAnswer<Api> = AnyRequestResult<Api> | (null extends AnyRequestResult<Api> ? undefined | void : never);

/**
 * `onRequest` for the API map `Api`.
 *
 * @example
 * const onRequest: RequestHandler<PlantApi> = (conn, name, data) => {
 *   if (name === 'setRpm') return data.rpm; // data: { pump: string; rpm: number }
 *   throw new Error(`unknown request ${name}`);
 * };
 */
export type RequestHandler<Api> = (...args: WithConnection<Api, RequestArgs<Api>>) => RequestAnswer<Api> | Promise<RequestAnswer<Api>>;

/** The server's `onNotify` (client-to-server notifications) for the API map `Api`. */
export type NotifyHandler<Api> = (...args: WithConnection<Api, ClientNotifyArgs<Api>>) => void | Promise<void>;

/** `[conn, name, data, call]` of every stream of `Api`, the call typed by the stream's items. */
export type StreamHandlerArgs<Api> = {
  [N in StreamName<Api>]: [conn: Connection<Api>, name: N, data: StreamData<Api, N>, call: ServerCall<StreamClientItem<Api, N>, StreamItem<Api, N>>];
}[StreamName<Api>];

/** `onStream` for the API map `Api`. */
export type StreamHandler<Api> = (...args: StreamHandlerArgs<Api>) => unknown;

/** Each `[name, data]` tuple of `Args` with the connection in front. */
export type WithConnection<Api, Args> = Args extends [infer N, infer D] ? [conn: Connection<Api>, name: N, data: D] : never;
