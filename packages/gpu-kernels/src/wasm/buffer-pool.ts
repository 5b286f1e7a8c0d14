/**
 * A caching allocator for the float32 outputs of the wasm backend's own kernels, in the spirit of PyTorch's CPU
 * and CUDA caching allocators.
 *
 * A ViT-Ti forward pass allocates about 90 MB of results, nearly all of them dead a moment later; V8 counts each
 * typed array's buffer as external memory and answers that rate with full garbage collections (15% of the pass
 * here). tensor-core calls `dispose(handle)` when a storage's last tensor lets go (tidy does it for whole
 * scopes); this pool keeps such a buffer and hands it out again for the next result of the same length.
 *
 * Only buffers this pool made are ever reused (a WeakSet remembers them), so a handle of another origin, or one
 * disposed twice, can never come back as somebody else's result. Results are always fully overwritten by the
 * kernel that takes them, so no zero fill is needed. Pooled memory is capped; `clear()` drops it all.
 */
import { nodeBuiltin } from './features.js';

/**
 * The default cap: FORMERS_WASM_POOL_MB if set, else a sixteenth of the machine's memory in Node, at least 128 MB and at
 * most 1 GiB (softmax attention at N = 4096 with 4 heads makes two 268 MB results per call; without reuse each
 * call page-faults them in afresh), and 256 MB where the memory size is unknown (browsers).
 */
export function defaultPoolBytes(): number {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FORMERS_WASM_POOL_MB;
  const mb = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  if (Number.isFinite(mb) && mb >= 0) return mb * 2 ** 20;
  const total = nodeTotalMemory();
  if (total === null) return 256 * 2 ** 20;
  return Math.min(2 ** 30, Math.max(128 * 2 ** 20, Math.floor(total / 16)));
}

function nodeTotalMemory(): number | null {
  const os = nodeBuiltin<{ totalmem(): number }>('node:os');
  try {
    return os ? os.totalmem() : null;
  } catch {
    return null;
  }
}

/** The pool: free buffers by length, and which buffers it made. */
export class BufferPool {
  private readonly free = new Map<number, Float32Array[]>();
  private readonly made = new WeakSet<Float32Array>();
  private readonly pooled = new WeakSet<Float32Array>();
  private bytes = 0;

  /**
   * @param maxBytes the most memory kept for reuse.
   * @param minLength arrays shorter than this are left to the garbage collector (small ones are cheap).
   * @param perLength how many free arrays of one length are kept.
   */
  constructor(
    readonly maxBytes = defaultPoolBytes(),
    readonly minLength = 4096,
    readonly perLength = 256,
  ) {}

  /** A Float32Array of `length` elements with unspecified contents (the caller overwrites all of it). */
  take(length: number): Float32Array {
    const list = length >= this.minLength ? this.free.get(length) : undefined;
    const reused = list?.pop();
    if (reused !== undefined) {
      this.pooled.delete(reused);
      this.bytes -= reused.byteLength;
      return reused;
    }
    const fresh = new Float32Array(length);
    if (length >= this.minLength) this.made.add(fresh);
    return fresh;
  }

  /** Take back a handle whose last user is gone; anything this pool did not make is ignored. */
  give(h: unknown): void {
    if (!(h instanceof Float32Array) || !this.made.has(h) || this.pooled.has(h)) return;
    if (this.bytes + h.byteLength > this.maxBytes) return;
    let list = this.free.get(h.length);
    if (list === undefined) {
      list = [];
      this.free.set(h.length, list);
    }
    if (list.length >= this.perLength) return;
    list.push(h);
    this.pooled.add(h);
    this.bytes += h.byteLength;
  }

  /** Bytes held for reuse now. */
  get heldBytes(): number {
    return this.bytes;
  }

  /** Drop every pooled buffer (the garbage collector frees them). */
  clear(): void {
    for (const list of this.free.values()) for (const h of list) this.pooled.delete(h);
    this.free.clear();
    this.bytes = 0;
  }
}
