import type { BuildOptions } from 'esbuild';

export declare const CLIENT_BUNDLE_OPTIONS: Readonly<BuildOptions>;
