/**
 * A metric whose samples are computed when Prometheus scrapes: a prom-client
 * registry entry (`get()`) over counters the server keeps as plain numbers,
 * so the hot path never touches prom-client (whose labelled `inc()` and
 * `observe()` hash their labels on every call).
 */
import type { Metric, Registry } from 'prom-client';
import type { HistogramCounts } from './histogram-counts.js';

/** One sample: a value with its labels, and the series name when it differs from the metric's (`_bucket`, `_sum`). */
export interface Sample {
  value: number;
  labels?: Record<string, string | number>;
  metricName?: string;
}

/** The Prometheus type of a scraped metric. */
export type ScrapedType = 'counter' | 'gauge' | 'histogram';

/** A metric as prom-client's registry reads it: name, help, type and the samples of this scrape. */
export class ScrapedMetric {
  readonly name: string;
  readonly help: string;
  readonly type: ScrapedType;
  readonly aggregator = 'sum';
  readonly #collect: () => Sample[];

  constructor(name: string, help: string, type: ScrapedType, collect: () => Sample[]) {
    this.name = name;
    this.help = help;
    this.type = type;
    this.#collect = collect;
  }

  /** What the registry calls on each scrape. */
  async get(): Promise<{ name: string; help: string; type: ScrapedType; aggregator: string; values: Sample[] }> {
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values: this.#collect() };
  }

  /** The counters belong to the server: a registry reset leaves them alone. */
  reset(): void {}

  /** Adds this metric to `registry`. */
  register(registry: Registry): this {
    registry.registerMetric(this as unknown as Metric);
    return this;
  }
}

/** The `_bucket`, `_sum` and `_count` samples of one histogram, with `labels` on each. */
export function histogramSamples(name: string, counts: HistogramCounts, labels: Record<string, string> = {}): Sample[] {
  const cumulative = counts.cumulative();
  const samples: Sample[] = counts.bounds.map((le, i) => ({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative[i]! }));
  samples.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: cumulative[cumulative.length - 1]! });
  samples.push({ metricName: `${name}_sum`, labels, value: counts.sum });
  samples.push({ metricName: `${name}_count`, labels, value: counts.count });
  return samples;
}
