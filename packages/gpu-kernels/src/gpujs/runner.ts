import { GPU } from 'gpu.js';
import { andThen, isPromise, type Maybe } from './async.js';
import { KernelCache, type CachedKernel } from './kernel-cache.js';
import type { GpujsMode } from './modes.js';

/** One run of a generated kernel over a 1-D output of `size` elements. */
export interface KernelCall {
  /** The contract kernel this pass belongs to ('unary', 'matmul', ...), for fallback reports. */
  readonly kernel: string;
  readonly source: string;
  readonly size: number;
  readonly args: readonly Float32Array[];
}

interface GpuLike {
  createKernel(source: string, settings: Record<string, unknown>): CachedKernel;
  destroy(): void | Promise<void>;
}

/**
 * The generated kernels index in float32 on every GPU-style mode, which is exact only below 2^24. The cpu mode
 * runs them as JavaScript (float64), so the limit does not apply there.
 */
export const MAX_FLOAT32_INDEX = 2 ** 24;

/** A stand-in for an empty array argument: gpu.js cannot upload length 0, and the kernel never reads it. */
const EMPTY_ARG = new Float32Array(1);

/**
 * Runs generated kernels on one gpu.js `GPU` instance in one mode, through a `KernelCache`. Results are copied
 * out of gpu.js (which may reuse its output buffer between calls) into fresh Float32Arrays owned by the caller.
 *
 * gpu.js itself degrades a kernel it cannot compile for a GPU mode to its cpu backend. That is reported here:
 * the kernel lands in `fallbacks` with gpu.js's reason and `warn` is called once, so it never happens silently.
 */
export class KernelRunner {
  readonly cache: KernelCache;
  private readonly gpu: GpuLike;
  private destroyed = false;

  constructor(
    readonly mode: GpujsMode,
    private readonly fallbacks: Map<string, string>,
    private readonly warn: (message: string) => void,
    cacheCapacity?: number,
    /** gpu.js's async contract: on webasm, kernels with >= 4096 outputs then split over a worker pool. */
    private readonly asyncMode = false,
  ) {
    this.gpu = new GPU({ mode }) as unknown as GpuLike;
    this.cache = new KernelCache(cacheCapacity);
  }

  run(call: KernelCall): Maybe<Float32Array> {
    if (this.destroyed) throw new Error(`gpujs.${call.kernel}: the "${this.mode}" backend was destroyed`);
    if (call.size === 0) return new Float32Array(0);
    if (this.mode !== 'cpu') {
      const largest = Math.max(call.size, ...call.args.map((a) => a.length));
      if (largest > MAX_FLOAT32_INDEX) {
        throw new Error(
          `${this.mode}.${call.kernel}: a buffer of ${largest} elements is beyond 2^24 = ${MAX_FLOAT32_INDEX}, the largest ` +
            'size float32 index arithmetic addresses exactly; split the tensor, or use the "wasm" or "cpu" backend',
        );
      }
    }
    const args = call.args.map((a) => (a.length === 0 ? EMPTY_ARG : a));
    const key = `${call.size}|${args.map((a) => a.length).join(',')}|${call.source}`;
    const kernel = this.cache.get(key, () =>
      this.gpu.createKernel(call.source, {
        output: [call.size],
        precision: 'single',
        tactic: 'precision',
        asyncMode: this.asyncMode,
        // Sizes are literals in the source, so loops have constant bounds; this only lifts gpu.js's guard.
        loopMaxIterations: 1 << 30,
      }),
    );
    const result = kernel(...args) as Maybe<ArrayLike<number>>;
    const finish = (r: ArrayLike<number>): Float32Array => {
      this.checkDegraded(call.kernel, kernel);
      if (r.length < call.size) {
        throw new Error(`gpujs.${call.kernel}: gpu.js returned ${r.length} values; expected ${call.size}`);
      }
      return r instanceof Float32Array ? r.slice(0, call.size) : Float32Array.from({ length: call.size }, (_, j) => r[j]);
    };
    return andThen(result, finish);
  }

  /** Destroy every compiled kernel and the gpu.js instance (its GL context or WebGPU device). */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.cache.clear();
    try {
      const r = this.gpu.destroy();
      if (isPromise(r)) r.catch(() => {});
    } catch {
      // Already gone.
    }
  }

  private checkDegraded(kernelName: string, kernel: CachedKernel): void {
    if (this.mode === 'cpu') return;
    const inner = kernel.kernel;
    if (!inner || inner.constructor.name !== 'CPUKernel') return;
    const key = `${kernelName}:gpujs-cpu`;
    if (this.fallbacks.has(key)) return;
    const reason = `gpu.js could not run this ${kernelName} kernel in ${this.mode} mode and ran it on its cpu backend` +
      (inner.fallbackReason ? `: ${inner.fallbackReason}` : '');
    this.fallbacks.set(key, reason);
    this.warn(`formers: ${this.mode}.${kernelName}: ${reason}`);
  }
}
