/**
 * Turns what a request handler returned or threw into the response's
 * `success` and `data` (API.md: JugglerError data, an Error's message,
 * String(v) for other throws, null for undefined).
 */
import { JugglerError } from '../errors.js';
import type { JsonValue } from '../json.js';

/** The `data` of a failed response for something a handler threw. */
export function failureData(err: unknown): JsonValue {
  if (err instanceof JugglerError) return err.data;
  if (err instanceof Error) return err.message;
  try {
    return String(err);
  } catch {
    return 'request failed';
  }
}

/**
 * Encodes a response. A result JSON cannot carry (BigInt, a cycle, a
 * function) becomes a failed response saying so, never a crash.
 */
export function encodeResponse(id: number, success: boolean, data: unknown): string {
  try {
    const text = JSON.stringify({ type: 'response', id, success, data: data === undefined ? null : data });
    // A top-level toJSON returning undefined is the only way to get here.
    if (text !== undefined) return text;
  } catch (err) {
    return JSON.stringify({ type: 'response', id, success: false, data: `result is not JSON: ${(err as Error).message}` });
  }
  return JSON.stringify({ type: 'response', id, success: false, data: 'result is not JSON' });
}
