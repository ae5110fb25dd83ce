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

/** Counts down the steps left: `PathStepsLeft[6]` is 5, ..., `PathStepsLeft[1]` is 0 (no typed step left). */
export type PathStepsLeft = [0, 0, 1, 2, 3, 4, 5];

/**
 * Whether `T` is the untyped form (`JsonValue`, `unknown` or `any`): then
 * every path is allowed and every value is `JsonValue`.
 */
export type IsUntyped<T> = unknown extends T ? true : JsonValue extends T ? true : false;

/** The keys of an object type that a path can step through (string keys only, as JSON has). */
export type PathKey<T> = Extract<keyof T, string>;

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
    : readonly [] | TypedPathStep<NonNullable<T>, D>;

/** The typed paths into `T` of at least one step, `D` steps left to check. */
export type TypedPathStep<T, D extends number> = T extends readonly (infer E)[]
  ? readonly [number, ...TypedPath<E, PathStepsLeft[D]>]
  : T extends object
    ? { [K in PathKey<T>]-?: readonly [K, ...TypedPath<T[K], PathStepsLeft[D]>] }[PathKey<T>]
    : never;

/** A bare first step: a key of `T` (or an index when `T` is an array); any step when `T` is untyped. */
export type TypedKey<T> = IsUntyped<T> extends true
  ? PathSegment
  : NonNullable<T> extends readonly unknown[]
    ? number
    : NonNullable<T> extends object
      ? PathKey<NonNullable<T>>
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
      ? StepInto<T, P>
      : P extends readonly []
        ? T
        : D extends 0
          ? JsonValue
          : P extends readonly [infer H, ...infer R]
            ? ValueAt<StepInto<T, H>, R, PathStepsLeft[D]>
            : JsonValue
    : JsonValue;

/** The type one step `K` into `T`; a union (an optional part, `X | null`) is stepped through member by member. */
export type StepInto<T, K> = IsUntyped<T> extends true
  ? JsonValue
  : T extends readonly (infer E)[]
    ? K extends number ? E : never
    : T extends object
      ? K extends keyof T ? T[K] : never
      : never;

/** What a `Storage<T>` method takes as `P`: `P` itself when it is a path into `T` or a path built at run time, else the paths that are (so the error names them). */
export type CheckedPath<T, P> = IsLiteralPath<P> extends true ? (P extends TypedPath<T> | TypedKey<T> ? P : TypedPath<T> | TypedKey<T>) : Path;

/**
 * Any {@link Path} on an untyped storage, `never` on a typed one: the first
 * overload of `get`/`set`/`remove`, so that untyped code, paths built at run
 * time (`[...base, 'value']`) included, compiles exactly as before typing
 * existed. (A `const` type parameter infers a spread as a variadic tuple
 * that the argument's own type, `string[]`, then fails to match.)
 */
export type UntypedPath<T> = IsUntyped<T> extends true ? Path : never;
