/**
 * Markers for secrecy tests: every string written into a state says where
 * it was written, so a frame can be checked for anything from outside a view.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { JsonValue } from '../../../src/json.js';

/** Random JSON whose strings are all "S" (replaced by markers before use). */
export function jsonValue(key: fc.Arbitrary<string>): fc.Arbitrary<JsonValue> {
  const leaf = fc.oneof(fc.integer({ min: 0, max: 9 }), fc.constant('S'), fc.constant(null));
  return fc.letrec<{ v: JsonValue }>((tie) => ({
    v: fc.oneof({ depthSize: 'small' }, leaf, fc.dictionary(key, tie('v'), { maxKeys: 3 }), fc.array(tie('v'), { maxLength: 2 })),
  })).v;
}

/** A copy of `value` whose every string says where it was written: `M/<path>` (array indexes as numbers). */
export function marked(value: JsonValue, at: readonly (string | number)[]): JsonValue {
  if (typeof value === 'string') return 'M/' + at.join('/');
  if (Array.isArray(value)) return value.map((v, i) => marked(v, [...at, i]));
  if (value !== null && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, marked(v, [...at, k])]));
  return value;
}

/** Every marker in `text` was written at or under a path of `view` (view steps are letters, never an index). */
export function assertNoMarkerOutside(text: string, view: readonly (readonly string[])[] | null): void {
  if (view === null) return;
  for (const [marker] of text.matchAll(/M\/[^"]*/g)) {
    const steps = marker.split('/').slice(1).filter((s) => s !== '');
    const inside = view.some((p) => p.length <= steps.length && p.every((step, i) => steps[i] === step));
    assert.ok(inside, `${marker} outside the view ${JSON.stringify(view)} in ${text}`);
  }
}
