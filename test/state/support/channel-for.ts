/**
 * StateChannels for unit tests, encoding as the server's do (the framing
 * options are the transport's), all closed by {@link closeChannels}.
 */
import { StateChannel, type StateChannelOptions } from '../../../src/state/state-channel.js';
import type { Storage } from '../../../src/state/storage.js';
import { messageEncoder, type EncodedMessage } from '../../../src/transport/transport.js';

const opened: StateChannel<EncodedMessage>[] = [];

export type ChannelOptions = Partial<StateChannelOptions<EncodedMessage>> & { maxSegmentSize?: number; framing?: 'segmented' | 'plain' };

/** A channel on `storage` (autoflushDelay null unless given), closed by the next {@link closeChannels}. */
export function channelFor(storage: Storage, options: ChannelOptions = {}): StateChannel<EncodedMessage> {
  const { maxSegmentSize = 65536, framing = 'segmented', ...rest } = options;
  const channel = new StateChannel(storage, { autoflushDelay: null, encode: messageEncoder({ maxSegmentSize, framing }), ...rest });
  opened.push(channel);
  return channel;
}

/** Closes every channel made since the last call (an afterEach). */
export function closeChannels(): void {
  for (const channel of opened.splice(0)) channel.close();
}
