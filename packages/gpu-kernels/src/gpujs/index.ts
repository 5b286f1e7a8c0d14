import type { BackendFactory, BackendRegistration } from '../registry/backend-registry.js';
import type { BackendName } from '../types.js';
import { createGpujsBackend, createGpujsWebgpuBackend } from './create.js';
import { GPUJS_MODES, GPUJS_PRIORITY, isModeAvailable, isSyncMode } from './modes.js';

export { createGpujsBackend, createGpujsThreadedWebasmBackend, createGpujsWebgpuBackend } from './create.js';
export { createGpujsBackendFor, type GpujsBackend, type GpujsBackendOptions, type GpujsHandle } from './backend.js';
export { KernelCache, type KernelCacheStats } from './kernel-cache.js';
export { DELEGATED_KERNELS } from './delegated.js';
export { GPUJS_MODES, GPUJS_PRIORITY, isModeAvailable, unavailableReason, webgpuUnavailableReason, type GpujsMode } from './modes.js';

/**
 * Register the gpu.js modes as backends: cpu, webasm, headlessgl, webgl2 (synchronous) and webgpu
 * (asynchronous), between formers' wasm backend (100) and the reference (0). Each has an honest availability
 * check (see modes.ts); creating one also runs a first kernel, so a mode that cannot compile fails at creation.
 */
export function registerGpujsBackends(
  register: (name: BackendName, factory: BackendFactory, options: BackendRegistration) => void,
): void {
  for (const mode of GPUJS_MODES) {
    const factory: BackendFactory = mode === 'webgpu' ? () => createGpujsWebgpuBackend() : () => createGpujsBackend(mode);
    register(mode, factory, { priority: GPUJS_PRIORITY[mode], sync: isSyncMode(mode), available: () => isModeAvailable(mode) });
  }
}
