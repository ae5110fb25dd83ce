// The public API report: api/<entry>.api.md lists every export of each
// package entry (from the compiled .d.ts), so a change to what users can
// touch shows up in review. `npm run api` rewrites the reports; `npm test`
// runs this with --check, which fails when a report is out of date or names
// an export without TSDoc.
import { Extractor, ExtractorConfig } from '@microsoft/api-extractor';
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const check = process.argv.includes('--check');

/** One report per entry point of package.json's `exports`. */
const ENTRIES = [
  { report: 'koa-juggler', types: 'dist/index.d.ts' },
  { report: 'koa-juggler-client', types: 'dist/client/index.d.ts' },
  { report: 'koa-juggler-cluster', types: 'dist/cluster/index.d.ts' },
  { report: 'koa-juggler-react', types: 'dist/react/index.d.ts' },
];

let failed = false;
for (const { report, types } of ENTRIES) {
  const config = ExtractorConfig.prepare({
    configObjectFullPath: join(root, 'api', 'api-extractor.json'),
    packageJsonFullPath: join(root, 'package.json'),
    configObject: {
      projectFolder: root,
      mainEntryPointFilePath: join(root, types),
      compiler: { tsconfigFilePath: join(root, 'tsconfig.json') },
      apiReport: {
        enabled: true,
        reportFolder: join(root, 'api'),
        reportTempFolder: join(root, 'node_modules', '.cache', 'api-extractor'),
        reportFileName: report,
      },
      docModel: { enabled: false },
      dtsRollup: { enabled: false },
      tsdocMetadata: { enabled: false },
      messages: {
        // TSDoc's own syntax rules (escaped braces, hyphens after @param) are not ours.
        tsdocMessageReporting: { default: { logLevel: 'none' } },
        extractorMessageReporting: {
          default: { logLevel: 'warning', addToApiReportFile: true },
          'ae-missing-release-tag': { logLevel: 'none' },
          'ae-undocumented': { logLevel: 'none', addToApiReportFile: true },
        },
        compilerMessageReporting: { default: { logLevel: 'warning' } },
      },
    },
  });
  const result = Extractor.invoke(config, { localBuild: !check, showVerboseMessages: false, messageCallback: (m) => {
    if (m.logLevel === 'none') m.handled = true;
  } });
  const file = join(root, 'api', report + '.api.md');
  const text = readFileSync(file, 'utf8');
  // One warning line per export without TSDoc. `[ASYNC_DISPOSE]` (Symbol.asyncDispose where the
  // runtime has it) is documented, but api-extractor cannot name that computed key: "__computed".
  const undocumented = text.split('\n').filter((line) => line.includes('(ae-undocumented)') && !line.includes('"__computed"')).length;
  if (check && result.apiReportChanged) {
    console.error(`[api] ${file} is out of date: run \`npm run api\` and review the change`);
    failed = true;
  }
  if (undocumented > 0) {
    console.error(`[api] ${report}: ${undocumented} export(s) without TSDoc (marked "undocumented" in ${file})`);
    if (check) failed = true;
  }
  if (!result.succeeded && !result.apiReportChanged) failed = true;
}
process.exit(failed ? 1 : 0);
