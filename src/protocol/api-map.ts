/**
 * The API map: one TypeScript declaration of what a koa-juggler
 * application speaks (its state, requests, notifications and streams),
 * which `listen<Api>()`, `connect<Api>()` and `reconnect<Api>()` take so
 * that both sides are checked against the same names and types, with no
 * code generation (README, "Types"). Types only: nothing here exists at
 * run time.
 *
 * Every part is optional; a part left out is untyped (any name, `JsonValue`
 * data), so an application can type its state first and its requests
 * later. The default, {@link UntypedApi}, is what untyped code gets.
 */
import type { JsonValue } from '../json.js';

/**
 * The shape an API map has. Declare yours as an interface:
 *
 * @example
 * interface PlantApi {
 *   state: { pumps: Record<string, { rpm: number; on: boolean }> };
 *   // client → server, answered: data in, result out
 *   requests: { setRpm: { data: { pump: string; rpm: number }; result: number } };
 *   // server → client (conn.notify, server.broadcast, the client's onNotify): name → data
 *   notifies: { alarm: { pump: string; text: string } };
 *   // client → server, one-way (client.notify, the server's onNotify): name → data
 *   clientNotifies: { ack: { id: string } };
 *   // client.stream(name, data): `item` the server sends, `clientItem` the client sends
 *   streams: { trend: { data: { pump: string }; item: number } };
 * }
 */
export interface ApiMap {
  /** The shared state's type (the server's `Storage<T>`, the client's `state`). */
  state?: unknown;
  /** Requests by name: `data` the client sends, `result` the server answers. */
  requests?: object;
  /** Server-to-client notifications by name: the data they carry. */
  notifies?: object;
  /** Client-to-server notifications by name: the data they carry. */
  clientNotifies?: object;
  /** Streams by name: `data` opens the call, `item` is what the server sends, `clientItem` what the client sends. */
  streams?: object;
}

/** The API map untyped code gets: any name, `JsonValue` everywhere. */
export interface UntypedApi {
  /** Any JSON state. */
  state: JsonValue;
  /** Any request name, JSON data and result. */
  requests: { [name: string]: { data: JsonValue; result: JsonValue } };
  /** Any server-to-client notification. */
  notifies: { [name: string]: JsonValue };
  /** Any client-to-server notification. */
  clientNotifies: { [name: string]: JsonValue };
  /** Any stream, JSON items both ways. */
  streams: { [name: string]: { data: JsonValue; item: JsonValue; clientItem: JsonValue } };
}

/** A part of the map `A` (`'requests'`, ...), or the untyped part when `A` leaves it out. */
export type ApiPart<A, K extends keyof UntypedApi> = A extends { [P in K]: infer V } ? V : UntypedApi[K];
/** A member of an entry of the map (`'data'`, `'result'`, ...), or `JsonValue` when the entry leaves it out. */
export type ApiEntryMember<E, K extends string> = E extends { [P in K]: infer V } ? V : JsonValue;

/** The state's type in `A`. */
export type StateOf<A> = ApiPart<A, 'state'>;
/** The request names in `A`. */
export type RequestName<A> = Extract<keyof ApiPart<A, 'requests'>, string>;
/** The data a request `N` of `A` carries. */
export type RequestData<A, N extends string> = ApiEntryMember<ApiPart<A, 'requests'>[N & keyof ApiPart<A, 'requests'>], 'data'>;
/** What the server answers to a request `N` of `A`. */
export type RequestResult<A, N extends string> = ApiEntryMember<ApiPart<A, 'requests'>[N & keyof ApiPart<A, 'requests'>], 'result'>;
/** The server-to-client notification names in `A`. */
export type NotifyName<A> = Extract<keyof ApiPart<A, 'notifies'>, string>;
/** The data a server-to-client notification `N` of `A` carries. */
export type NotifyData<A, N extends string> = ApiPart<A, 'notifies'>[N & keyof ApiPart<A, 'notifies'>];
/** The client-to-server notification names in `A`. */
export type ClientNotifyName<A> = Extract<keyof ApiPart<A, 'clientNotifies'>, string>;
/** The data a client-to-server notification `N` of `A` carries. */
export type ClientNotifyData<A, N extends string> = ApiPart<A, 'clientNotifies'>[N & keyof ApiPart<A, 'clientNotifies'>];
/** The stream names in `A`. */
export type StreamName<A> = Extract<keyof ApiPart<A, 'streams'>, string>;
/** The data that opens a stream `N` of `A`. */
export type StreamData<A, N extends string> = ApiEntryMember<ApiPart<A, 'streams'>[N & keyof ApiPart<A, 'streams'>], 'data'>;
/** The items the server sends on a stream `N` of `A`. */
export type StreamItem<A, N extends string> = ApiEntryMember<ApiPart<A, 'streams'>[N & keyof ApiPart<A, 'streams'>], 'item'>;
/** The items the client sends on a stream `N` of `A`. */
export type StreamClientItem<A, N extends string> = ApiEntryMember<ApiPart<A, 'streams'>[N & keyof ApiPart<A, 'streams'>], 'clientItem'>;

/**
 * The arguments a handler of many names gets, as a union of tuples, one per
 * name: checking `name` narrows `data` in the handler's body.
 */
export type NamedArgs<Names extends string, Data extends { [N in Names]: unknown }> = { [N in Names]: [name: N, data: Data[N]] }[Names];

/** `[name, data]` of every request of `A`, as `onRequest` gets them. */
export type RequestArgs<A> = NamedArgs<RequestName<A>, { [N in RequestName<A>]: RequestData<A, N> }>;
/** `[name, data]` of every client-to-server notification of `A`, as the server's `onNotify` gets them. */
export type ClientNotifyArgs<A> = NamedArgs<ClientNotifyName<A>, { [N in ClientNotifyName<A>]: ClientNotifyData<A, N> }>;
/** `[name, data]` of every server-to-client notification of `A`, as the client's `onNotify` gets them. */
export type NotifyArgs<A> = NamedArgs<NotifyName<A>, { [N in NotifyName<A>]: NotifyData<A, N> }>;
/** `[name, data]` of every stream of `A`, as `onStream` gets them. */
export type StreamArgs<A> = NamedArgs<StreamName<A>, { [N in StreamName<A>]: StreamData<A, N> }>;
/** Any result a request of `A` may answer (a single `onRequest` answers them all). */
export type AnyRequestResult<A> = { [N in RequestName<A>]: RequestResult<A, N> }[RequestName<A>];
