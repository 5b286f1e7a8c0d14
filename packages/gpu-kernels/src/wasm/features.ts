/**
 * What the running engine offers the wasm backend: SIMD128, relaxed SIMD (an FMA), and synchronous threads
 * (shared memory, worker_threads, and Atomics.wait on the calling thread). Each check compiles or constructs the
 * smallest thing that proves the feature, so nothing is inferred from version strings.
 */
import { op } from './opcodes.js';

export interface WasmFeatures {
  readonly simd: boolean;
  readonly relaxedSimd: boolean;
  /** Why relaxed SIMD is off, else null. */
  readonly relaxedSimdReason: string | null;
  readonly threads: boolean;
  /** Why the backend runs single-threaded, else null. */
  readonly threadsReason: string | null;
  /** Logical cores (os.availableParallelism), 1 where unknown. */
  readonly cores: number;
}

export interface FeatureOptions {
  /** Allow enabling V8's relaxed-SIMD flag in Node 20, where it is implemented but not yet on by default. */
  readonly enableRelaxedSimdFlag: boolean;
}

type NodeProcess = {
  getBuiltinModule?: (id: string) => unknown;
  env?: Record<string, string | undefined>;
};

/** A Node built-in module, without a static import (so browser bundles stay clean) and synchronously. */
export function nodeBuiltin<T>(id: string): T | null {
  const proc = (globalThis as { process?: NodeProcess }).process;
  if (typeof proc?.getBuiltinModule !== 'function') return null;
  try {
    return (proc.getBuiltinModule(id) as T) ?? null;
  } catch {
    return null;
  }
}

/** A module with one function `() -> ()` whose body is `code`. */
function probeModule(code: number[]): Uint8Array<ArrayBuffer> {
  const body = [0x00, ...code, ...op.end];
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type section: one () -> ()
    0x03, 0x02, 0x01, 0x00, // function section: function 0 has type 0
    0x0a, body.length + 2, 0x01, body.length, ...body, // code section
  ]);
}

const v128Zero = [...op.v128Const, ...new Array<number>(16).fill(0)];
const SIMD_PROBE = probeModule([...v128Zero, ...v128Zero, ...op.f32x4Add, ...op.drop]);
const RELAXED_PROBE = probeModule([...v128Zero, ...v128Zero, ...v128Zero, ...op.f32x4RelaxedMadd, ...op.drop]);

function validates(bytes: Uint8Array<ArrayBuffer>): boolean {
  try {
    return WebAssembly.validate(bytes);
  } catch {
    return false;
  }
}

function detectRelaxedSimd(options: FeatureOptions): { ok: boolean; reason: string | null } {
  if (validates(RELAXED_PROBE)) return { ok: true, reason: null };
  const v8 = nodeBuiltin<{ setFlagsFromString(flags: string): void }>('node:v8');
  if (!v8) return { ok: false, reason: 'relaxed SIMD is not supported by this engine; the GEMM uses mul + add (about 25% slower)' };
  if (!options.enableRelaxedSimdFlag) {
    return { ok: false, reason: 'relaxed SIMD disabled (FORMERS_WASM_RELAXED_SIMD=0 or relaxedSimd: false); the GEMM uses mul + add' };
  }
  // Node 20's V8 implements relaxed SIMD behind a flag (on by default from V8 11.4 / Node 22). The flag only
  // changes what new modules may contain, so turning it on before our module compiles is safe.
  try {
    v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  } catch {
    // Reported below through the failed validation.
  }
  if (validates(RELAXED_PROBE)) return { ok: true, reason: null };
  return { ok: false, reason: 'relaxed SIMD is not supported by this engine; the GEMM uses mul + add (about 25% slower)' };
}

function detectThreads(): { ok: boolean; reason: string | null; cores: number } {
  const os = nodeBuiltin<{ availableParallelism?: () => number; cpus(): unknown[] }>('node:os');
  const cores = Math.max(1, os ? (os.availableParallelism?.() ?? os.cpus().length) : 1);
  if (typeof SharedArrayBuffer !== 'function' || typeof Atomics !== 'object') {
    return { ok: false, cores, reason: 'SharedArrayBuffer is unavailable (a browser page without cross-origin isolation)' };
  }
  if (!nodeBuiltin('node:worker_threads')) {
    // In a browser, the main thread may not block in Atomics.wait, so a synchronous threaded call is impossible.
    return { ok: false, cores, reason: 'worker_threads is unavailable (not Node >= 20.16), so kernels cannot run threaded synchronously' };
  }
  try {
    new WebAssembly.Memory({ initial: 1, maximum: 1, shared: true });
  } catch (e) {
    return { ok: false, cores, reason: `shared WebAssembly.Memory is unavailable: ${e instanceof Error ? e.message : String(e)}` };
  }
  if (cores < 2) return { ok: false, cores, reason: 'only one CPU core is available' };
  return { ok: true, reason: null, cores };
}

export function detectFeatures(options: FeatureOptions): WasmFeatures {
  const simd = validates(SIMD_PROBE);
  const relaxed = simd ? detectRelaxedSimd(options) : { ok: false, reason: 'WebAssembly SIMD is unavailable' };
  const threads = detectThreads();
  return {
    simd,
    relaxedSimd: relaxed.ok,
    relaxedSimdReason: relaxed.reason,
    threads: threads.ok,
    threadsReason: threads.reason,
    cores: threads.cores,
  };
}

