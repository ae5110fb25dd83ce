/**
 * A client asking for a view (docs/protocol.md, "Views"): `onView` is the
 * authorization point and decides what is granted; without it every ask
 * is refused. The view changes at a flush boundary, then the response
 * goes out, so the client has the new view's state when its promise
 * settles.
 */
import type { JsonValue } from '../json.js';
import type { ViewMessage } from '../protocol/messages.js';
import { canonicalView, type ViewPaths } from '../state/view-paths.js';
import { failureData, isJugglerError, toError } from './handler-result.js';

/** What `onView` may return: the paths granted (a subset of those asked, or others). */
export type OnView<C> = (conn: C, paths: string[][]) => ViewPaths | Promise<ViewPaths>;

/** What answering a view request needs of its connection. */
export interface ViewRequestLink<C> {
  readonly conn: C;
  readonly onView: OnView<C> | null;
  /** Whether the connection can still take the view and the answer. */
  isOpen(): boolean;
  /** Switches the connection to the granted view (canonical; null: everything). */
  apply(granted: string[][] | null): void;
  respond(id: number, success: boolean, data: JsonValue): void;
  /** `onView` threw something that is not a JugglerError (reported, as a handler's throw is). */
  handlerError(err: Error): void;
}

/**
 * Answers one `view` message: asks `onView`, applies what it granted,
 * responds with the granted paths (`[[]]` for everything). A refusal, a
 * throw or a bad return value of `onView` is a failed response, and the
 * view stays as it was.
 */
export function answerViewRequest<C>(link: ViewRequestLink<C>, message: ViewMessage): Promise<void> {
  const { id, paths } = message;
  const refuse = (err: unknown): void => {
    if (!isJugglerError(err)) link.handlerError(toError(err));
    if (link.isOpen()) link.respond(id, false, failureData(err));
  };
  const onView = link.onView;
  if (onView === null) {
    if (link.isOpen()) link.respond(id, false, 'this server grants no views (no onView)');
    return Promise.resolve();
  }
  return (async () => {
    let granted: string[][] | null;
    try {
      granted = canonicalView(await onView(link.conn, paths), 'the value onView returned');
    } catch (err) {
      refuse(err);
      return;
    }
    if (!link.isOpen()) return;
    link.apply(granted);
    link.respond(id, true, granted ?? [[]]);
  })();
}
