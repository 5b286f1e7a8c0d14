/**
 * The wasm backend's memory: one WebAssembly.Memory that the GEMM and float32 math modules (and their worker
 * threads) all import, holding
 * - a scratch region where kernels stage operands that live elsewhere, and
 * - when the memory is shared, the backend's own float32 results ("resident" storage): Float32Array views straight
 *   into the memory, so the next kernel reads them where they are, and writes its result where it will stay.
 *
 * Why: with results in ordinary JS arrays, every kernel copied its operands in and its result out on the calling
 * thread; for elementwise ops that was a quarter of their time, and more for small ones. tfjs-backend-wasm keeps its
 * tensors in its module's heap for the same reason.
 *
 * Only a shared memory can hold resident storage: growing it never detaches the buffer, so views made before a
 * growth stay valid (an unshared memory's growth would detach every live view). Without one (no
 * SharedArrayBuffer, e.g. a page without cross-origin isolation) results stay in JS arrays and kernels stage.
 *
 * Allocation is a caching allocator in the spirit of PyTorch's: size classes at most 25% apart (so shapes that
 * differ a little reuse each other's blocks), a free list per class, a bump pointer above them, and, when the
 * memory is full, one pass that coalesces all free blocks into ranges to carve from. A block goes back to its list
 * when tensor-core disposes the storage (tidy, dispose) or, for storage that is only dropped, when the garbage
 * collector finalises its view. When neither the memory nor the free blocks can serve a request, `alloc` returns
 * null and the caller makes an ordinary array: slower kernels, never a failure.
 */
import { nodeBuiltin } from './features.js';

const PAGE = 65536;
/** Results shorter than this stay ordinary arrays: the garbage collector handles small ones cheaply. */
export const RESIDENT_MIN_LENGTH = 1024;
/**
 * Bytes past every block's end that stay in the memory: SIMD kernels read (never write) up to a vector past an
 * operand's last element, and the padded outputs of map and softmax write up to 3 floats past a block's length.
 */
const SLACK = 64;

interface Block {
  readonly at: number;
  readonly bytes: number;
}

/** The byte size class of a request: rounded up to a granule of a quarter of its power of two (at least 64). */
export function sizeClass(bytes: number): number {
  const granule = Math.max(64, 2 ** Math.floor(Math.log2(Math.max(1, bytes))) / 4);
  return Math.ceil(bytes / granule) * granule;
}

/**
 * The default cap on the memory resident storage may grow to: FORMERS_WASM_HEAP_MB, else a third of the machine's
 * memory in Node (at least 512 MiB) or 1 GiB elsewhere, and at most three quarters of the wasm memory's maximum, so
 * that kernels' scratch always has room.
 */
function defaultLimitBytes(maximum: number): number {
  const raw = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FORMERS_WASM_HEAP_MB;
  const mb = raw === undefined || raw.trim() === '' ? Number.NaN : Number(raw);
  if (Number.isFinite(mb) && mb >= 0) return Math.min(maximum, mb * 2 ** 20);
  const os = nodeBuiltin<{ totalmem(): number }>('node:os');
  let total: number | null = null;
  try {
    total = os ? os.totalmem() : null;
  } catch {
    total = null;
  }
  return Math.min((maximum * 3) / 4, total === null ? 2 ** 30 : Math.max(2 ** 29, Math.floor(total / 3)));
}

export interface WasmHeapOptions {
  /** A shared memory (required for resident storage and worker threads). */
  readonly shared: boolean;
  /** The size in bytes up to which the memory may grow for resident storage (default: see defaultLimitBytes). */
  readonly limitBytes?: number;
}

export class WasmHeap {
  readonly memory: WebAssembly.Memory;
  readonly maximumPages: number;
  readonly shared: boolean;
  private readonly limitBytes: number;
  /** Bytes handed out above the scratch region: blocks in use or on free lists. */
  private top: number;
  private readonly free = new Map<number, number[]>();
  private ranges: Block[] = [];
  private readonly blocks = new WeakMap<Float32Array, Block>();
  private readonly buffers = new WeakSet<ArrayBufferLike>();
  private readonly registry: FinalizationRegistry<Block> | null;
  private scratchAt = 0;
  private scratchBytes = 0;
  private residentBytes = 0;

  constructor(options: WasmHeapOptions) {
    this.shared = options.shared;
    const { memory, maximum } = createMemory(options.shared);
    this.memory = memory;
    this.maximumPages = maximum;
    this.limitBytes = Math.min(maximum * PAGE, options.limitBytes ?? defaultLimitBytes(maximum * PAGE));
    this.top = PAGE; // the first page stays unused, so no block sits at address 0
    this.registry = typeof FinalizationRegistry === 'function' ? new FinalizationRegistry<Block>((b) => this.release(b)) : null;
  }

  /** Whether results can live in this memory. */
  get resident(): boolean {
    return this.shared && this.registry !== null;
  }

  /** Bytes of resident storage in use now (not counting free blocks). */
  get usedBytes(): number {
    return this.residentBytes;
  }

  /** A float32 view of `length` elements in this memory, contents unspecified; null when it cannot be had. */
  alloc(length: number): Float32Array | null {
    if (!this.resident || length < RESIDENT_MIN_LENGTH) return null;
    const bytes = sizeClass(length * 4);
    const at = this.take(bytes);
    if (at < 0) return null;
    const view = new Float32Array(this.buffer(), at, length);
    const block = { at, bytes };
    this.blocks.set(view, block);
    this.registry!.register(view, block, view);
    this.residentBytes += bytes;
    return view;
  }

  /** Give back a view `alloc` made; false (and nothing done) for any other array, or one given back before. */
  freeView(view: unknown): boolean {
    if (!(view instanceof Float32Array)) return false;
    const block = this.blocks.get(view);
    if (block === undefined) return false;
    this.blocks.delete(view);
    this.registry!.unregister(view);
    this.release(block);
    return true;
  }

  /** The byte address of `data[0]` when `data` is a view of this memory, else -1. */
  addressOf(data: ArrayBufferView): number {
    return this.buffers.has(data.buffer) ? data.byteOffset : -1;
  }

  /**
   * Elements a kernel may write from `data[0]`: the block's capacity (a vector's worth more than its length at
   * least) when `data` is a view `alloc` made, else 0, so kernels write straight into nothing else.
   */
  capacityOf(data: Float32Array): number {
    const block = this.blocks.get(data);
    return block === undefined ? 0 : block.bytes / 4;
  }

  /**
   * The byte address of a scratch region of at least `bytes`, for staging within one kernel call (each call may
   * move it; nothing may be kept there between calls).
   */
  scratch(bytes: number): number {
    const at = this.tryScratch(bytes);
    if (at < 0) throw new Error(`wasm: a kernel needs ${bytes} bytes of scratch memory, more than the wasm32 memory has left`);
    return at;
  }

  /** `scratch`, or -1 when the memory cannot hold that much (the caller then runs another kernel). */
  tryScratch(bytes: number): number {
    if (bytes <= this.scratchBytes) return this.scratchAt;
    // Twice the old size when that fits, else exactly what is asked.
    let want = sizeClass(Math.max(bytes, 2 * this.scratchBytes, 1 << 20));
    // Scratch is not resident storage: it does not count against the limit, only against the memory's size.
    let at = this.take(want, true);
    if (at < 0 && want > sizeClass(bytes)) at = this.take((want = sizeClass(bytes)), true);
    if (at < 0) return -1;
    if (this.scratchBytes > 0) this.release({ at: this.scratchAt, bytes: this.scratchBytes }, true);
    this.scratchAt = at;
    this.scratchBytes = want;
    return at;
  }

  /** A Float32Array over the whole memory as it is now. */
  heapF32(): Float32Array {
    return new Float32Array(this.buffer());
  }

  private buffer(): ArrayBuffer | SharedArrayBuffer {
    const b = this.memory.buffer;
    this.buffers.add(b);
    return b;
  }

  /**
   * A block of exactly `bytes` (a size class): a free one of that class, else from the top (resident storage only
   * up to the limit, scratch up to the memory's maximum), else carved from the coalesced free blocks.
   */
  private take(bytes: number, scratch = false): number {
    const list = this.free.get(bytes);
    if (list !== undefined && list.length > 0) return list.pop()!;
    const fromTop = this.bump(bytes, scratch ? this.maximumPages * PAGE : this.limitBytes);
    if (fromTop >= 0) return fromTop;
    const carved = this.carve(bytes);
    if (carved >= 0) return carved;
    this.coalesce();
    return this.carve(bytes);
  }

  private bump(bytes: number, cap: number): number {
    const end = this.top + bytes + SLACK;
    if (end > Math.min(cap, ADDRESS_LIMIT)) return -1;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      const current = have / PAGE;
      if (current + pages > this.maximumPages) return -1;
      // Grow by at least a quarter again, so that a run of growing requests does not grow every time.
      this.memory.grow(Math.min(this.maximumPages - current, Math.max(pages, Math.ceil(current / 4))));
    }
    const at = this.top;
    this.top += bytes;
    return at;
  }

  /** Merge every free block into address-ordered ranges, merging neighbours: the memory is full. */
  private coalesce(): void {
    const all: Block[] = [...this.ranges];
    for (const [bytes, list] of this.free) for (const at of list) all.push({ at, bytes });
    this.free.clear();
    all.sort((x, y) => x.at - y.at);
    const merged: Block[] = [];
    for (const b of all) {
      const last = merged[merged.length - 1];
      if (last !== undefined && last.at + last.bytes === b.at) merged[merged.length - 1] = { at: last.at, bytes: last.bytes + b.bytes };
      else merged.push(b);
    }
    this.ranges = merged;
  }

  /** First fit from the coalesced ranges; -1 when none is large enough. */
  private carve(bytes: number): number {
    const i = this.ranges.findIndex((r) => r.bytes >= bytes);
    if (i < 0) return -1;
    const r = this.ranges[i];
    if (r.bytes === bytes) this.ranges.splice(i, 1);
    else this.ranges[i] = { at: r.at + bytes, bytes: r.bytes - bytes };
    return r.at;
  }

  private release(block: Block, scratch = false): void {
    if (!scratch) this.residentBytes -= block.bytes;
    let list = this.free.get(block.bytes);
    if (list === undefined) {
      list = [];
      this.free.set(block.bytes, list);
    }
    list.push(block.at);
  }
}

/**
 * 2 GiB: the kernels compare addresses as signed i32 and the host shifts them as int32, so every block stays below
 * 2^31. A shared memory must declare its maximum (and reserves it as address space).
 */
const MAX_PAGES = 32768;
const ADDRESS_LIMIT = MAX_PAGES * PAGE;

/** A memory with the largest maximum the engine grants. */
function createMemory(shared: boolean): { memory: WebAssembly.Memory; maximum: number } {
  let lastError: unknown = null;
  for (const maximum of [MAX_PAGES, 16384, 4096]) {
    try {
      return { memory: new WebAssembly.Memory({ initial: 64, maximum, shared }), maximum };
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
