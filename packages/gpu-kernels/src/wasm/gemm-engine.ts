/**
 * The host side of the float32 GEMM: copies the operands into WebAssembly memory, splits C over the calling
 * thread and the worker pool, and copies the result out. See gemm-module.ts for the kernel itself.
 */
import type { MatmulParams } from '../types.js';
import { GEMM_PARAMS, MR, NR, PACK_A_BYTES, PACK_B_BYTES, buildGemmModule } from './gemm-module.js';
import { WasmThreadPool, type Split } from './thread-pool.js';

export interface GemmEngineOptions {
  readonly relaxedSimd: boolean;
  /** Threads in all, the caller included; 1 runs on the calling thread only (and needs no shared memory). */
  readonly threads: number;
  /** Multiply-adds (batch * m * n * k) below which a call stays on the calling thread. */
  readonly threadThreshold: number;
}

const PAGE = 65536;
/** Straggling calls in a row before the engine runs single-threaded for a while, and for how many calls. */
const STRIKES = 3;
const SOLO_CALLS = 32;
/** Calls whose own share took less than this (ms) say nothing about stragglers. */
const STRAGGLER_MIN_MS = 2;
/** 4 GiB, the wasm32 limit; a shared memory must declare its maximum. */
const MAX_PAGES = 65536;
const align = (x: number, to: number) => Math.ceil(x / to) * to;

/** Where each operand lives in memory for one call (byte offsets). */
interface Layout {
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly end: number;
}

export class GemmEngine {
  readonly threads: number;
  private readonly memory: WebAssembly.Memory;
  private readonly gemm: (...args: number[]) => void;
  private readonly pool: WasmThreadPool | null;
  private readonly packBytes = PACK_A_BYTES + PACK_B_BYTES;
  private strikes = 0;
  private soloCalls = 0;

  constructor(private readonly options: GemmEngineOptions) {
    const shared = options.threads > 1;
    this.memory = createMemory(shared);
    const module = new WebAssembly.Module(
      buildGemmModule({ relaxedSimd: options.relaxedSimd, sharedMemory: shared, maximumPages: maximumOf(this.memory) }),
    );
    const instance = new WebAssembly.Instance(module, { env: { memory: this.memory } });
    this.gemm = instance.exports.gemm as (...args: number[]) => void;
    this.threads = Math.max(1, options.threads);
    this.pool = this.threads > 1 ? new WasmThreadPool(module, this.memory, this.threads - 1, ['gemm']) : null;
  }

  /** Why threads are off after all (the workers failed), else null. */
  get threadFailure(): string | null {
    return this.pool?.failed ?? null;
  }

  /** Stop the worker threads; later calls run on the calling thread. */
  terminate(): void {
    this.pool?.terminate();
  }

  /** float32 C[b] = op(A[b]) @ op(B[b]); the caller has validated the lengths. */
  matmul(a: Float32Array, b: Float32Array, p: MatmulParams, alloc: (n: number) => Float32Array = (n) => new Float32Array(n)): Float32Array {
    const { batch, m, n, k, transA, transB, strideA, strideB } = p;
    if (batch * m * n === 0 || k === 0) return new Float32Array(batch * m * n); // zeros (k = 0) or empty
    const out = alloc(batch * m * n);
    // C is padded to whole MR x NR tiles, so the micro-kernel never needs an edge case.
    const mp = align(m, MR);
    const np = align(n, NR);
    const lenA = (batch - 1) * strideA + m * k;
    const lenB = (batch - 1) * strideB + k * n;
    const split = this.partition(batch, m, n, k);
    const layout = this.reserve(lenA, lenB, batch * mp * np);
    const heap = new Float32Array(this.memory.buffer);
    heap.set(a.subarray(0, lenA), layout.a >> 2);
    heap.set(b.subarray(0, lenB), layout.b >> 2);
    // No zero fill: the kernel's first k block stores C (k > 0 here).
    const args = [
      layout.a, layout.b, layout.c,
      0, batch, strideA * 4, strideB * 4, mp * np * 4,
      k,
      transA ? 1 : k, transA ? m : 1, // op(A)[i, p] at i * rsA + p * csA
      transB ? 1 : n, transB ? k : 1, // op(B)[p, j] at p * rsB + j * csB
      np, 0, m, 0, n,
      0, PACK_A_BYTES, // thread 0's packing buffers
    ];
    const pack = { packIndex: ARG.packA, bytes: this.packBytes, bOffset: PACK_A_BYTES };
    const ran = split !== null && this.pool !== null && this.pool.run(args, split, pack, (a) => this.gemm(...a));
    if (ran) this.noteStraggling(this.pool!.lastOwnMs, this.pool!.lastWaitMs);
    if (!ran) {
      // One thread for the whole output (also after a worker failure: the first k block overwrites what it left).
      this.gemm(...args);
    }
    const view = new Float32Array(this.memory.buffer, layout.c, batch * mp * np);
    if (mp === m && np === n) {
      out.set(view);
    } else if (np === n) {
      // Only whole padding rows at the end of each matrix: its first m rows are contiguous.
      for (let bi = 0; bi < batch; bi++) out.set(view.subarray(bi * mp * np, bi * mp * np + m * n), bi * m * n);
    } else {
      for (let r = 0; r < batch * m; r++) {
        const bi = Math.floor(r / m);
        const src = (bi * mp + (r - bi * m)) * np;
        out.set(view.subarray(src, src + n), r * n);
      }
    }
    return out;
  }

  /**
   * How to cut the output into chunks that the threads claim one by one: whole matrices when there are enough,
   * else bands of NR columns (or MR rows when C is tall), so that threads never write the same tile. A few more
   * chunks than threads lets the caller take over work from a worker the OS schedules late; more than that would
   * repack the shared operand too often (every column band packs all of A). Null: stay on the calling thread.
   */
  private partition(batch: number, m: number, n: number, k: number): Split | null {
    const t = this.threads;
    if (!this.pool || this.pool.failed !== null || t === 1 || batch * m * n * k < this.options.threadThreshold) return null;
    if (this.soloCalls > 0) {
      this.soloCalls--;
      return null;
    }
    if (batch >= t) return { index: ARG.batch0, unit: 1, extent: batch, chunks: Math.min(batch, 4 * t) };
    const cols = Math.ceil(n / NR);
    const rows = Math.ceil(m / MR);
    if (n >= m && cols >= 2) return { index: ARG.j0, unit: NR, extent: n, chunks: Math.min(cols, 2 * t) };
    if (rows >= 2) return { index: ARG.i0, unit: MR, extent: m, chunks: Math.min(rows, 2 * t) };
    return null;
  }

  /**
   * When the machine is oversubscribed (other processes on our cores), a worker the OS does not run stalls the
   * synchronous join, and two threads run slower than one. After STRIKES calls in a row in which the caller
   * waited longer for the workers than it computed itself, the next SOLO_CALLS large products run on the calling
   * thread alone; then threads are tried again. Short calls are not counted: there the wait is the worker's
   * wake-up latency, not a straggler.
   */
  private noteStraggling(ownMs: number, waitMs: number): void {
    // Only calls long enough that a worker's wake-up latency (0.1 to 1 ms after it slept) is not the wait count.
    if (ownMs < STRAGGLER_MIN_MS) return;
    this.strikes = waitMs > ownMs ? this.strikes + 1 : 0;
    if (this.strikes >= STRIKES) {
      this.strikes = 0;
      this.soloCalls = SOLO_CALLS;
    }
  }

  /** Lay out the packing buffers, then A, B and C, growing memory when needed. */
  private reserve(lenA: number, lenB: number, lenC: number): Layout {
    const a = align(this.threads * this.packBytes, 64);
    const b = align(a + lenA * 4, 64);
    const c = align(b + lenB * 4, 64);
    const end = c + lenC * 4;
    const have = this.memory.buffer.byteLength;
    if (end > have) {
      const pages = Math.ceil((end - have) / PAGE);
      if (have / PAGE + pages > maximumOf(this.memory)) {
        throw new Error(`wasm matmul: operands need ${end} bytes, more than the 4 GiB a wasm32 memory can hold`);
      }
      // Grow by at least half again, so a sequence of growing calls does not grow every time.
      this.memory.grow(Math.min(maximumOf(this.memory) - have / PAGE, Math.max(pages, Math.ceil(have / PAGE / 2))));
    }
    return { a, b, c, end };
  }
}

/** Argument positions of `gemm`. */
const ARG = Object.fromEntries(GEMM_PARAMS.map((p, i) => [p, i])) as Record<(typeof GEMM_PARAMS)[number], number>;

const maxPagesOf = new WeakMap<WebAssembly.Memory, number>();
function maximumOf(memory: WebAssembly.Memory): number {
  return maxPagesOf.get(memory) ?? MAX_PAGES;
}

/** A memory with the largest maximum the engine grants (a shared memory reserves its maximum up front). */
function createMemory(shared: boolean): WebAssembly.Memory {
  let lastError: unknown = null;
  for (const maximum of [MAX_PAGES, 16384, 4096]) {
    try {
      const memory = new WebAssembly.Memory({ initial: 64, maximum, shared });
      maxPagesOf.set(memory, maximum);
      return memory;
    } catch (e) {
      lastError = e;
    }
  }
  throw lastError instanceof Error ? lastError : new Error(String(lastError));
}
