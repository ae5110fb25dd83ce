/** The browser client bundled in memory, with the build's own settings (nothing written to disk). */
import * as esbuild from 'esbuild';
import { CLIENT_BUNDLE_OPTIONS } from '../../scripts/client-bundle.mjs';

export async function bundleClient(): Promise<{ code: string; inputs: string[] }> {
  const result = await esbuild.build({ ...CLIENT_BUNDLE_OPTIONS, write: false, metafile: true, logLevel: 'silent' });
  return { code: result.outputFiles[0]!.text, inputs: Object.keys(result.metafile.inputs) };
}
