import { GPU } from 'gpu.js';
import type { BackendName } from '../types.js';

/** The gpu.js modes formers exposes, each as a backend of the same name. */
export type GpujsMode = 'cpu' | 'webasm' | 'headlessgl' | 'webgl2' | 'webgpu';

export const GPUJS_MODES: readonly GpujsMode[] = ['cpu', 'webasm', 'headlessgl', 'webgl2', 'webgpu'];

/**
 * Default-choice priorities: below formers' own wasm backend (100), above the reference (0). Real GPUs first;
 * webasm (SIMD) above plain-JavaScript cpu.
 */
export const GPUJS_PRIORITY: Readonly<Record<GpujsMode, number>> = {
  webgpu: 60,
  webgl2: 50,
  headlessgl: 40,
  webasm: 30,
  cpu: 20,
};

/** webgpu has no synchronous readback, so its kernels return Promises; every other mode is synchronous. */
export function isSyncMode(mode: GpujsMode): boolean {
  return mode !== 'webgpu';
}

export function isGpujsMode(name: BackendName | string): name is GpujsMode {
  return (GPUJS_MODES as readonly string[]).includes(name);
}

type GpuStatics = typeof GPU & {
  isHeadlessGLSupported?: boolean;
  isWebGL2Supported?: boolean;
  isWebAssemblySupported?: boolean;
  isWebGPUSupported?: boolean;
  isWebGPUAvailable?: () => Promise<boolean>;
};

const statics = GPU as GpuStatics;

function inBrowser(): boolean {
  return typeof (globalThis as { document?: unknown }).document !== 'undefined';
}

function inNode(): boolean {
  const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
  return typeof proc?.versions?.node === 'string';
}

interface NavigatorLike {
  gpu?: { requestAdapter(): Promise<unknown> };
}

function navigatorGpu(): NavigatorLike['gpu'] {
  return (globalThis as { navigator?: NavigatorLike }).navigator?.gpu;
}

let nodeWebgpu: Promise<string | null> | null = null;

/**
 * In Node, gpu.js only looks at `navigator.gpu`. Load the `webgpu` npm package (Dawn; pinned to 0.6.2, the
 * version that loads on Debian 12), expose its globals (GPUBufferUsage, ...) and install `navigator.gpu` unless
 * something already provides one. Resolves with null on success, else with the reason.
 */
export function installNodeWebgpu(): Promise<string | null> {
  if (navigatorGpu()) return Promise.resolve(null);
  if (!inNode()) return Promise.resolve('navigator.gpu is not defined (no WebGPU in this environment)');
  nodeWebgpu ??= (async () => {
    try {
      const specifier = 'webgpu';
      const mod = (await import(/* @vite-ignore */ specifier)) as {
        create?: (flags: string[]) => unknown;
        globals?: Record<string, unknown>;
        default?: { create?: (flags: string[]) => unknown; globals?: Record<string, unknown> };
      };
      const create = mod.create ?? mod.default?.create;
      const globals = mod.globals ?? mod.default?.globals ?? {};
      if (typeof create !== 'function') return 'the "webgpu" package loaded but exports no create()';
      for (const [k, v] of Object.entries(globals)) {
        if (!(k in globalThis)) (globalThis as Record<string, unknown>)[k] = v;
      }
      const g = globalThis as unknown as { navigator?: Record<string, unknown> };
      const gpu = create([]);
      if (g.navigator === undefined) {
        Object.defineProperty(globalThis, 'navigator', { value: { gpu }, configurable: true, writable: true });
      } else if (!('gpu' in g.navigator) || g.navigator.gpu === undefined) {
        Object.defineProperty(g.navigator, 'gpu', { value: gpu, configurable: true });
      }
      return null;
    } catch (e) {
      return `the "webgpu" npm package could not be loaded: ${e instanceof Error ? e.message : String(e)}`;
    }
  })();
  return nodeWebgpu;
}

/** Why webgpu cannot run here, or null when an adapter answered. */
export async function webgpuUnavailableReason(): Promise<string | null> {
  const installed = await installNodeWebgpu();
  if (installed !== null) return installed;
  const gpu = navigatorGpu();
  if (!gpu) return 'navigator.gpu is not defined';
  try {
    const adapter = await gpu.requestAdapter();
    if (!adapter) {
      return 'navigator.gpu.requestAdapter() returned null (no Vulkan/Metal/D3D12 driver; in Node on Linux set VK_ICD_FILENAMES to a SwiftShader ICD)';
    }
  } catch (e) {
    return `navigator.gpu.requestAdapter() failed: ${e instanceof Error ? e.message : String(e)}`;
  }
  return null;
}

/**
 * Why `mode` cannot run in this environment, or null when it can. Synchronous for every mode but webgpu, whose
 * answer needs an adapter request.
 */
export function unavailableReason(mode: Exclude<GpujsMode, 'webgpu'>): string | null {
  switch (mode) {
    case 'cpu':
      return null;
    case 'webasm':
      return statics.isWebAssemblySupported === false ? 'WebAssembly is not available in this engine' : null;
    case 'headlessgl':
      if (!inNode()) return 'headlessgl runs only in Node';
      // gpu.js tries require('gl') and creates a 2x2 context: this fails when the optional native addon did not
      // build, or when there is no X display (run under `xvfb-run -a`).
      return statics.isHeadlessGLSupported === true
        ? null
        : 'the optional "gl" addon did not load or could not create a context (it needs a display: run under xvfb-run -a)';
    case 'webgl2':
      if (!inBrowser()) return 'webgl2 runs only in a browser';
      return statics.isWebGL2Supported === true ? null : 'this browser has no WebGL2 context with float textures';
    default:
      return `unknown gpu.js mode "${String(mode)}"`;
  }
}

/** The availability check the registry calls: boolean for the synchronous modes, a Promise for webgpu. */
export function isModeAvailable(mode: GpujsMode): boolean | Promise<boolean> {
  if (mode === 'webgpu') return webgpuUnavailableReason().then((r) => r === null);
  return unavailableReason(mode) === null;
}
