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

  // One tsc run (each costs seconds): the type tests, plus a file whose
  // expected error does not happen, which must be the one error reported.
  it('compiles the typed and untyped uses, every @ts-expect-error line is an error, and an unused one fails (the check has teeth)', async () => {
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
      const types = join(ROOT, 'test', 'types');
      writeFileSync(
        join(dir, 'tsconfig.json'),
        JSON.stringify({ extends: join(types, 'tsconfig.json'), compilerOptions: { rootDir: '/' }, include: [join(types, '*.ts'), './wrong.ts'], exclude: [join(types, '*.test.ts')] }),
      );
      const { code, output } = await tsc(join(dir, 'tsconfig.json'));
      assert.notEqual(code, 0);
      const errors = output.trim().split('\n');
      assert.equal(errors.length, 1, output);
      assert.match(errors[0]!, /wrong\.ts\(3,1\): error TS2578: Unused '@ts-expect-error' directive/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
