import { isPromise } from './async.js';
import { createGpujsBackendFor, type GpujsBackend, type GpujsBackendOptions } from './backend.js';
import { installNodeWebgpu, unavailableReason, webgpuUnavailableReason, type GpujsMode } from './modes.js';

/**
 * A smoke run right after creation: a few exps. It proves gpu.js really compiles for the mode here (a GL context
 * without float textures, a WebGPU device that fails shader creation, ...), instead of finding out on a model's
 * first kernel, and that gpu.js did not quietly run it on its cpu backend.
 */
function smokeTest(backend: GpujsBackend, values: Float32Array): void {
  const want = [1, Math.E, 1 / Math.E];
  for (let i = 0; i < want.length; i++) {
    if (!(Math.abs(values[i] - want[i]) <= 1e-5 * want[i])) {
      throw new Error(`gpu.js ${backend.mode} mode gave exp([0, 1, -1]) = [${Array.from(values).join(', ')}]`);
    }
  }
  const degraded = [...backend.fallbacks.keys()].find((k) => k.endsWith(':gpujs-cpu'));
  if (degraded) throw new Error(`gpu.js ${backend.mode} mode degraded to its cpu backend: ${backend.fallbacks.get(degraded)}`);
}

function smokeInput(backend: GpujsBackend) {
  const x = backend.upload(new Float32Array([0, 1, -1]), 'float32');
  return backend.unary('exp', { data: x, dtype: 'float32', shape: [3], strides: [1], offset: 0 }, 'float32');
}

/**
 * A gpu.js backend in a synchronous mode (cpu, webasm, headlessgl, webgl2). Throws, naming what is missing,
 * when the mode cannot run here.
 */
export function createGpujsBackend(mode: Exclude<GpujsMode, 'webgpu'>, options: GpujsBackendOptions = {}): GpujsBackend {
  const reason = unavailableReason(mode);
  if (reason !== null) throw new Error(`createGpujsBackend: gpu.js mode "${mode}" is not available: ${reason}`);
  if (options.threads) {
    throw new Error('createGpujsBackend: a threaded webasm backend is asynchronous; use `await createGpujsThreadedWebasmBackend()`');
  }
  const backend = createGpujsBackendFor(mode, options);
  try {
    const out = smokeInput(backend);
    if (isPromise(out)) throw new Error(`gpu.js ${mode} mode returned a Promise from a synchronous kernel`);
    smokeTest(backend, out as Float32Array);
  } catch (e) {
    backend.destroy();
    throw new Error(`createGpujsBackend: gpu.js mode "${mode}" failed its first kernel: ${e instanceof Error ? e.message : String(e)}`);
  }
  return backend;
}

/**
 * The gpu.js WebGPU backend (asynchronous: every kernel returns a Promise). In Node it loads the `webgpu` npm
 * package and installs `navigator.gpu` first; it needs a Vulkan driver (e.g. VK_ICD_FILENAMES pointing at
 * Chromium's SwiftShader ICD on a machine without a GPU).
 */
export async function createGpujsWebgpuBackend(options: GpujsBackendOptions = {}): Promise<GpujsBackend> {
  await installNodeWebgpu();
  const reason = await webgpuUnavailableReason();
  if (reason !== null) throw new Error(`createGpujsWebgpuBackend: WebGPU is not available: ${reason}`);
  const backend = createGpujsBackendFor('webgpu', options);
  try {
    smokeTest(backend, (await smokeInput(backend)) as Float32Array);
  } catch (e) {
    backend.destroy();
    throw new Error(`createGpujsWebgpuBackend: gpu.js webgpu mode failed its first kernel: ${e instanceof Error ? e.message : String(e)}`);
  }
  return backend;
}

/**
 * gpu.js webasm under its async contract: kernels with at least 4096 outputs split over a worker pool (the
 * issue's "threads under the async contract"), so every kernel returns a Promise. Not registered as a named
 * backend (the `webasm` name is the synchronous, single-threaded mode); create it directly.
 */
export async function createGpujsThreadedWebasmBackend(options: Omit<GpujsBackendOptions, 'threads'> = {}): Promise<GpujsBackend> {
  const reason = unavailableReason('webasm');
  if (reason !== null) throw new Error(`createGpujsThreadedWebasmBackend: gpu.js mode "webasm" is not available: ${reason}`);
  const backend = createGpujsBackendFor('webasm', { ...options, threads: true });
  try {
    smokeTest(backend, (await smokeInput(backend)) as Float32Array);
  } catch (e) {
    backend.destroy();
    throw new Error(`createGpujsThreadedWebasmBackend: gpu.js webasm failed its first kernel: ${e instanceof Error ? e.message : String(e)}`);
  }
  return backend;
}
