/**
 * Prints where a V8 CPU profile spent its time: self time per function and
 * per file, top entries. For profiles written with BENCH_PROFILE (see
 * docs/benchmarks.md):
 *
 *   node --import tsx bench/support/profile-summary.ts /tmp/koa-juggler-profiles/fan-out-server/*.cpuprofile
 *   node --import tsx bench/support/profile-summary.ts --callers writeUtf8String FILE   (who calls it, 14 frames up)
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

function summarize(path: string, top: number, callersOf: string | null): void {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const self = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i]!;
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  }
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const idle = [...self].filter(([id]) => byId.get(id)!.callFrame.functionName === '(idle)').reduce((a, [, t]) => a + t, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, time] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    if (functionName === '(idle)') continue;
    const file = url.replace(/^file:\/\/.*?\/(node_modules|src|bench)\//, '$1/') || '(native)';
    const key = `${functionName || '(anonymous)'} ${file}:${lineNumber + 1}`;
    byFunction.set(key, (byFunction.get(key) ?? 0) + time);
    byFile.set(file, (byFile.get(file) ?? 0) + time);
  }
  const busy = total - idle;
  const print = (title: string, map: Map<string, number>): void => {
    console.log(`\n${title}`);
    for (const [key, time] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      console.log(`${(time / 1000).toFixed(1).padStart(9)} ms ${((100 * time) / busy).toFixed(1).padStart(5)}%  ${key}`);
    }
  };
  console.log(`${path}: ${(busy / 1000).toFixed(0)} ms busy of ${(total / 1000).toFixed(0)} ms sampled`);
  if (callersOf !== null) {
    const stacks = new Map<string, number>();
    for (const [id, time] of self) {
      if (byId.get(id)!.callFrame.functionName !== callersOf) continue;
      const frames: string[] = [];
      for (let p = parent.get(id); p !== undefined && frames.length < 14; p = parent.get(p)) {
        const { functionName, url, lineNumber } = byId.get(p)!.callFrame;
        frames.push(`${functionName || '(anonymous)'}@${url.split('/').pop()}:${lineNumber + 1}`);
      }
      const key = frames.join(' < ');
      stacks.set(key, (stacks.get(key) ?? 0) + time);
    }
    print(`callers of ${callersOf}`, stacks);
    return;
  }
  print('self time by function', byFunction);
  print('self time by file', byFile);
}

const args = process.argv.slice(2);
const callers = args[0] === '--callers' ? args[1]! : null;
for (const path of callers === null ? args : args.slice(2)) summarize(path, 25, callers);
