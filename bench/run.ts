/**
 * `npm run bench`: runs every benchmark and prints one table, each row our
 * figure, the reference's from the same run, their ratio and the goal.
 *
 *   npm run bench                      full run (~4 minutes)
 *   npm run bench -- --quick           smoke run (~1 minute): shorter windows, fewer rounds
 *   npm run bench -- --only join,memory
 *   npm run bench -- --verbose         every round's figures
 *   npm run bench -- --json out.json   the rows as JSON too
 *
 * See docs/benchmarks.md for what each benchmark measures and how.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, rmSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from './support/rpc.js';
import { bounded } from './support/stats.js';
import { formatTable, passes, type BenchContext, type Benchmark, type Row } from './support/table.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

// Measured as deployed: production mode, inherited by every bench process.
// (It switches off the Storage's development-only ownership checks; ws and
// the raw references do not read it.)
process.env.NODE_ENV ??= 'production';
const NAMES = ['request-response', 'fan-out', 'state-size', 'plant-dashboard', 'join', 'memory', 'client-apply', 'client-snapshots', 'resume', 'fan-out-metrics', 'compression', 'views-plant', 'views-plant-sockets', 'views-curve', 'views-join', 'cluster-latency', 'cluster-plant', 'cluster-writes'];

/**
 * A private copy of dist/ for this run (inside node_modules/.cache, so its
 * imports still resolve), handed to every process through BENCH_DIST (see
 * support/lib.ts): others rebuilding dist/ meanwhile (npm test runs the
 * same build step) cannot pull it from under a running benchmark.
 */
function snapshotDist(): string | null {
  if (process.env.BENCH_DIST) return null;
  const dist = join(ROOT, 'dist');
  if (!existsSync(join(dist, '.build-stamp'))) {
    console.error('dist/ is not built: run `npm run bench` (it builds first) or `npm run build`');
    process.exit(2);
  }
  const copy = join(ROOT, 'node_modules', '.cache', 'koa-juggler-bench', `dist-${process.pid}`);
  cpSync(dist, copy, { recursive: true });
  process.env.BENCH_DIST = copy;
  return copy;
}

/** Imported only after BENCH_DIST is settled: the in-process benches load the library too. */
async function loadBenchmarks(): Promise<Benchmark[]> {
  const modules = await Promise.all([
    import('./request-response.js').then((m) => m.requestResponse),
    import('./fan-out.js').then((m) => m.fanOut),
    import('./fan-out.js').then((m) => m.fanOutMetrics),
    import('./state-size.js').then((m) => m.stateSize),
    import('./plant-dashboard.js').then((m) => m.plantDashboard),
    import('./join.js').then((m) => m.join),
    import('./memory.js').then((m) => m.memory),
    import('./client-apply.js').then((m) => m.clientApply),
    import('./client-snapshots.js').then((m) => m.clientSnapshots),
    import('./resume.js').then((m) => m.resume),
    import('./compression.js').then((m) => m.compression),
    import('./views-plant.js').then((m) => m.viewsPlant),
    import('./views-plant-sockets.js').then((m) => m.viewsPlantSockets),
    import('./views-curve.js').then((m) => m.viewsCurve),
    import('./views-join.js').then((m) => m.viewsJoin),
    import('./cluster-latency.js').then((m) => m.clusterLatency),
    import('./cluster-plant.js').then((m) => m.clusterPlant),
    import('./cluster-writes.js').then((m) => m.clusterWrites),
  ]);
  return modules;
}

/** File descriptors the big rows need in one process (5000 sockets plus some). */
const NEEDED_FDS = 5200;

function parseArgs(argv: string[]): { quick: boolean; only: string[] | null; verbose: boolean; json: string | null } {
  const result = { quick: false, only: null as string[] | null, verbose: false, json: null as string | null };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--quick') result.quick = true;
    else if (arg === '--verbose') result.verbose = true;
    else if (arg === '--only') result.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg.startsWith('--only=')) result.only = arg.slice(7).split(',').filter(Boolean);
    else if (arg === '--json') result.json = argv[++i] ?? null;
    else if (arg === '--help' || arg === '-h') {
      console.log(`usage: npm run bench -- [--quick] [--only ${NAMES.join(',')}] [--verbose] [--json FILE]`);
      process.exit(0);
    } else {
      console.error(`unknown argument ${arg}`);
      process.exit(2);
    }
  }
  for (const name of result.only ?? []) {
    if (!NAMES.includes(name)) {
      console.error(`unknown benchmark ${name}; known: ${NAMES.join(', ')}`);
      process.exit(2);
    }
  }
  return result;
}

function openFileLimit(): number {
  try {
    return Number(execFileSync('sh', ['-c', 'ulimit -n'], { encoding: 'utf8' }).trim());
  } catch {
    return NaN;
  }
}

export function environment(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC, node ${process.version}, ${cpus().length} × ${cpu}`;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const limit = openFileLimit();
  if (!(limit >= NEEDED_FDS)) {
    console.error(`note: ulimit -n is ${limit}; the fan-out and memory rows open 5000 sockets per process. Raise it first: ulimit -n 20000`);
  }
  console.error(`koa-juggler benchmarks (${args.quick ? 'quick' : 'full'}): ${environment()}`);
  const copy = snapshotDist();
  try {
    await runAll(args, copy === null ? `BENCH_DIST=${process.env.BENCH_DIST}` : null);
  } finally {
    if (copy !== null) rmSync(copy, { recursive: true, force: true });
  }
}

async function runAll(args: ReturnType<typeof parseArgs>, libraryNote: string | null): Promise<void> {
  const benchmarks = await loadBenchmarks();
  const selected = benchmarks.filter((b) => args.only === null || args.only.includes(b.name));
  const rows: Row[] = [];
  const failures: { bench: string; error: string }[] = [];
  const started = Date.now();
  for (const bench of selected) {
    const workers: Worker[] = [];
    const ctx: BenchContext = {
      quick: args.quick,
      log: (message) => {
        if (args.verbose) console.error(`  [${bench.name}] ${message}`);
      },
      spawn: async (module, exportName, spawnArgs, options) => {
        const worker = await Worker.start(module, exportName, spawnArgs, options);
        workers.push(worker);
        return worker as never;
      },
    };
    const t0 = Date.now();
    console.error(`▶ ${bench.name}`);
    try {
      const benchRows = await bounded(bench.run(ctx), args.quick ? 180_000 : 300_000, bench.name);
      rows.push(...benchRows);
      for (const row of benchRows) {
        const pass = passes(row);
        console.error(`  ${row.metric}: ours ${row.ours.toPrecision(4)} ${row.unit}, ref ${row.ref.toPrecision(4)}, ratio ${row.ratio.toFixed(2)}${pass === false ? '  FAIL' : ''}`);
      }
    } catch (err) {
      const error = err instanceof Error ? (err.stack ?? err.message) : String(err);
      failures.push({ bench: bench.name, error });
      console.error(`  error: ${error}`);
    } finally {
      await Promise.all(workers.map((w) => w.stop()));
    }
    console.error(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
  }
  console.log(`\n${environment()}; ${args.quick ? '--quick' : 'full run'}, ${((Date.now() - started) / 1000).toFixed(0)} s${libraryNote ? `; ${libraryNote}` : ''}\n`);
  console.log(formatTable(rows, failures));
  const failed = rows.filter((r) => passes(r) === false);
  console.log(`\n${rows.length - failed.length} of ${rows.length} rows meet their goal${failures.length ? `; ${failures.length} benchmark(s) failed to run` : ''}.`);
  if (args.json) writeFileSync(args.json, JSON.stringify({ environment: environment(), quick: args.quick, rows, failures }, null, 2));
  // Figures are information, not a test: exit 0 unless a benchmark could not run.
  process.exitCode = failures.length > 0 ? 1 : 0;
}

await main();
