import { afterAll, expect } from 'vitest';
import type { GpujsBackend } from '../src/gpujs/index.js';

/**
 * gpu.js can quietly run a kernel on its cpu backend when it cannot compile it for a GPU mode; the backend
 * records that in `fallbacks` under `<kernel>:gpujs-cpu`. A conformance run on a GPU mode must prove that every
 * kernel really ran there, so this checks, after the suite, that no such entry appeared.
 */
export function expectNoGpujsDegradation(mode: string): { track: (b: GpujsBackend) => GpujsBackend } {
  let backend: GpujsBackend | null = null;
  afterAll(() => {
    if (!backend) return;
    const degraded = [...backend.fallbacks.entries()].filter(([k]) => k.endsWith(':gpujs-cpu'));
    backend.destroy();
    expect(degraded, `${mode}: kernels gpu.js ran on its cpu backend instead`).toEqual([]);
  });
  return {
    track: (b) => {
      backend = b;
      return b;
    },
  };
}
