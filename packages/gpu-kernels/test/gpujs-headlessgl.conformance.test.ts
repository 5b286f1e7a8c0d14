import { describe, it } from 'vitest';
import { createGpujsBackend, unavailableReason } from '../src/gpujs/index.js';
import { defineConformanceSuite } from './conformance/suite.js';
import { expectNoGpujsDegradation } from './gpujs-degradation.js';

// gpu.js headlessgl mode (GLSL ES 1.0 through ANGLE, float textures): needs the optional `gl` addon and an X
// display. Run it with test/run-headlessgl.sh (xvfb-run -a); without a display it is skipped with the reason.
const reason = unavailableReason('headlessgl');

if (reason === null) {
  // A small kernel cache, so the suite also exercises eviction: destroying a kernel must not disturb the kernels
  // still alive on the same context (gpu.js's destroy(true) did, on GL; see kernel-cache.ts).
  const made = expectNoGpujsDegradation('headlessgl');
  defineConformanceSuite('gpujs headlessgl', () => made.track(createGpujsBackend('headlessgl', { warn: () => {}, cacheCapacity: 32 })), {
    dtypes: ['float32', 'int32'],
  });
} else {
  console.warn(`gpujs headlessgl conformance skipped: ${reason}`);
  describe('conformance: gpujs headlessgl', () => {
    it.skip(`skipped: ${reason}`, () => {});
  });
}
