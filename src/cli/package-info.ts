/** The package's own metadata, read once from its package.json. */
import { readFileSync } from 'node:fs';

let version: string | null = null;

/** The version in package.json (beside `src/` and `dist/` alike), or '0.0.0' when it cannot be read. */
export function packageVersion(): string {
  if (version === null) {
    try {
      const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: unknown };
      version = typeof pkg.version === 'string' ? pkg.version : '0.0.0';
    } catch {
      version = '0.0.0';
    }
  }
  return version;
}
