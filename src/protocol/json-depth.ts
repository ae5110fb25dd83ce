/**
 * The nesting bound checked on every incoming message before `JSON.parse`
 * (docs/security.md, "Limits"). V8 parses a message of two million `[`
 * for up to a second before it fails; this check refuses it after
 * `maxJsonDepth + 1` characters. Browser-safe: the client runs it too.
 */
import { ProtocolError } from '../errors.js';
import { CLOSE_POLICY_VIOLATION } from '../transport/close-codes.js';

/** Default nesting bound of a message, the message's own object included. */
export const DEFAULT_MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;

/**
 * The deepest nesting of arrays and objects in JSON `text`, counting the
 * outermost container as 1, and stopping early once `limit` is passed.
 * One linear pass; string contents are skipped with `indexOf`, escapes
 * included, so brackets inside strings never count. Malformed text gets
 * some answer and is left for `JSON.parse` to refuse.
 * @param limit stop scanning once the depth exceeds this (the result is then `limit + 1`)
 */
export function jsonDepth(text: string, limit = Number.MAX_SAFE_INTEGER): number {
  let depth = 0;
  let deepest = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i + 1);
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > deepest) {
        deepest = depth;
        if (deepest > limit) return deepest;
      }
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return deepest;
}

/** The index of the quote closing the string whose contents start at `from` (or the text's end). */
function stringEnd(text: string, from: number): number {
  let i = from;
  for (;;) {
    const quote = text.indexOf('"', i);
    if (quote === -1) return text.length;
    // A quote preceded by an odd run of backslashes is escaped.
    let backslashes = 0;
    for (let j = quote - 1; j >= from && text.charCodeAt(j) === BACKSLASH; j--) backslashes++;
    if ((backslashes & 1) === 0) return quote;
    i = quote + 1;
  }
}

/**
 * Whether `text` holds at most `max` opening brackets, strings included:
 * then it cannot nest deeper than `max`. Most messages pass here, and
 * native `indexOf` finds a few brackets about six times faster than
 * {@link jsonDepth} walks a short message (docs/benchmarks.md,
 * "request-response"); a message with more brackets costs at most
 * `max + 1` extra calls before the full scan.
 */
function fewOpeners(text: string, max: number): boolean {
  let n = 0;
  for (let i = text.indexOf('{'); i !== -1; i = text.indexOf('{', i + 1)) if (++n > max) return false;
  for (let i = text.indexOf('['); i !== -1; i = text.indexOf('[', i + 1)) if (++n > max) return false;
  return true;
}

/**
 * Refuses a message nested deeper than `maxDepth`, before anything parses it.
 * Text shorter than `maxDepth + 1` characters cannot be that deep and is not scanned.
 * @throws ProtocolError with close code 1008 (policy violation) naming the bound
 * @example
 * checkJsonDepth(text, 64); // then JSON.parse(text)
 */
export function checkJsonDepth(text: string, maxDepth: number): void {
  if (text.length <= maxDepth || fewOpeners(text, maxDepth)) return;
  if (jsonDepth(text, maxDepth) > maxDepth) {
    throw new ProtocolError(`message nested deeper than maxJsonDepth (${maxDepth})`, {
      code: 'ERR_JSON_TOO_DEEP',
      closeCode: CLOSE_POLICY_VIOLATION,
    });
  }
}
