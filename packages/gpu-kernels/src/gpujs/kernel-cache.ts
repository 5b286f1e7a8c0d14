/**
 * Compiled gpu.js kernels, cached by what determines the compiled code: the kernel's generated source (which
 * spells out the shape and settings as literals), its output size and the lengths of its array arguments (GL
 * backends bake texture sizes into the shader). A second call with the same shape reuses the compiled kernel.
 *
 * The cache is bounded: beyond `capacity` kernels, the least recently used one is destroyed, which frees its
 * textures / GPU buffers. `clear()` destroys every kernel now, deterministically.
 */
export interface CachedKernel {
  (...args: unknown[]): unknown;
  destroy?: (removeCanvasReferences?: boolean) => void;
  kernel?: { constructor: { name: string }; fallbackReason?: string | null };
}

export interface KernelCacheStats {
  /** Kernels created (compiled on first run) since the cache was made. */
  readonly compiles: number;
  /** Lookups served by an already compiled kernel. */
  readonly hits: number;
  /** Kernels currently held. */
  readonly size: number;
  /** Kernels destroyed to stay within capacity. */
  readonly evictions: number;
}

export class KernelCache {
  private readonly kernels = new Map<string, CachedKernel>();
  private compiles = 0;
  private hits = 0;
  private evictions = 0;

  constructor(readonly capacity = 512) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new Error(`KernelCache: expected capacity to be a positive integer; got ${String(capacity)}`);
    }
  }

  /** The kernel cached under `key`, or the one `create` makes (then cached). */
  get(key: string, create: () => CachedKernel): CachedKernel {
    const found = this.kernels.get(key);
    if (found) {
      this.hits++;
      // Re-insert so Map order is least-recently-used first.
      this.kernels.delete(key);
      this.kernels.set(key, found);
      return found;
    }
    const made = create();
    this.compiles++;
    this.kernels.set(key, made);
    while (this.kernels.size > this.capacity) {
      const [oldest, kernel] = this.kernels.entries().next().value as [string, CachedKernel];
      this.kernels.delete(oldest);
      destroyKernel(kernel);
      this.evictions++;
    }
    return made;
  }

  has(key: string): boolean {
    return this.kernels.has(key);
  }

  stats(): KernelCacheStats {
    return { compiles: this.compiles, hits: this.hits, size: this.kernels.size, evictions: this.evictions };
  }

  /** Destroy every cached kernel (and with it its textures or GPU buffers). The cache stays usable. */
  clear(): void {
    for (const kernel of this.kernels.values()) destroyKernel(kernel);
    this.kernels.clear();
  }
}

function destroyKernel(kernel: CachedKernel): void {
  try {
    // Not destroy(true): on the GL backends that also drops gpu.js's shared per-canvas texture-size record, which
    // the kernels still alive on the same canvas rely on (they then read back from a too-small drawing buffer).
    kernel.destroy?.(false);
  } catch {
    // A kernel whose context is already gone has nothing left to free.
  }
}
