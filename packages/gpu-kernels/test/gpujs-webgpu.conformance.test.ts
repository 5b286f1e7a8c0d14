import { existsSync } from 'node:fs';
import { describe, it } from 'vitest';
import { createGpujsWebgpuBackend, webgpuUnavailableReason } from '../src/gpujs/index.js';
import { defineConformanceSuite } from './conformance/suite.js';
import { expectNoGpujsDegradation } from './gpujs-degradation.js';

// gpu.js webgpu mode in Node, through the `webgpu` npm package (Dawn, pinned 0.6.2) and a Vulkan driver. On a
// machine without a GPU that is Chromium's SwiftShader ICD (Debian chromium-common + libvulkan1); it must be
// chosen before Dawn first loads Vulkan, so it is set here when the caller has not set one. Without an adapter
// the suite is skipped with the reason.
const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';
if (process.env.VK_ICD_FILENAMES === undefined && existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES = SWIFTSHADER_ICD;

const reason = await webgpuUnavailableReason();

if (reason === null) {
  // A small kernel cache, so the suite also exercises eviction: destroying a kernel must not disturb the kernels
  // still alive on the same context (gpu.js's destroy(true) did, on GL; see kernel-cache.ts).
  const made = expectNoGpujsDegradation('webgpu');
  defineConformanceSuite('gpujs webgpu', async () => made.track(await createGpujsWebgpuBackend({ warn: () => {}, cacheCapacity: 32 })), {
    dtypes: ['float32', 'int32'],
  });
} else {
  console.warn(`gpujs webgpu conformance skipped: ${reason}`);
  describe('conformance: gpujs webgpu', () => {
    it.skip(`skipped: ${reason}`, () => {});
  });
}
