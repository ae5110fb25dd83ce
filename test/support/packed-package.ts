/**
 * The package as a user gets it: `npm pack` of this tree (dist/ built by
 * `scripts/ensure.mjs`, so `--ignore-scripts`: packing must not rebuild
 * into the tree), installed from the tarball into a scratch project in a
 * temp dir. Packed and installed once per test run, shared by the tests
 * that need it, removed when the process exits.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { ensureBuilt, ROOT } from './cli.js';

const run = promisify(execFile);


/** One file of `npm pack --json`. */
export interface PackedFile {
  path: string;
  size: number;
}

/** A scratch project with the packed koa-juggler installed. */
export interface InstalledPackage {
  /** The scratch project; `node_modules/koa-juggler` is the installed package. */
  dir: string;
  /** The tarball `npm pack` wrote. */
  tarball: string;
  /** What the tarball holds. */
  files: PackedFile[];
}

/** The environment for npm in a child: without the `npm_*` variables of an enclosing `npm test`, which would point npm at this tree. */
export function npmEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) if (!/^npm_/i.test(key)) env[key] = value;
  return env;
}

/** Runs npm with `args` in `cwd` and returns its stdout. */
export async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, { cwd, env: npmEnv(), maxBuffer: 64 * 1024 * 1024 });
  return stdout;
}

let installing: Promise<InstalledPackage> | null = null;

/** Packs this tree and installs the tarball into a scratch project (once per process). */
export function installedPackage(): Promise<InstalledPackage> {
  return (installing ??= packAndInstall());
}

async function packAndInstall(): Promise<InstalledPackage> {
  ensureBuilt();
  const dir = mkdtempSync(join(tmpdir(), 'kj-pack-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const packed = JSON.parse(await npm(['pack', '--ignore-scripts', '--json', '--pack-destination', dir], ROOT)) as { filename: string; files: PackedFile[] }[];
  const tarball = join(dir, packed[0]!.filename);
  const project = join(dir, 'project');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'scratch', private: true, type: 'module' }, null, 2) + '\n');
  await npm(['install', '--no-audit', '--no-fund', '--prefer-offline', tarball], project);
  return { dir: project, tarball, files: packed[0]!.files };
}
