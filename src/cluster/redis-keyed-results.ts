/**
 * Keyed results in Redis (docs/cluster.md, "Sessions and keyed requests
 * across nodes"): a keyed request's handler runs at most once per key in
 * the whole cluster. The node that claims a key holds a lease on it, renewed
 * while the handler runs; a repeat on any node gets the stored outcome,
 * waits while the key runs on a live node, and gets `outcome-unknown` once
 * the lease lapsed (its node died or stalled before storing): final, even
 * if that node later finishes.
 */
import { randomBytes } from 'node:crypto';
import type { JsonValue } from '../json.js';
import { failureData } from '../server/handler-result.js';
import type { Outcome } from '../server/keyed-results.js';
import type { KeyedOutcomes } from '../server/session-backend.js';
import type { RedisLink } from './redis-link.js';
import { untilRedis } from './until-redis.js';

/** The format number of keyed records this code writes and reads. */
export const KEYED_FORMAT = '1';

/** What the keyed results of all sessions on a node share. */
export interface KeyedContext {
  link: RedisLink;
  /** The cluster's key prefix, `koa-juggler:<name>:`. */
  prefix: string;
  nodeId: string;
  /** How long a claim holds without renewal (ms). */
  lease: number;
  /** How long an outcome is kept after it settled (ms). */
  ttl: number;
  /** Keys kept per session. */
  maxKeys: number;
  /** Largest outcome kept, in bytes of JSON; a larger one is not kept (a repeat gets `outcome-unknown`). */
  maxResultSize: number;
  /** How long a keyed request waits for Redis (ms). */
  writeTimeout: number;
  /** How often a repeat looks at a key running on another node (ms). */
  poll: number;
  report(err: Error): void;
}

type ClaimReply = ['run'] | ['done', string] | ['running', string] | ['unknown'] | ['format', string];

/** The failed outcome a repeat gets when the node that ran its key died first. */
export function outcomeUnknown(key: string): Outcome {
  return { success: false, data: { code: 'outcome-unknown', key } };
}

function encodeOutcome(outcome: Outcome): string {
  try {
    const text = JSON.stringify({ s: outcome.success, d: outcome.data === undefined ? null : outcome.data });
    if (text !== undefined) return text;
  } catch {
    // Answered to the first caller as 'result is not JSON' (handler-result.ts); a repeat gets the same words.
  }
  return JSON.stringify({ s: false, d: 'result is not JSON' });
}

function decodeOutcome(text: string): Outcome | null {
  try {
    const parsed = JSON.parse(text) as { s?: unknown; d?: JsonValue };
    if (typeof parsed.s === 'boolean') return { success: parsed.s, data: parsed.d ?? null };
  } catch {
    // Reported by the caller.
  }
  return null;
}

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * One session's keyed outcomes in Redis.
 *
 * @example
 * const keyed = new RedisKeyedResults(context, sessionId);
 * const outcome = await keyed.once('r-8f2c', () => run(request));
 */
export class RedisKeyedResults implements KeyedOutcomes {
  readonly #ctx: KeyedContext;
  readonly #sid: string;
  /** Keys this object claimed whose outcome is not stored yet: a repeat here waits without asking Redis. */
  readonly #running = new Map<string, Promise<Outcome>>();

  constructor(context: KeyedContext, sessionId: string) {
    this.#ctx = context;
    this.#sid = sessionId;
  }

  /** See {@link KeyedOutcomes.once}: at most one `run()` per key in the cluster. */
  once(key: string, run: () => Outcome | Promise<Outcome>): Promise<Outcome> {
    const local = this.#running.get(key);
    if (local !== undefined) return local;
    const outcome = this.#resolve(key, run).catch((err: unknown) => {
      const error = err instanceof Error ? err : new Error(String(err));
      this.#ctx.report(error);
      return { success: false, data: failureData(error) };
    });
    this.#running.set(key, outcome);
    void outcome.finally(() => {
      if (this.#running.get(key) === outcome) this.#running.delete(key);
    });
    return outcome;
  }

  async #resolve(key: string, run: () => Outcome | Promise<Outcome>): Promise<Outcome> {
    const ctx = this.#ctx;
    const claim = randomBytes(9).toString('base64url');
    for (;;) {
      const reply = await this.#claim(key, claim);
      switch (reply[0]) {
        case 'run':
          return this.#run(key, claim, run);
        case 'done':
          return decodeOutcome(reply[1]) ?? this.#unreadable(key, 'an outcome that is not JSON');
        case 'unknown':
          return outcomeUnknown(key);
        case 'format':
          return this.#unreadable(key, `format ${reply[1]} (this node reads ${KEYED_FORMAT})`);
        case 'running':
          // Running on a live node (or on this one, for another connection): look again shortly.
          await delay(ctx.poll);
      }
    }
  }

  #claim(key: string, claim: string): Promise<ClaimReply> {
    const { prefix, nodeId, lease, ttl, maxKeys, writeTimeout, link } = this.#ctx;
    const records = `${prefix}k:${this.#sid}:`;
    return untilRedis(link, writeTimeout, `keyed request ${JSON.stringify(key)}`, (c) =>
      c.keyClaim([records + key, `${prefix}ks:${this.#sid}`], [KEYED_FORMAT, nodeId, claim, lease, ttl, maxKeys, key, records]) as Promise<unknown>,
    ) as Promise<ClaimReply>;
  }

  /** Runs the handler under a renewed lease, then stores its outcome for the other nodes. */
  async #run(key: string, claim: string, run: () => Outcome | Promise<Outcome>): Promise<Outcome> {
    const { link, prefix, lease, ttl, writeTimeout, maxResultSize } = this.#ctx;
    const record = `${prefix}k:${this.#sid}:${key}`;
    const renew = setInterval(() => {
      link.run((c) => c.keyRenew([record], [claim, lease, ttl]) as Promise<unknown>).catch(() => {
        // Redis away: the lease may lapse, and the key then ends unknown elsewhere; never run twice.
      });
    }, Math.max(20, Math.floor(lease / 3)));
    renew.unref();
    let outcome: Outcome;
    try {
      outcome = await run();
    } finally {
      clearInterval(renew);
    }
    const text = encodeOutcome(outcome);
    const kept = Buffer.byteLength(text) <= maxResultSize ? text : '';
    // The caller has its outcome whatever becomes of the store: storing is for the repeats.
    untilRedis(link, writeTimeout, `storing keyed request ${JSON.stringify(key)}`, (c) =>
      c.keyStore([record, `${prefix}ks:${this.#sid}`], [claim, kept, ttl, key]) as Promise<unknown>,
    ).catch((err: Error) => this.#ctx.report(err));
    return outcome;
  }

  #unreadable(key: string, what: string): Outcome {
    this.#ctx.report(new Error(`keyed request ${JSON.stringify(key)}: Redis holds ${what}; answered as outcome-unknown`));
    return outcomeUnknown(key);
  }
}
