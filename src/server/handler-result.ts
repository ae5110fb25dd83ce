/**
 * Turns what a request handler returned or threw into the response's
 * `success` and `data` (README, "Connections": JugglerError data, an
 * Error's message, String(v) for other throws, null for undefined). Nothing here throws,
 * whatever the handler produced: a revoked Proxy breaks even `instanceof`,
 * and a getter can throw anything.
 */
import { JugglerError } from '../errors.js';
import type { JsonValue } from '../json.js';

/** Whether `err` is a JugglerError (false for values that make `instanceof` throw). */
export function isJugglerError(err: unknown): err is JugglerError {
  try {
    return err instanceof JugglerError;
  } catch {
    return false;
  }
}

/** The `data` of a failed response for something a handler threw. */
export function failureData(err: unknown): JsonValue {
  try {
    if (err instanceof JugglerError) return err.data;
    if (err instanceof Error) return err.message;
    return String(err);
  } catch {
    return 'request failed';
  }
}

/** An Error to report for something a handler threw: the error itself, or one describing it. */
export function toError(err: unknown): Error {
  try {
    if (err instanceof Error) return err;
  } catch {
    // A revoked Proxy: describe it below.
  }
  const data = failureData(err);
  return new Error(typeof data === 'string' ? data : 'request failed');
}

/**
 * Encodes a response. A result JSON cannot carry (BigInt, a cycle, a
 * function, a Symbol, a toJSON that throws or returns undefined) becomes a
 * failed response saying so, never a crash and never a response without
 * `data`.
 */
export function encodeResponse(id: number, success: boolean, data: unknown): string {
  let text: string | undefined;
  try {
    text = data === undefined ? 'null' : JSON.stringify(data);
  } catch (err) {
    return failedResponse(id, `result is not JSON: ${String(failureData(err))}`);
  }
  // A function, a Symbol, or a toJSON that returned undefined: JSON.stringify gives no text at all.
  if (text === undefined) return failedResponse(id, 'result is not JSON');
  return `{"type":"response","id":${JSON.stringify(id)},"success":${success},"data":${text}}`;
}

function failedResponse(id: number, message: string): string {
  return JSON.stringify({ type: 'response', id, success: false, data: message });
}
