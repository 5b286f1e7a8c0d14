/**
 * The browser side of the conformance run: run.mjs bundles this file (with the package source and the shared
 * cases of ../conformance/cases.ts) into a page and drives it through `globalThis.__formers`.
 *
 * The page reports what the browser offers (WebGL2 renderer, WebGPU adapter, or why not), which formers backends
 * the registry finds available, and runs the conformance cases on one backend at a time against an oracle:
 * the naive backend for `reference` (as the Node suite does, so the reference is not checked against itself),
 * the reference backend for every other one.
 */
import {
  createReferenceBackend,
  loadBackend,
  probeBackends,
  type Backend,
  type BackendListing,
  type BackendName,
  type DType,
} from '@formers/gpu-kernels';
import { buildCases, checkCase, isSkipped, type ConformanceOptions } from '../conformance/cases.js';
import { createNaiveBackend } from '../conformance/naive-backend.js';
import { selectCases, type CaseListName } from './case-selection.js';

export interface CapabilityReport {
  readonly ok: boolean;
  /** The unmasked renderer string (e.g. "ANGLE (Google, Vulkan ... SwiftShader ...)") or why there is none. */
  readonly detail: string;
}

export interface EnvironmentReport {
  readonly userAgent: string;
  readonly crossOriginIsolated: boolean;
  readonly webgl2: CapabilityReport;
  readonly webgpu: CapabilityReport;
}

export interface RunRequest {
  readonly backend: BackendName;
  readonly list: CaseListName;
  readonly seed?: number;
}

export interface RunReport {
  readonly backend: BackendName;
  readonly dtypes: readonly DType[];
  readonly list: CaseListName;
  readonly total: number;
  readonly passed: number;
  readonly skipped: number;
  readonly failures: readonly { id: string; message: string }[];
  readonly fallbacks: readonly string[];
  /**
   * Kernels that gpu.js quietly ran on its own cpu backend instead of the mode under test (recorded as
   * `<kernel>:gpujs-cpu` in `fallbacks`; see test/gpujs-degradation.ts). Any entry fails the run: the cases
   * would have proved the cpu mode, not this one.
   */
  readonly degraded: readonly string[];
  readonly ms: number;
}

/** Called (when the driver exposed it) after every case, so a hung kernel still leaves a trail. */
type Progress = (done: number, total: number, id: string, status: 'pass' | 'fail' | 'skip', message: string) => void;

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function webgl2Report(): CapabilityReport {
  try {
    const canvas = document.createElement('canvas');
    const gl = canvas.getContext('webgl2');
    if (!gl) return { ok: false, detail: 'canvas.getContext("webgl2") returned null' };
    const ext = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = ext ? gl.getParameter(ext.UNMASKED_RENDERER_WEBGL) : gl.getParameter(gl.RENDERER);
    const floatColor = gl.getExtension('EXT_color_buffer_float') !== null;
    return { ok: true, detail: `${String(renderer)}${floatColor ? '' : ' (no EXT_color_buffer_float)'}` };
  } catch (e) {
    return { ok: false, detail: messageOf(e) };
  }
}

async function webgpuReport(): Promise<CapabilityReport> {
  const gpu = (navigator as Navigator & { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  if (!gpu) return { ok: false, detail: 'navigator.gpu is undefined (WebGPU not exposed; needs a secure context and --enable-unsafe-webgpu)' };
  try {
    const adapter = (await gpu.requestAdapter()) as { info?: Record<string, string>; isFallbackAdapter?: boolean } | null;
    if (!adapter) return { ok: false, detail: 'navigator.gpu.requestAdapter() returned null (no Vulkan/SwiftShader adapter)' };
    const info = adapter.info ?? {};
    const parts = [info.vendor, info.architecture, info.device, info.description].filter((x) => x);
    return { ok: true, detail: parts.length > 0 ? parts.join(' / ') : 'adapter without info' };
  } catch (e) {
    return { ok: false, detail: `requestAdapter threw: ${messageOf(e)}` };
  }
}

async function environment(): Promise<EnvironmentReport> {
  return {
    userAgent: navigator.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    webgl2: webgl2Report(),
    webgpu: await webgpuReport(),
  };
}

/** Per-backend suite options. Each skip or looser tolerance here must say why, as in the Node suites. */
function optionsFor(name: BackendName): ConformanceOptions {
  if (name === 'reference') {
    // Same as reference.conformance.test.ts: the naive oracle's erf is quadrature, far too slow for 1e5 values.
    return { skip: ['unary/gelu/float32/large', 'unary/gelu/float64/large'] };
  }
  return {};
}

async function run(request: RunRequest): Promise<RunReport> {
  const t0 = performance.now();
  const backend: Backend = await loadBackend(request.backend);
  const oracle: Backend = request.backend === 'reference' ? createNaiveBackend() : createReferenceBackend();
  const options = optionsFor(request.backend);
  const dtypes = backend.dtypes;
  const cases = selectCases(buildCases(dtypes, request.seed ?? 42), request.list);
  const progress = (globalThis as { __formersProgress?: Progress }).__formersProgress;
  let passed = 0;
  let skipped = 0;
  const failures: { id: string; message: string }[] = [];
  for (let i = 0; i < cases.length; i++) {
    const c = cases[i];
    let status: 'pass' | 'fail' | 'skip' = 'pass';
    const before = failures.length;
    if (isSkipped(c, options.skip)) {
      skipped++;
      status = 'skip';
    } else {
      try {
        const r = await checkCase(backend, oracle, c, options.tolerance);
        if (r.ok) passed++;
        else {
          status = 'fail';
          failures.push({ id: c.id, message: r.message });
        }
      } catch (e) {
        status = 'fail';
        failures.push({ id: c.id, message: `${c.id}: ${messageOf(e)}` });
      }
    }
    progress?.(i + 1, cases.length, c.id, status, failures.length > before ? failures[before].message : '');
  }
  return {
    backend: request.backend,
    dtypes,
    list: request.list,
    total: cases.length,
    passed,
    skipped,
    failures,
    fallbacks: [...backend.fallbacks].map(([kernel, why]) => `${kernel}: ${why}`),
    degraded: [...backend.fallbacks.keys()].filter((k) => k.endsWith(':gpujs-cpu')),
    ms: performance.now() - t0,
  };
}

async function backends(): Promise<BackendListing[]> {
  return probeBackends();
}

(globalThis as { __formers?: unknown }).__formers = { environment, backends, run };
