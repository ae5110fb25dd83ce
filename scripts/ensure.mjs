// Makes a fresh clone runnable: installs dependencies when node_modules is
// missing or older than package-lock.json, builds when dist/ is missing or
// older than the sources, and (with --browser) makes sure Debian's chromium
// is there for the browser tests, (with --redis) Debian's redis-server for the
// cluster tests. Only node:* modules here: this runs before
// anything is installed.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync, statSync, readdirSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args) {
  console.error(`[ensure] ${cmd} ${args.join(' ')}`);
  execFileSync(cmd, args, { cwd: root, stdio: 'inherit' });
}

function ensureDependencies() {
  const lock = readFileSync(join(root, 'package-lock.json'));
  const hash = createHash('sha256').update(lock).digest('hex');
  const marker = join(root, 'node_modules', '.koa-juggler-lock-hash');
  if (existsSync(marker) && readFileSync(marker, 'utf8') === hash) return;
  // No marker yet, but npm itself installed node_modules after the lock file
  // last changed (CI's own `npm ci` right before `npm test`): installing again
  // would only repeat that.
  const installed = join(root, 'node_modules', '.package-lock.json');
  if (!existsSync(marker) && existsSync(installed) && statSync(installed).mtimeMs >= statSync(join(root, 'package-lock.json')).mtimeMs) {
    writeFileSync(marker, hash);
    return;
  }
  run(npm, ['ci', '--no-audit', '--no-fund']);
  writeFileSync(marker, hash);
}

function newestMtime(path) {
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let newest = st.mtimeMs;
  for (const entry of readdirSync(path)) newest = Math.max(newest, newestMtime(join(path, entry)));
  return newest;
}

function ensureBuild() {
  const stamp = join(root, 'dist', '.build-stamp');
  const inputs = ['src', 'tsconfig.json', 'scripts/build.mjs', 'scripts/client-bundle.mjs', 'package-lock.json'].map((p) => join(root, p));
  const newestInput = Math.max(...inputs.filter(existsSync).map(newestMtime));
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= newestInput) return;
  run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
}

// Debian's package `name` with its binary at `path`: installed with apt-get
// when running as root, else a message saying what to install.
function ensureDebianPackage(name, path, what) {
  if (existsSync(path)) return;
  if (typeof process.getuid === 'function' && process.getuid() === 0) {
    run('apt-get', ['update']);
    run('apt-get', ['install', '-y', '--no-install-recommends', name]);
    if (existsSync(path)) return;
  }
  console.error(
    `[ensure] ${what} need Debian's package "${name}" at ${path}.\n` +
      `         Install it with: sudo apt-get install ${name}`,
  );
  process.exit(1);
}

ensureDependencies();
ensureBuild();
if (process.argv.includes('--browser')) ensureDebianPackage('chromium', '/usr/bin/chromium', 'the browser tests');
if (process.argv.includes('--redis')) ensureDebianPackage('redis-server', '/usr/bin/redis-server', 'the cluster tests');
