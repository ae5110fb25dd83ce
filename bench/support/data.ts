/**
 * The states the benchmarks use, built deterministically so that ours and
 * the reference (and every process) hold exactly the same value.
 */
import type { JsonValue } from './lib.js';

type JsonObject = { [key: string]: JsonValue };

/** One measurement point of a plant, ~145 bytes of JSON. */
export function point(i: number): JsonObject {
  return {
    value: Math.round(((i * 7919) % 100_000) / 7) / 100,
    quality: 'good',
    timestamp: 1_700_000_000_000 + i,
    unit: 'kPa',
    label: `Pump ${Math.floor(i / 100)} discharge pressure ${i % 100}`,
    limits: { lo: 1, hi: 9 },
  };
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Key of group `g` and point `p` in the two-level shape. */
export const groupKey = (g: number): string => 'g' + pad(g, 3);
export const pointKey = (p: number): string => 'p' + pad(p, 5);

/** `{ g000: { p00000: point, ... }, ... }`: `groups` × `perGroup` points, two levels deep. */
export function twoLevel(groups: number, perGroup: number): JsonObject {
  const root: JsonObject = {};
  for (let g = 0; g < groups; g++) {
    const group: JsonObject = {};
    for (let p = 0; p < perGroup; p++) group[pointKey(p)] = point(g * perGroup + p);
    root[groupKey(g)] = group;
  }
  return root;
}

/** `{ p00000: point, ... }`: one flat object of `count` points. */
export function flat(count: number): JsonObject {
  const root: JsonObject = {};
  for (let i = 0; i < count; i++) root[pointKey(i)] = point(i);
  return root;
}

/** 261 × 261 = 68,121 points: about 10 MB of JSON (10.0 MB). */
export const BIG_SIDE = 261;
/** 3 × 3 = 9 points: about 1 KB of JSON (1.3 KB; the flat variant has 9 keys). */
export const SMALL_SIDE = 3;

export function jsonSize(value: JsonValue): number {
  return Buffer.byteLength(JSON.stringify(value));
}
