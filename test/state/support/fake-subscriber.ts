/**
 * A StateSubscriber that decodes what it is sent exactly as a client would
 * (frames → reassembled JSON → a `state` message → fast-json-patch in place)
 * and keeps the resulting value, for comparison with the server's.
 */
import fastJsonPatch from 'fast-json-patch';
import type { Operation } from 'fast-json-patch';
import type { JsonValue } from '../../../src/json.js';
import { Reassembler } from '../../../src/transport/framing.js';
import type { EncodedMessage } from '../../../src/transport/transport.js';
import type { StateSubscriber } from '../../../src/state/state-channel.js';

const decoder = new TextDecoder();

export interface StateMessageSeen {
  type: 'state';
  diff: Operation[];
  version?: string;
}

export class FakeSubscriber implements StateSubscriber<EncodedMessage> {
  congested = false;
  value: JsonValue = null;
  version: string | undefined;
  /** State messages received (only counted, not kept, with `decode: false`). */
  readonly messages: StateMessageSeen[] = [];
  /** The frames objects received, to check that many subscribers got the very same ones. */
  readonly frames: EncodedMessage[] = [];
  readonly keepFrames: boolean;
  readonly decode: boolean;
  readonly #framing: 'segmented' | 'plain';
  readonly #reassembler = new Reassembler(Number.MAX_SAFE_INTEGER);

  constructor(
    readonly extension = false,
    options: { framing?: 'segmented' | 'plain'; keepFrames?: boolean; decode?: boolean } = {},
  ) {
    this.#framing = options.framing ?? 'segmented';
    this.keepFrames = options.keepFrames ?? false;
    this.decode = options.decode ?? true;
  }

  sendEncoded(frames: EncodedMessage): void {
    if (this.keepFrames) this.frames.push(frames);
    if (!this.decode) {
      this.messages.length += 1;
      return;
    }
    for (const frame of frames) {
      const text = typeof frame === 'string' ? frame : decoder.decode(frame);
      if (this.#framing === 'plain') {
        this.#receive(text);
        continue;
      }
      const received = this.#reassembler.push(text);
      if (received.kind === 'message') this.#receive(received.text);
    }
  }

  #receive(text: string): void {
    const message = JSON.parse(text) as StateMessageSeen;
    if (message.type !== 'state') throw new Error(`unexpected message ${text}`);
    if ('version' in message !== this.extension) throw new Error(`version ${this.extension ? 'missing' : 'unexpected'}: ${text}`);
    this.messages.push(message);
    // fast-json-patch applies leniently (a replace of a missing key just adds it); check RFC 6902 strictly first.
    const error = fastJsonPatch.validate(message.diff, this.value);
    if (error) throw new Error(`invalid patch ${JSON.stringify(message.diff)} for ${JSON.stringify(this.value)}: ${error.message}`);
    this.value = fastJsonPatch.applyPatch(this.value, message.diff, false, true).newDocument as JsonValue;
    this.version = message.version;
  }
}
