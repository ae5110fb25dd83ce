/**
 * The server's metrics (`metrics: true`): counters kept as plain numbers
 * where the work happens, and a prom-client {@link Registry} of its own per
 * server (never the global one) whose metrics read them at scrape time.
 * README "Operating it" lists the metrics.
 */
import type { Socket } from 'node:net';
import { Registry } from 'prom-client';
import { HistogramCounts } from './histogram-counts.js';
import { RequestMetrics } from './request-stats.js';
import { histogramSamples, ScrapedMetric, type Sample } from './scraped-metric.js';

/** What the metrics read of one open connection at scrape time. */
export interface MeteredConnection {
  readonly extension: boolean;
  /** Whether its send queue is full (state diffs held back, notify() waiting). */
  readonly congested: boolean;
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly openStreams: number;
}

/** What the metrics read of the server at scrape time. */
export interface MetricsSource {
  /** Sessions held, with or without a connection. */
  sessions(): number;
  /** UTF-16 units of the shared state's last whole-value serialization, or 0 without a shared state. */
  stateLength(): number;
}

/**
 * The gauges a cluster adds (filled by the cluster wiring through
 * {@link ServerMetrics.setClusterSource}); each read at scrape time.
 */
export interface ClusterMetricsSource {
  /** Whether the node's Redis link is up. */
  redisUp(): boolean;
  /** Log entries appended in Redis that this node has not applied yet. */
  logLagEntries(): number;
  /** Writes submitted by this node that Redis has not acknowledged yet. */
  pendingWrites(): number;
}

interface Totals {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
}

/**
 * A server's counters and their registry.
 * @example
 * const metrics = new ServerMetrics();
 * metrics.setSource({ sessions: () => 0, stateLength: () => 0 });
 * metrics.opened(conn, socket); // on accept
 * await metrics.registry.metrics(); // the Prometheus text
 */
export class ServerMetrics {
  /** The registry `GET /metrics` serves; applications may register their own metrics in it. */
  readonly registry = new Registry();
  /** Requests by name (the connections' dispatchers bump these). */
  readonly requests = new RequestMetrics();
  /** State flushes that sent a diff. */
  readonly flushes = new HistogramCounts();
  /** UTF-16 units of the diffs flushed (each diff counted once, however many connections got it). */
  diffLength = 0;
  #source: MetricsSource = { sessions: () => 0, stateLength: () => 0 };
  readonly #open = new Map<MeteredConnection, Socket>();
  readonly #openedByKind = { plain: 0, extension: 0 };
  readonly #closedByCode = new Map<number, number>();
  // Traffic of the connections that have closed; open ones are read live.
  readonly #closed: Totals = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0 };
  #cluster: ClusterMetricsSource | null = null;

  constructor() {
    this.#register();
  }

  /** Where the gauges of the server's own structures are read (the server sets it once it exists). */
  setSource(source: MetricsSource): void {
    this.#source = source;
  }

  /** What a state channel calls after each flush (see StateChannelOptions.onFlushed). */
  readonly onFlushed = (milliseconds: number, diffLength: number): void => {
    this.flushes.observe(milliseconds / 1000);
    this.diffLength += diffLength;
  };

  /** Counts a new connection and keeps its socket to read its bytes. */
  opened(conn: MeteredConnection, socket: Socket): void {
    this.#openedByKind[conn.extension ? 'extension' : 'plain'] += 1;
    this.#open.set(conn, socket);
  }

  /** Counts a closed connection by its close code and keeps its traffic in the totals. */
  closed(conn: MeteredConnection, code: number): void {
    const socket = this.#open.get(conn);
    if (socket === undefined) return;
    this.#open.delete(conn);
    this.#closedByCode.set(code, (this.#closedByCode.get(code) ?? 0) + 1);
    this.#add(this.#closed, conn, socket);
  }

  /**
   * Adds the cluster gauges (`juggler_cluster_redis_up`,
   * `juggler_cluster_log_lag_entries`, `juggler_cluster_pending_writes`);
   * the cluster wiring calls this once. Without it they are not exported.
   */
  setClusterSource(source: ClusterMetricsSource): void {
    const first = this.#cluster === null;
    this.#cluster = source;
    if (!first) return;
    const cluster = (): ClusterMetricsSource => this.#cluster!;
    const gauge = (name: string, help: string, read: () => number): void =>
      void new ScrapedMetric(name, help, 'gauge', () => [{ value: read() }]).register(this.registry);
    gauge('juggler_cluster_redis_up', '1 while the Redis link is up, else 0', () => (cluster().redisUp() ? 1 : 0));
    gauge('juggler_cluster_log_lag_entries', 'Log entries in Redis this node has not applied yet', () => cluster().logLagEntries());
    gauge('juggler_cluster_pending_writes', 'Writes of this node that Redis has not acknowledged yet', () => cluster().pendingWrites());
  }

  #add(totals: Totals, conn: MeteredConnection, socket: Socket): void {
    totals.messagesIn += conn.messagesIn;
    totals.messagesOut += conn.messagesOut;
    totals.bytesIn += socket.bytesRead;
    totals.bytesOut += socket.bytesWritten;
  }

  /** The traffic of every connection so far, open ones included. */
  #traffic(): Totals {
    const totals = { ...this.#closed };
    for (const [conn, socket] of this.#open) this.#add(totals, conn, socket);
    return totals;
  }

  #register(): void {
    const registry = this.registry;
    const add = (name: string, help: string, type: 'counter' | 'gauge' | 'histogram', collect: () => Sample[]): void =>
      void new ScrapedMetric(name, help, type, collect).register(registry);
    const open = (): MeteredConnection[] => [...this.#open.keys()];
    const byKind = (count: (kind: 'plain' | 'extension') => number): Sample[] =>
      (['plain', 'extension'] as const).map((kind) => ({ labels: { kind }, value: count(kind) }));

    add('juggler_connections', 'Open WebSocket connections, by kind (plain or extension)', 'gauge', () => {
      const conns = open();
      const extension = conns.filter((c) => c.extension).length;
      return byKind((kind) => (kind === 'extension' ? extension : conns.length - extension));
    });
    add('juggler_connections_opened_total', 'WebSocket connections accepted, by kind', 'counter', () => byKind((kind) => this.#openedByKind[kind]));
    add('juggler_connections_closed_total', 'WebSocket connections closed, by close code (1006: without a close frame)', 'counter', () =>
      [...this.#closedByCode].map(([code, value]) => ({ labels: { code: String(code) }, value })),
    );
    add('juggler_connections_held_back', 'Open connections whose send queue is full (state diffs held back until it drains)', 'gauge', () => [
      { value: open().filter((c) => c.congested).length },
    ]);
    add('juggler_messages_received_total', 'Juggler messages received (pings aside)', 'counter', () => [{ value: this.#traffic().messagesIn }]);
    add('juggler_messages_sent_total', 'Juggler messages sent (pings aside)', 'counter', () => [{ value: this.#traffic().messagesOut }]);
    add('juggler_received_bytes_total', 'Bytes read from WebSocket sockets (framing and the upgrade request included)', 'counter', () => [
      { value: this.#traffic().bytesIn },
    ]);
    add('juggler_sent_bytes_total', 'Bytes written to WebSocket sockets (framing and the upgrade answer included)', 'counter', () => [
      { value: this.#traffic().bytesOut },
    ]);
    add('juggler_requests_total', 'Requests answered, by name (the first 100 names; later ones count as "other")', 'counter', () =>
      [...this.requests.entries()].map(([name, s]) => ({ labels: { name }, value: s.count })),
    );
    add('juggler_request_failures_total', 'Requests answered with a failure, by name', 'counter', () =>
      [...this.requests.entries()].map(([name, s]) => ({ labels: { name }, value: s.failures })),
    );
    add('juggler_request_duration_seconds', 'Time from running a request to its answer, by name', 'histogram', () =>
      [...this.requests.entries()].flatMap(([name, s]) => histogramSamples('juggler_request_duration_seconds', s.duration, { name })),
    );
    add('juggler_flush_duration_seconds', 'Time to compute, encode and hand one state diff to every connection', 'histogram', () =>
      histogramSamples('juggler_flush_duration_seconds', this.flushes),
    );
    add('juggler_state_diff_bytes_total', 'Length of the state diffs flushed (UTF-16 units of the JSON text, bytes for ASCII), once per flush', 'counter', () => [
      { value: this.diffLength },
    ]);
    add('juggler_state_bytes', "Length of the shared state's last whole-value serialization (made when a client joins; UTF-16 units)", 'gauge', () => [
      { value: this.#source.stateLength() },
    ]);
    add('juggler_sessions', 'koa-juggler.v1 sessions held, with or without a connection', 'gauge', () => [{ value: this.#source.sessions() }]);
    add('juggler_streams', 'Stream calls open', 'gauge', () => [{ value: open().reduce((n, c) => n + c.openStreams, 0) }]);
  }
}
