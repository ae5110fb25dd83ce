/**
 * A well-behaved client that shares a server with an attacker: the proof
 * that a hostile connection hurt nobody else. `check()` asks the server to
 * change the shared state and waits for both the response and the state
 * diff. The server must answer `bump` with `state.set('bump', data)` and
 * return `data` (test/fixtures/server-child.ts does; so does
 * {@link bumpHandler} for in-process servers).
 */
import assert from 'node:assert/strict';
import type { Connection, JsonValue } from '../../src/index.js';
import { applyPatch } from '../../src/state/apply-patch.js';
import { RawClient } from './raw-client.js';
import { waitFor } from './wait.js';

/**
 * An onRequest for in-process servers: `bump` as above, `slow` answers
 * after `data` ms, `hang` never answers, anything else echoes `data`.
 */
export function bumpHandler(conn: Connection, name: string, data: JsonValue): JsonValue | Promise<JsonValue> {
  if (name === 'bump') conn.state.set('bump', data);
  if (name === 'slow') return new Promise((resolve) => setTimeout(() => resolve(data), data as number));
  if (name === 'hang') return new Promise(() => {});
  return data;
}

export class Bystander {
  readonly client: RawClient;
  #applied = 0;
  #state: JsonValue = null;
  #n = 0;

  private constructor(client: RawClient) {
    this.client = client;
  }

  static async join(url: string): Promise<Bystander> {
    return new Bystander(await RawClient.connect(url));
  }

  /** The state as the diffs received so far make it. */
  get state(): JsonValue {
    const messages = this.client.messages;
    for (; this.#applied < messages.length; this.#applied++) {
      const m = messages[this.#applied];
      if (m.type === 'state') this.#state = applyPatch(this.#state, m.diff);
    }
    return this.#state;
  }

  /** A request answered and a state diff received, within `ms`. */
  async check(ms = 5000): Promise<void> {
    const n = ++this.#n;
    const id = 1_000_000 + n;
    this.client.request(id, 'bump', n);
    const response = await this.client.response(id, ms);
    assert.equal(response.data, n, 'the bystander got its answer');
    await waitFor(() => (this.state as { bump?: number } | null)?.bump === n, 'the bystander to get the state diff', ms);
  }
}
