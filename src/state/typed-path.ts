/**
 * Typed paths into a storage's value: which paths TypeScript accepts for a
 * `Storage<T>` and what type lives at each (README, "Types"). Types only:
 * this file compiles to nothing, so typing a storage costs nothing at run
 * time.
 *
 * A path is checked while TypeScript can follow it: a literal tuple of
 * keys and indexes (or a bare key) up to {@link TypedPathDepth} steps
 * deep into a value whose type is known. Past that depth, into a part
 * typed `JsonValue`, or for a path built at run time (a `string[]`), the
 * path is any {@link Path} and its value is `JsonValue`: the checks stop
 * where the types do, rather than refusing code that is right.
 */
import type { JsonValue } from '../json.js';
import type { Path, PathSegment } from './path.js';

/** How many steps of a path TypeScript checks; deeper steps are any {@link PathSegment}. */
export type TypedPathDepth = 6;

// Counting down the steps left: Down[6] is 5, ..., Down[1] is 0 (no typed step left).
type Down = [0, 0, 1, 2, 3, 4, 5];

/**
 * Whether `T` is the untyped form (`JsonValue`, `unknown` or `any`): then
 * every path is allowed and every value is `JsonValue`.
 */
export type IsUntyped<T> = unknown extends T ? true : JsonValue extends T ? true : false;

/** The keys of an object type that a path can step through (string keys only, as JSON has). */
type StepKey<T> = Extract<keyof T, string>;

/**
 * Every path TypeScript can check into `T`, as readonly tuples: `[]` (the
 * root), `['a']`, `['a', 0]`, ... up to `D` steps, after which any steps
 * follow. For an untyped `T`, any {@link Path}.
 *
 * @example
 * type P = TypedPath<{ pumps: { rpm: number }[] }>
 * // readonly [] | readonly ['pumps'] | readonly ['pumps', number] | readonly ['pumps', number, 'rpm']
 */
export type TypedPath<T, D extends number = TypedPathDepth> = IsUntyped<T> extends true
  ? readonly PathSegment[]
  : D extends 0
    ? readonly PathSegment[]
    : readonly [] | TypedStep<NonNullable<T>, D>;

type TypedStep<T, D extends number> = T extends readonly (infer E)[]
  ? readonly [number, ...TypedPath<E, Down[D]>]
  : T extends object
    ? { [K in StepKey<T>]-?: readonly [K, ...TypedPath<T[K], Down[D]>] }[StepKey<T>]
    : never;

/** A bare first step: a key of `T` (or an index when `T` is an array); any step when `T` is untyped. */
export type TypedKey<T> = IsUntyped<T> extends true
  ? PathSegment
  : NonNullable<T> extends readonly unknown[]
    ? number
    : NonNullable<T> extends object
      ? StepKey<NonNullable<T>>
      : never;

/** Whether `P` is a literal path (a tuple or a bare key) that TypeScript can follow. */
export type IsLiteralPath<P> = P extends PathSegment ? true : P extends readonly unknown[] ? (number extends P['length'] ? false : true) : false;

/**
 * The type at path `P` in `T`: `T[P[0]][P[1]]...`; `JsonValue` past an
 * untyped part, past `D` steps, or for a path built at run time.
 *
 * @example
 * type V = ValueAt<{ pumps: { rpm: number }[] }, ['pumps', 0, 'rpm']> // number
 */
export type ValueAt<T, P, D extends number = TypedPathDepth> = IsUntyped<T> extends true
  ? JsonValue
  : IsLiteralPath<P> extends true
    ? P extends PathSegment
      ? Step<T, P>
      : P extends readonly []
        ? T
        : D extends 0
          ? JsonValue
          : P extends readonly [infer H, ...infer R]
            ? ValueAt<Step<T, H>, R, Down[D]>
            : JsonValue
    : JsonValue;

// One step; a union (an optional part, `X | null`) is stepped through member by member.
type Step<T, K> = IsUntyped<T> extends true
  ? JsonValue
  : T extends readonly (infer E)[]
    ? K extends number ? E : never
    : T extends object
      ? K extends keyof T ? T[K] : never
      : never;

/** A path accepted by a `Storage<T>` whose steps are checked when it is literal; see {@link StoragePath}. */
export type CheckedPath<T, P> = IsLiteralPath<P> extends true ? (P extends TypedPath<T> | TypedKey<T> ? P : TypedPath<T> | TypedKey<T>) : Path;
