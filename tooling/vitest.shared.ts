import { fileURLToPath } from 'node:url';
import { resolve } from 'node:path';
import { defineConfig } from 'vitest/config';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '..');
const pkgs = [
  'gpu-kernels',
  'tensor-core',
  'position-encodings',
  'attention-linear',
  'ssm-hippo',
  'vision-transformer',
  'vlm-contrastive',
];

/** Tests run against source: every workspace package resolves to its src/index.ts, so no build is needed first. */
export const sourceAliases = Object.fromEntries([
  ...pkgs.map((p) => [`@formers/${p}`, resolve(root, `packages/${p}/src/index.ts`)]),
  ['@formers/test-utils', resolve(root, 'tooling/src/test-utils/index.ts')],
]);

export function packageVitestConfig(overrides: { testTimeout?: number; include?: string[] } = {}) {
  return defineConfig({
    resolve: { alias: sourceAliases },
    test: {
      include: overrides.include ?? ['test/**/*.test.ts'],
      testTimeout: overrides.testTimeout ?? 60_000,
      pool: 'forks',
      reporters: ['default', 'json'],
      outputFile: { json: '.tmp/vitest-report.json' },
    },
  });
}
