import { defineConfig } from 'tsup';

/** One build shape for every published package: ESM + CJS + .d.ts from src/index.ts. */
export function packageTsupConfig(extraEntries: Record<string, string> = {}) {
  return defineConfig({
    entry: { index: 'src/index.ts', ...extraEntries },
    format: ['esm', 'cjs'],
    dts: true,
    sourcemap: true,
    clean: true,
    target: 'es2022',
    platform: 'neutral',
    external: [/^@formers\//, 'gpu.js', 'webgpu', 'gl', /^node:/],
  });
}
