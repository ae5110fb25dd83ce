/** Result rows of the benchmarks and the one table `npm run bench` prints. */
import type { SpawnOptions, Worker } from './rpc.js';

/** A goal on the ratio ours / reference. */
export type Goal = { max: number } | { min: number } | { equals: number };

export interface Row {
  /** Benchmark name, as `--only` takes it. */
  bench: string;
  /** What is measured (scenario and figure). */
  metric: string;
  /** Unit of `ours` and `ref`. */
  unit: string;
  ours: number;
  ref: number;
  /** Usually the median of paired per-round ratios (see stats.ts `Paired`). */
  ratio: number;
  goal: Goal | null;
  /** What the reference is, when the bench name does not say. */
  note?: string;
}

/** What a benchmark's `run` gets. */
export interface BenchContext {
  quick: boolean;
  log(message: string): void;
  /** Starts a child process that is stopped when the benchmark ends, however it ends. */
  spawn<Info = unknown>(module: string | URL, exportName: string, args: unknown, options: SpawnOptions): Promise<Worker<Info>>;
}

export interface Benchmark {
  name: string;
  run(ctx: BenchContext): Promise<Row[]>;
}

export function passes(row: Pick<Row, 'goal' | 'ratio'>): boolean | null {
  const { goal, ratio } = row;
  if (goal === null) return null;
  if (!Number.isFinite(ratio)) return false;
  if ('max' in goal) return ratio <= goal.max;
  if ('min' in goal) return ratio >= goal.min;
  return ratio === goal.equals;
}

function goalText(goal: Goal | null): string {
  if (goal === null) return '—';
  if ('max' in goal) return `≤ ${goal.max}×`;
  if ('min' in goal) return `≥ ${goal.min}×`;
  return `= ${goal.equals}`;
}

/** A number with 3 significant digits, thousands grouped. */
export function fmt(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  if (abs >= 1) return value.toFixed(2);
  if (abs === 0) return '0';
  return value.toPrecision(3);
}

/** The table as Markdown (readable in a terminal, pasteable into docs). */
export function formatTable(rows: readonly Row[], failures: readonly { bench: string; error: string }[] = []): string {
  const header = ['bench', 'metric', 'ours', 'reference', 'ratio', 'goal', 'result'];
  const lines = rows.map((r) => {
    const pass = passes(r);
    return [
      r.bench,
      r.metric + (r.note ? ` (${r.note})` : ''),
      `${fmt(r.ours)} ${r.unit}`,
      `${fmt(r.ref)} ${r.unit}`,
      Number.isFinite(r.ratio) ? `${r.ratio < 0.095 ? r.ratio.toPrecision(2) : r.ratio.toFixed(2)}×` : String(r.ratio),
      goalText(r.goal),
      pass === null ? 'info' : pass ? 'pass' : '**FAIL**',
    ];
  });
  for (const f of failures) lines.push([f.bench, `error: ${f.error.split('\n')[0]}`, '', '', '', '', '**ERROR**']);
  const out = [header, header.map(() => '---'), ...lines].map((cells) => '| ' + cells.join(' | ') + ' |');
  return out.join('\n');
}
