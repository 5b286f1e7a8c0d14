/**
 * The host side of the float32 GEMM: reads operands that live in the backend's memory (wasm-heap.ts) in place and
 * copies the others into scratch, splits C over the calling thread and the worker pool, and writes C straight
 * into a resident result (else into scratch, then copies it out). See gemm-module.ts for the kernel.
 */
import type { MatmulParams } from '../types.js';
import { GEMM_PARAMS, buildGemmModule, gemmTile, packLayout, type GemmTile } from './gemm-module.js';
import { WasmThreadPool, type Split } from './thread-pool.js';
import { WasmHeap } from './wasm-heap.js';

export interface GemmEngineOptions {
  readonly relaxedSimd: boolean;
  /** Threads in all, the caller included; 1 runs on the calling thread only (and needs no shared memory). */
  readonly threads: number;
  /** Multiply-adds (batch * m * n * k) below which a call stays on the calling thread. */
  readonly threadThreshold: number;
}

/** Straggling calls in a row before the engine runs single-threaded for a while, and for how many calls. */
const STRIKES = 3;
const SOLO_CALLS = 32;
/** Calls whose own share took less than this (ms) say nothing about stragglers. */
const STRAGGLER_MIN_MS = 2;
const align = (x: number, to: number) => Math.ceil(x / to) * to;

/** Where each operand lives in memory for one call (byte offsets). */
interface Layout {
  /** Thread 0's packing buffers; thread t's follow at t * packLayout(tile).bytes. */
  readonly pack: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
}

export class GemmEngine {
  readonly threads: number;
  readonly heap: WasmHeap;
  private readonly gemm: (...args: number[]) => void;
  private readonly pool: WasmThreadPool | null;
  private readonly gemmFn: number;
  private readonly tile: GemmTile;
  private readonly packBytes: number;
  private readonly packBOffset: number;
  private strikes = 0;
  private soloCalls = 0;

  /** `heap`: the memory to run in (shared when threads > 1); default: a new one of its own. */
  constructor(private readonly options: GemmEngineOptions, heap?: WasmHeap) {
    this.heap = heap ?? new WasmHeap({ shared: options.threads > 1 });
    const shared = this.heap.shared;
    this.tile = gemmTile(options.relaxedSimd);
    const pack = packLayout(this.tile);
    this.packBytes = pack.bytes;
    this.packBOffset = pack.aBytes;
    const module = new WebAssembly.Module(
      buildGemmModule({ relaxedSimd: options.relaxedSimd, sharedMemory: shared, maximumPages: this.heap.maximumPages, tile: this.tile }),
    );
    const instance = new WebAssembly.Instance(module, { env: { memory: this.heap.memory } });
    this.gemm = instance.exports.gemm as (...args: number[]) => void;
    this.threads = shared ? Math.max(1, options.threads) : 1;
    // The workers are shared with every other module on this memory (the float32 kernels).
    this.pool = this.threads > 1 ? WasmThreadPool.forMemory(this.heap.memory, this.threads - 1) : null;
    this.gemmFn = this.pool?.register(module, ['gemm']) ?? 0;
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
    const lenA = (batch - 1) * strideA + m * k;
    const lenB = (batch - 1) * strideB + k * n;
    const split = this.partition(batch, m, n, k);
    // Resident operands are read and written in place; the kernel writes edge tiles exactly, so C is never padded.
    const aAt = this.heap.addressOf(a);
    const bAt = this.heap.addressOf(b);
    const cDirect = this.heap.capacityOf(out) >= batch * m * n;
    const layout = this.reserve(aAt < 0 ? lenA : 0, bAt < 0 ? lenB : 0, cDirect ? 0 : batch * m * n);
    const heap = this.heap.heapF32();
    if (aAt < 0) heap.set(a.subarray(0, lenA), layout.a >>> 2);
    if (bAt < 0) heap.set(b.subarray(0, lenB), layout.b >>> 2);
    const cAt = cDirect ? out.byteOffset : layout.c;
    // No zero fill: the kernel's first k block stores C (k > 0 here).
    const args = [
      aAt < 0 ? layout.a : aAt, bAt < 0 ? layout.b : bAt, cAt,
      0, batch, strideA * 4, strideB * 4, m * n * 4,
      k,
      transA ? 1 : k, transA ? m : 1, // op(A)[i, p] at i * rsA + p * csA
      transB ? 1 : n, transB ? k : 1, // op(B)[p, j] at p * rsB + j * csB
      n, 0, m, 0, n,
      layout.pack, layout.pack + this.packBOffset, // thread 0's packing buffers
    ];
    const pack = { packIndex: ARG.packA, bytes: this.packBytes, bOffset: this.packBOffset, base: layout.pack };
    const ran = split !== null && this.pool !== null && this.pool.run(args, split, pack, (x) => this.gemm(...x), this.gemmFn);
    if (ran) this.noteStraggling(this.pool!.lastOwnMs, this.pool!.lastWaitMs);
    if (!ran) {
      // One thread for the whole output (also after a worker failure: the first k block overwrites what it left).
      this.gemm(...args);
    }
    if (!cDirect) out.set(new Float32Array(this.heap.memory.buffer, layout.c, batch * m * n));
    return out;
  }

  /**
   * How to cut the output into chunks that the threads claim one by one: whole matrices when there are enough,
   * else bands of MR rows or NR columns, so that threads never write the same tile. A few more chunks than
   * threads lets the caller take over work from a worker the OS schedules late; more than that would repack the
   * shared operand too often (every column band packs all of A, every row band all of B). Row bands only when C
   * is tall. Null: stay on the calling thread.
   */
  private partition(batch: number, m: number, n: number, k: number): Split | null {
    const t = this.threads;
    if (!this.pool || this.pool.failed !== null || t === 1 || batch * m * n * k < this.options.threadThreshold) return null;
    if (this.soloCalls > 0) {
      this.soloCalls--;
      return null;
    }
    if (batch >= t) return { index: ARG.batch0, unit: 1, extent: batch, chunks: Math.min(batch, 4 * t) };
    const mr = this.tile.mr;
    const nr = 4 * this.tile.nv;
    const cols = Math.ceil(n / nr);
    const rows = Math.ceil(m / mr);
    if (n >= m && cols >= 2) return { index: ARG.j0, unit: nr, extent: n, chunks: Math.min(cols, 2 * t) };
    if (rows >= 2) return { index: ARG.i0, unit: mr, extent: m, chunks: Math.min(rows, 2 * t) };
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

  /** Lay out the packing buffers, then staged A, B and C, in the heap's scratch (byte addresses). */
  private reserve(lenA: number, lenB: number, lenC: number): Layout {
    const a = align(this.threads * this.packBytes, 64);
    const b = align(a + lenA * 4, 64);
    const c = align(b + lenB * 4, 64);
    const end = c + lenC * 4;
    const base = this.heap.scratch(end);
    return { pack: base, a: base + a, b: base + b, c: base + c };
  }
}

/** Argument positions of `gemm`. */
const ARG = Object.fromEntries(GEMM_PARAMS.map((p, i) => [p, i])) as Record<(typeof GEMM_PARAMS)[number], number>;
