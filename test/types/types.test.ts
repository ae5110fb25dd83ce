import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../support/cli.js';

/**
 * The type tests: test/types/*.types.ts must compile with tsc, and each
 * `// @ts-expect-error` line in them must fail (tsc reports an unused one
 * as an error), so a check that stops catching a mistake fails the suite.
 */
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

function tsc(project: string): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSC, '-p', project, '--pretty', 'false'], { cwd: ROOT, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : 1;
      resolve({ code, output: stdout + stderr });
    });
  });
}

describe('types (tsc over test/types)', function () {
  this.timeout(180_000);

  it('compiles the typed and untyped uses, and every @ts-expect-error line is an error', async () => {
    const { code, output } = await tsc(join(ROOT, 'test', 'types', 'tsconfig.json'));
    assert.equal(output.trim(), '');
    assert.equal(code, 0);
  });

  it('fails when an expected error does not happen (the check has teeth)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'kj-types-'));
    try {
      writeFileSync(
        join(dir, 'wrong.ts'),
        [
          `import { Storage } from ${JSON.stringify(join(ROOT, 'src', 'index.js'))};`,
          'const s = new Storage<{ count: number }>({ count: 0 });',
          '// @ts-expect-error a right path: nothing to expect',
          "s.set('count', 1);",
          '',
        ].join('\n'),
      );
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ extends: join(ROOT, 'tsconfig.json'), compilerOptions: { noEmit: true, rootDir: '/' }, include: ['./wrong.ts'] }),
      );
      const { code, output } = await tsc(join(dir, 'tsconfig.json'));
      assert.notEqual(code, 0);
      assert.match(output, /TS2578: Unused '@ts-expect-error' directive/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
