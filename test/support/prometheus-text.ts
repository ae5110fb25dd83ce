/**
 * A strict parser of the Prometheus text exposition format (0.0.4), for
 * tests: every line must be a HELP, a TYPE or a sample of a family
 * declared just before it, label values must be properly escaped, and a
 * histogram's buckets must be cumulative with `+Inf` equal to `_count`.
 * Anything else throws, naming the line. (parse-prometheus-text-format,
 * the npm package, is unmaintained and lenient, so we check it ourselves.)
 */

export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export interface PromFamily {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';
  samples: PromSample[];
}

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const SUFFIXES: Record<PromFamily['type'], string[]> = {
  counter: [''],
  gauge: [''],
  untyped: [''],
  histogram: ['_bucket', '_sum', '_count'],
  summary: ['', '_sum', '_count'],
};

/**
 * Parses a whole exposition into its families, by name.
 * @throws Error naming the first line that is not valid
 */
export function parsePrometheusText(text: string): Map<string, PromFamily> {
  const families = new Map<string, PromFamily>();
  let current: PromFamily | null = null;
  const lines = text.split('\n');
  if (lines.pop() !== '') throw new Error('the exposition must end with a newline');
  lines.forEach((line, i) => {
    const where = `line ${i + 1} (${JSON.stringify(line)})`;
    if (line === '') return;
    const help = /^# HELP (\S+) (.*)$/.exec(line);
    if (help) {
      if (!NAME.test(help[1]!) || families.has(help[1]!)) throw new Error(`${where}: bad or repeated family name`);
      current = { name: help[1]!, help: help[2]!, type: 'untyped', samples: [] };
      families.set(current.name, current);
      return;
    }
    const type = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      if (current === null || current.name !== type[1] || current.samples.length > 0) throw new Error(`${where}: TYPE not right after its HELP`);
      current.type = type[2] as PromFamily['type'];
      return;
    }
    if (line.startsWith('#')) throw new Error(`${where}: unknown comment`);
    if (current === null) throw new Error(`${where}: a sample before any family`);
    const sample = parseSample(line, where);
    const family: PromFamily = current;
    if (!SUFFIXES[family.type].some((suffix) => sample.name === family.name + suffix)) throw new Error(`${where}: not a series of ${family.name}`);
    family.samples.push(sample);
  });
  for (const family of families.values()) if (family.type === 'histogram') checkHistogram(family);
  return families;
}

function parseSample(line: string, where: string): PromSample {
  const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/.exec(line);
  if (!m) throw new Error(`${where}: not a sample`);
  const labels: Record<string, string> = {};
  let rest = m[3] ?? '';
  while (rest !== '') {
    const lm = /^([^=]+)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/.exec(rest);
    if (!lm || !LABEL.test(lm[1]!) || lm[1]! in labels) throw new Error(`${where}: bad labels`);
    labels[lm[1]!] = lm[2]!.replace(/\\(["\\n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    rest = rest.slice(lm[0].length);
  }
  const raw = m[4]!;
  const value = raw === '+Inf' ? Infinity : raw === '-Inf' ? -Infinity : raw === 'NaN' ? NaN : Number(raw);
  if (!/^(\+Inf|-Inf|NaN|[-+]?[0-9.eE+-]+)$/.test(raw) || (Number.isNaN(value) && raw !== 'NaN')) throw new Error(`${where}: bad value`);
  return { name: m[1]!, labels, value };
}

function checkHistogram(family: PromFamily): void {
  const series = new Map<string, { buckets: [number, number][]; count?: number }>();
  for (const s of family.samples) {
    const { le, ...rest } = s.labels;
    const key = JSON.stringify(rest);
    const entry = series.get(key) ?? { buckets: [] };
    series.set(key, entry);
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new Error(`${family.name}: a bucket without le`);
      entry.buckets.push([le === '+Inf' ? Infinity : Number(le), s.value]);
    } else if (s.name.endsWith('_count')) entry.count = s.value;
  }
  for (const [key, { buckets, count }] of series) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i]![0] > buckets[i - 1]![0]) || buckets[i]![1] < buckets[i - 1]![1]) throw new Error(`${family.name}${key}: buckets not cumulative`);
    }
    const last = buckets[buckets.length - 1];
    if (last === undefined || last[0] !== Infinity || last[1] !== count) throw new Error(`${family.name}${key}: +Inf bucket missing or not equal to _count`);
  }
}

/** The value of the sample of `family` (the family's own series, or `name` given) whose labels include `labels`; undefined if none. */
export function sampleValue(families: Map<string, PromFamily>, family: string, labels: Record<string, string> = {}, name = family): number | undefined {
  const f = families.get(family);
  const hit = f?.samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  return hit?.value;
}
