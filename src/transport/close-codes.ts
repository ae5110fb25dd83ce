/** WebSocket close codes used by the juggler protocol (docs/protocol.md, "Close codes and HTTP answers"). */
export const CLOSE_NORMAL = 1000;
export const CLOSE_GOING_AWAY = 1001;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_UNSUPPORTED_DATA = 1003;
/** Not sent on the wire: what a socket reports when it ended without a close frame. */
export const CLOSE_ABNORMAL = 1006;
export const CLOSE_INVALID_PAYLOAD = 1007;
/** Policy violation: a message nested deeper than `maxJsonDepth`. */
export const CLOSE_POLICY_VIOLATION = 1008;
export const CLOSE_MESSAGE_TOO_BIG = 1009;
export const CLOSE_INTERNAL_ERROR = 1011;
/** Service Restart: the server drains; clients go to another node at once. */
export const CLOSE_SERVICE_RESTART = 1012;

/** Whether `code` may be passed to `close()` by an application (1000 or 4000–4999). */
export function isApplicationCloseCode(code: number): boolean {
  return code === CLOSE_NORMAL || (Number.isInteger(code) && code >= 4000 && code <= 4999);
}

/** A close reason must fit in a control frame: 123 bytes of UTF-8. Cut on a character boundary. */
export function clampReason(reason: string): string {
  if (reason.length <= 40) return reason;
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= 123) return reason;
  let text = new TextDecoder().decode(bytes.subarray(0, 120));
  if (text.endsWith('\uFFFD')) text = text.slice(0, -1);
  return text + '...';
}
