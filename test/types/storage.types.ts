/**
 * Storage<T>: typed paths and values where TypeScript can follow them, the
 * untyped fallback where it cannot. Compiled by types.test.ts, never run.
 */
import { Storage, type JsonValue, type Path } from '../../src/index.js';
import type { Equal, Expect } from './assert-type.js';

interface Plant {
  pumps: { id: string; rpm: number; on: boolean }[];
  areas: Record<string, { alarms: number }>;
  meta: JsonValue;
  title: string;
  comment?: string | null;
  deep: { a: { b: { c: { d: { e: { f: { g: number } } } } } } };
}

declare const plant: Plant;
const state = new Storage<Plant>(plant);

// Reading: the type at the path, or undefined when nothing is there.
export type Reads = [
  Expect<Equal<typeof state.data, Plant>>,
  Expect<Equal<ReturnType<typeof readRpm>, number | undefined>>,
  Expect<Equal<ReturnType<typeof readTitle>, string | undefined>>,
  Expect<Equal<ReturnType<typeof readRoot>, Plant | undefined>>,
  Expect<Equal<ReturnType<typeof readArea>, { alarms: number } | undefined>>,
  Expect<Equal<ReturnType<typeof readMeta>, JsonValue | undefined>>,
  Expect<Equal<ReturnType<typeof readDeep>, JsonValue | undefined>>,
  Expect<Equal<ReturnType<typeof readRuntime>, JsonValue | undefined>>,
];
const readRpm = () => state.get(['pumps', 0, 'rpm']);
const readTitle = () => state.get('title');
const readRoot = () => state.get();
const readArea = () => state.get(['areas', 'north']);
// Untyped parts and paths past the depth fall back to JsonValue.
const readMeta = () => state.get(['meta', 'anything', 3]);
const readDeep = () => state.get(['deep', 'a', 'b', 'c', 'd', 'e', 'f', 'g']);
declare const runtimePath: string[];
const readRuntime = () => state.get(runtimePath);

// Writing: the value must fit the path.
state.set(['pumps', 2], { id: 'p3', rpm: 0, on: false });
state.set(['pumps', 0, 'on'], true);
state.set(['areas', 'south', 'alarms'], 3);
state.set('title', 'Plant 1');
state.set(['comment'], null);
state.set(['meta', 'x', 0], { free: ['form'] });
state.set(runtimePath, 'anything JSON');
state.remove(['pumps', 0]);
state.remove('comment');
state.onChange((data) => {
  const title: string = data.title;
  void title;
});

// @ts-expect-error a wrong path: no such key
state.get(['pump']);
// @ts-expect-error a wrong path: a string step into an array
state.set(['pumps', 'first', 'rpm'], 1);
// @ts-expect-error a wrong value at the path
state.set(['pumps', 0, 'rpm'], 'fast');
// @ts-expect-error a wrong bare key
state.set('titel', 'Plant 1');
// @ts-expect-error a wrong result use: a number is not a string
const wrongUse: string | undefined = state.get(['pumps', 0, 'rpm']);
void wrongUse;
// @ts-expect-error the initial value must be a Plant
new Storage<Plant>({ pumps: [] });
// @ts-expect-error the listener gets a Plant
state.onChange((data: { other: number }) => data);

// Untyped: exactly as before, any path, JsonValue everywhere.
const loose = new Storage({ count: 0 });
export type Loose = [
  Expect<Equal<typeof loose.data, JsonValue>>,
  Expect<Equal<ReturnType<typeof readLoose>, JsonValue | undefined>>,
];
const readLoose = () => loose.get(['count']);
declare const somePath: Path;
loose.set(['anything', 0, 'goes'], { a: [1, 'b', null] });
loose.set('count', 1);
loose.set(somePath, 2);
loose.remove(somePath);
loose.onChange((data: JsonValue) => data);
// @ts-expect-error untyped is still JSON only
loose.set('when', new Date());

// Untyped storages take paths built at run time, as before typing existed.
const built = new Storage({ points: {} });
const base: string[] = ['points', 'p1'];
built.set([...base, 'value'], 1);
built.get([...base, 'value']);
built.get();
built.remove([...base, 'value']);
const readBuilt = () => built.get([...base, 'value']);
export type Built = [Expect<Equal<ReturnType<typeof readBuilt>, JsonValue | undefined>>];
