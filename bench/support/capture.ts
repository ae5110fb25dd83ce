/**
 * Wrappers a bench server process installs to see what the public API does
 * not show: the `ws` sockets our server accepted, the StateChannels it made
 * (for their work counters) and when socket writes complete. They wrap
 * prototypes in the bench process only; nothing in src/ is changed. Every
 * wrapper is installed for ours and the reference alike where both go
 * through it, so both pay the same small toll.
 */
import WebSocket, { WebSocketServer } from 'ws';
import { StateChannel, type StateChannelStats } from './lib.js';
import { now } from './stats.js';

/** Every WebSocket any WebSocketServer in this process accepts from now on, in order. */
export function captureSockets(): WebSocket[] {
  const sockets: WebSocket[] = [];
  const original = WebSocketServer.prototype.handleUpgrade;
  WebSocketServer.prototype.handleUpgrade = function (this: WebSocketServer, req, socket, head, callback) {
    return original.call(this, req, socket, head, (ws, request) => {
      sockets.push(ws);
      ws.once('close', () => {
        const i = sockets.indexOf(ws);
        if (i >= 0) sockets.splice(i, 1);
      });
      callback(ws, request);
    });
  } as typeof original;
  return sockets;
}

/**
 * Every StateChannel that gets a subscriber from now on (the server's shared
 * channel is private; its `stats` are what the issue asks to report). Until
 * the server exposes them, this is how a bench reaches them.
 */
export function captureStateChannels(): Set<StateChannel> {
  const channels = new Set<StateChannel>();
  const original = StateChannel.prototype.join;
  StateChannel.prototype.join = function (this: StateChannel, ...args: Parameters<typeof original>) {
    channels.add(this);
    return original.apply(this, args);
  };
  return channels;
}

export function sumStats(channels: Iterable<StateChannel>): StateChannelStats {
  const total: StateChannelStats = { flushes: 0, diffsComputed: 0, messagesEncoded: 0, wholeValueEncodings: 0, wholeValueLength: 0 };
  for (const channel of channels) {
    for (const key of Object.keys(total) as (keyof StateChannelStats)[]) total[key] += channel.stats[key] ?? 0;
  }
  return total;
}

type SendCallback = (err?: Error) => void;

/**
 * Times socket writes: after `arm(n)`, the next `n` calls of
 * `WebSocket#send` get their completion callback observed (wrapping the
 * caller's, or adding one when the caller passed none), and the returned
 * promise resolves with the monotonic time the n-th one fired.
 */
export function trackWrites(): { arm(expected: number, timeout?: number): Promise<number> } {
  let armed: { left: number; callbacks: number; expected: number; last: number; resolve(t: number): void } | null = null;
  const original = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, data: unknown, options?: unknown, cb?: unknown) {
    const run = armed;
    if (run === null || run.left === 0) return original.call(this, data as never, options as never, cb as never);
    if (typeof options === 'function') {
      cb = options;
      options = {};
    }
    run.left -= 1;
    const callback = cb as SendCallback | undefined;
    return original.call(this, data as never, (options ?? {}) as never, (err?: Error) => {
      run.callbacks += 1;
      run.last = now();
      if (run.callbacks === run.expected) {
        if (armed === run) armed = null;
        run.resolve(run.last);
      }
      callback?.(err);
    });
  } as typeof original;
  return {
    arm(expected, timeout = 60_000) {
      return new Promise<number>((resolve, reject) => {
        const timer = setTimeout(() => {
          armed = null;
          reject(new Error(`only ${run.callbacks} of ${expected} writes completed within ${timeout} ms`));
        }, timeout);
        const run = {
          left: expected,
          callbacks: 0,
          expected,
          last: 0,
          resolve: (t: number) => {
            clearTimeout(timer);
            resolve(t);
          },
        };
        armed = run;
      });
    },
  };
}
