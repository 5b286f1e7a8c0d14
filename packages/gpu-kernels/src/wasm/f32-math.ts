/**
 * The host side of the float32 math module (f32-math-module.ts): streams contiguous Float32Arrays through
 * WebAssembly memory in blocks, pads softmax rows to whole vectors, and, given threads, splits each large call's
 * rows over the calling thread and worker threads that share the module's memory (the GEMM's mechanism,
 * thread-pool.ts), so the call stays synchronous.
 */
import { F32_BINARY_OPS, type F32BinaryOp } from './f32-binary-functions.js';
import { F32_MAP_OPS, buildF32MathModule, type F32MapOp } from './f32-math-module.js';
import { WasmThreadPool, type Split } from './thread-pool.js';

const PAGE = 65536;
/** Elements per block: 2 x 1 MiB of input and output in memory at once (each thread's share stays in L2). */
const BLOCK = 262144;
const MAX_PAGES = 16384; // 1 GiB: a softmax block of one very long row needs its whole row in memory
/** Calls on fewer elements than this stay on the calling thread: a round trip to a worker costs ~20 us. */
const THREAD_MIN_ELEMENTS = 65536;

/** One operand of a (rows, cols) binary block: element (r, c) at start + r * rowStride + c * colStep. */
export interface BlockOperand {
  readonly data: Float32Array;
  readonly start: number;
  readonly rowStride: number;
  /** 1: contiguous along the row; 0: one value per row. */
  readonly colStep: 0 | 1;
}

export interface F32MathOptions {
  /** Evaluate the polynomials with relaxed-SIMD FMA (the engine must support it). */
  readonly relaxedSimd?: boolean;
  /** Threads in all, the caller included (1: no workers, unshared memory). */
  readonly threads?: number;
}

export class F32Math {
  private readonly memory: WebAssembly.Memory;
  private readonly exports: Record<string, (...args: number[]) => void>;
  private readonly names: string[];
  private readonly pool: WasmThreadPool | null;

  constructor(options: F32MathOptions = {}) {
    const threads = Math.max(1, options.threads ?? 1);
    const shared = threads > 1;
    this.memory = new WebAssembly.Memory({ initial: Math.ceil((2 * BLOCK * 4) / PAGE) + 1, maximum: MAX_PAGES, shared });
    const module = new WebAssembly.Module(buildF32MathModule(MAX_PAGES, options.relaxedSimd ?? false, shared));
    this.exports = new WebAssembly.Instance(module, { env: { memory: this.memory } }).exports as Record<string, (...args: number[]) => void>;
    this.names = [...F32_MAP_OPS, 'softmax', ...F32_BINARY_OPS.map((n) => `binary_${n}`), 'norm', 'where', 'depthwise', 'scan', 'reduce', 'selectiveScan'];
    this.pool = shared ? new WasmThreadPool(module, this.memory, threads - 1, this.names) : null;
  }

  /** Why the workers are off (they failed to start or to compute), else null; calls then run on one thread. */
  get threadFailure(): string | null {
    return this.pool?.failed ?? null;
  }

  /** Stop the workers; later calls run on the calling thread. */
  terminate(): void {
    this.pool?.terminate();
  }

  /**
   * Run export `name` with `args`, whose [rangeAt, rangeAt + 1] are the [start, end) of `extent` rows (or
   * elements, in multiples of `unit`): over the threads when the call is large enough, else here.
   */
  private call(name: string, args: number[], rangeAt: number, extent: number, unit: number, elements: number): void {
    const fn = this.exports[name];
    const threads = (this.pool?.workerCount ?? 0) + 1;
    const units = Math.ceil(extent / unit);
    if (this.pool !== null && this.pool.failed === null && elements >= THREAD_MIN_ELEMENTS && units >= 2) {
      args[rangeAt] = 0;
      args[rangeAt + 1] = extent;
      const split: Split = { index: rangeAt, unit, extent, chunks: Math.min(units, 4 * threads) };
      if (this.pool.run(args, split, null, (a) => fn(...a), this.names.indexOf(name))) return;
    }
    args[rangeAt] = 0;
    args[rangeAt + 1] = extent;
    fn(...args);
  }

  /**
   * out[r * cols + c] = a(r, c) op b(r, c) over a (rows, cols) block; row strides must be >= 0. Each operand's
   * span is copied into memory once (a broadcast bias row is copied once, not per row). Returns false, having
   * done nothing, when the operands would not fit the module's memory.
   */
  binary(op: F32BinaryOp, a: BlockOperand, b: BlockOperand, rows: number, cols: number, out: Float32Array): boolean {
    return this.block([a, b], rows, cols, out, (p, o, nr, nc) =>
      this.call(`binary_${op}`, [p[0], a.rowStride * 4, a.colStep, p[1], b.rowStride * 4, b.colStep, o, 0, nr, nc], 7, nr, 1, nr * nc),
    );
  }

  /** out[r * cols + c] = cond(r, c) != 0 ? a(r, c) : b(r, c); false (nothing done) when it would not fit. */
  where(cond: BlockOperand, a: BlockOperand, b: BlockOperand, rows: number, cols: number, out: Float32Array): boolean {
    return this.block([cond, a, b], rows, cols, out, (p, o, nr, nc) =>
      this.call('where', [p[0], cond.rowStride * 4, cond.colStep, p[1], a.rowStride * 4, a.colStep, p[2], b.rowStride * 4, b.colStep, o, 0, nr, nc], 10, nr, 1, nr * nc),
    );
  }

  /**
   * Run `kernel` over (rows, cols) in blocks of at most about 4 BLOCK elements of operands and output: each
   * block copies every operand's span for its rows (a broadcast bias row: its columns only, once per block) into
   * memory, the kernel computes the block's (nr, nc) output contiguously, and it is copied to its place in out.
   * Row strides must be >= 0. Streaming keeps memory and page faults bounded however large the tensors are.
   */
  private block(
    operands: readonly BlockOperand[], rows: number, cols: number, out: Float32Array,
    kernel: (at: number[], outAt: number, nr: number, nc: number) => void,
  ): boolean {
    const budget = 4 * BLOCK;
    const colChunk = Math.max(1, Math.min(cols, budget));
    const rowCost = (nc: number) => operands.reduce((sum, o) => sum + o.rowStride, 0) + nc; // elements per extra row
    for (let c0 = 0; c0 < cols; c0 += colChunk) {
      const nc = Math.min(colChunk, cols - c0);
      const perBlock = Math.max(1, Math.floor(budget / Math.max(1, rowCost(nc))));
      for (let r0 = 0; r0 < rows; r0 += perBlock) {
        const nr = Math.min(perBlock, rows - r0);
        const at: number[] = [];
        const spans: number[] = [];
        let next = 0; // element offset of the next operand, 16-byte aligned
        for (const o of operands) {
          const span = (nr - 1) * o.rowStride + (nc - 1) * o.colStep + 1;
          at.push(next);
          spans.push(span);
          next += (span + 3) & ~3;
        }
        const bytes = (next + nr * nc) * 4;
        if (bytes > MAX_PAGES * PAGE) return false;
        this.reserve(bytes);
        const heap = new Float32Array(this.memory.buffer);
        operands.forEach((o, k) => {
          const from = o.start + r0 * o.rowStride + c0 * o.colStep;
          heap.set(o.data.subarray(from, from + spans[k]), at[k]);
        });
        kernel(at.map((e) => e * 4), next * 4, nr, nc);
        if (nc === cols) {
          out.set(heap.subarray(next, next + nr * nc), r0 * cols);
        } else {
          for (let r = 0; r < nr; r++) out.set(heap.subarray(next + r * nc, next + (r + 1) * nc), (r0 + r) * cols + c0);
        }
      }
    }
    return true;
  }

  /** out[i] = op(x[off + i]) for i < n. */
  map(op: F32MapOp, x: Float32Array, off: number, n: number, out: Float32Array): void {
    this.reserve(2 * BLOCK * 4);
    const heap = new Float32Array(this.memory.buffer);
    const dst = BLOCK; // element index of the output block
    for (let s = 0; s < n; s += BLOCK) {
      const len = Math.min(BLOCK, n - s);
      const padded = (len + 3) & ~3;
      heap.set(x.subarray(off + s, off + s + len), 0);
      if (padded > len) heap.fill(0, len, padded); // the tail lanes compute on zeros and are not copied out
      // Chunks of 64 elements (a cache line of output each 16).
      this.call(op, [0, dst * 4, 0, padded], 2, padded, 64, padded);
      out.set(heap.subarray(dst, dst + len), s);
    }
  }

  /** Softmax of each row of (rows, cols) in x (from element `off`) into out. */
  softmax(x: Float32Array, off: number, rows: number, cols: number, out: Float32Array): void {
    const colsP = (cols + 3) & ~3;
    // As many whole rows per block as fit (at least one).
    const rowsPerBlock = Math.max(1, Math.floor(BLOCK / colsP));
    this.reserve(2 * rowsPerBlock * colsP * 4);
    const heap = new Float32Array(this.memory.buffer);
    const dst = rowsPerBlock * colsP;
    for (let r0 = 0; r0 < rows; r0 += rowsPerBlock) {
      const nr = Math.min(rowsPerBlock, rows - r0);
      if (colsP === cols) {
        heap.set(x.subarray(off + r0 * cols, off + (r0 + nr) * cols), 0);
      } else {
        for (let r = 0; r < nr; r++) {
          const from = off + (r0 + r) * cols;
          heap.set(x.subarray(from, from + cols), r * colsP);
          heap.fill(-Infinity, r * colsP + cols, (r + 1) * colsP); // exp(-inf - max) = 0: no weight in the sum
        }
      }
      this.call('softmax', [0, dst * 4, 0, nr, colsP], 2, nr, 1, nr * colsP);
      if (colsP === cols) {
        out.set(heap.subarray(dst, dst + nr * cols), r0 * cols);
      } else {
        for (let r = 0; r < nr; r++) out.set(heap.subarray(dst + r * colsP, dst + r * colsP + cols), (r0 + r) * cols);
      }
    }
  }

  /**
   * Layer norm (or RMS norm when `rms`) of each row of (rows, cols); cols > 0. Returns the output, the per-row
   * rstd and, for layer norm, the per-row mean, as the reference kernel does.
   */
  norm(
    x: Float32Array, weight: Float32Array | null, bias: Float32Array | null, rows: number, cols: number, eps: number, rms: boolean,
    alloc: (n: number) => Float32Array = (n) => new Float32Array(n),
  ): { out: Float32Array; mean?: Float32Array; rstd: Float32Array } {
    const out = alloc(rows * cols);
    const mean = rms ? undefined : alloc(rows);
    const rstd = alloc(rows);
    const rowsPerBlock = Math.max(1, Math.floor(BLOCK / cols));
    const block = rowsPerBlock * cols;
    // Element offsets: input block, output block, w row, b row, then mean and rstd of a block (4-aligned).
    const at = { src: 0, dst: block, w: 2 * block, b: 2 * block + cols, mean: 2 * block + 2 * cols, rstd: 2 * block + 2 * cols + rowsPerBlock };
    this.reserve((at.rstd + rowsPerBlock) * 4);
    const heap = new Float32Array(this.memory.buffer);
    if (weight) heap.set(weight.subarray(0, cols), at.w);
    else heap.fill(1, at.w, at.w + cols);
    if (bias) heap.set(bias.subarray(0, cols), at.b);
    else heap.fill(0, at.b, at.b + cols);
    for (let r0 = 0; r0 < rows; r0 += rowsPerBlock) {
      const nr = Math.min(rowsPerBlock, rows - r0);
      heap.set(x.subarray(r0 * cols, (r0 + nr) * cols), at.src);
      const epsBits = new Int32Array(new Float32Array([eps]).buffer)[0];
      this.call('norm', [at.src * 4, at.dst * 4, at.w * 4, at.b * 4, 0, nr, cols, at.mean * 4, at.rstd * 4, epsBits, rms ? 1 : 0], 4, nr, 1, nr * cols);
      out.set(heap.subarray(at.dst, at.dst + nr * cols), r0 * cols);
      if (mean) mean.set(heap.subarray(at.mean, at.mean + nr), r0);
      rstd.set(heap.subarray(at.rstd, at.rstd + nr), r0);
    }
    return { out, mean, rstd };
  }

  /**
   * Depthwise conv2d at stride 1 (one filter per channel): x (planes, h, w), weight (planes, kH, kW) into out
   * (planes, hOut, wOut), padding (padH, padW) and dilation (dH, dW). Planes go through memory in groups, each
   * with its zero border written out. False (nothing done) when one padded plane would not fit.
   */
  depthwise(
    x: Float32Array, weight: Float32Array, planes: number, h: number, w: number, kH: number, kW: number,
    padH: number, padW: number, dH: number, dW: number, hOut: number, wOut: number, out: Float32Array,
  ): boolean {
    const hp = h + 2 * padH;
    const wp = w + 2 * padW;
    const perPlane = hp * wp + hOut * wOut + kH * kW;
    if (perPlane * 4 > MAX_PAGES * PAGE) return false;
    const group = Math.max(1, Math.min(planes, Math.floor((4 * BLOCK) / perPlane)));
    const wAt = group * hp * wp;
    const outAt = wAt + group * kH * kW;
    this.reserve((outAt + group * hOut * wOut) * 4);
    const heap = new Float32Array(this.memory.buffer);
    for (let c0 = 0; c0 < planes; c0 += group) {
      const nc = Math.min(group, planes - c0);
      heap.fill(0, 0, nc * hp * wp);
      for (let c = 0; c < nc; c++) {
        for (let r = 0; r < h; r++) {
          const from = ((c0 + c) * h + r) * w;
          heap.set(x.subarray(from, from + w), c * hp * wp + (r + padH) * wp + padW);
        }
      }
      heap.set(weight.subarray(c0 * kH * kW, (c0 + nc) * kH * kW), wAt);
      this.call('depthwise', [0, outAt * 4, wAt * 4, 0, nc, hp, wp, hOut, wOut, kH, kW, dH, dW], 3, nc, 1, nc * hOut * wOut * kH * kW);
      out.set(heap.subarray(outAt, outAt + nc * hOut * wOut), c0 * hOut * wOut);
    }
    return true;
  }

  /**
   * h_t = a_t h_(t-1) + b_t along the middle axis of (outer, size, inner), from h0 (outer, inner) or 0, into out;
   * `a` null: cumsum (h_t = h_(t-1) + b_t). False (nothing done) when the operands would not fit in memory.
   */
  scan(a: Float32Array | null, b: Float32Array, h0: Float32Array | null, outer: number, size: number, inner: number, reverse: boolean, out: Float32Array): boolean {
    const n = outer * size * inner;
    const round = (x: number) => (x + 3) & ~3;
    const at = { a: 0, b: round(a ? n : 0), h0: 0, out: 0, scratch: 0 };
    at.h0 = at.b + round(n);
    at.out = at.h0 + round(h0 ? outer * inner : 0);
    at.scratch = at.out + round(n);
    const bytes = (at.scratch + outer * inner) * 4;
    if (bytes > MAX_PAGES * PAGE) return false;
    this.reserve(bytes);
    const heap = new Float32Array(this.memory.buffer);
    if (a) heap.set(a.subarray(0, n), at.a);
    heap.set(b.subarray(0, n), at.b);
    if (h0) heap.set(h0.subarray(0, outer * inner), at.h0);
    const args = [at.a * 4, at.b * 4, at.h0 * 4, at.out * 4, at.scratch * 4, 0, outer, size, inner, reverse ? 1 : 0, h0 ? 1 : 0, a ? 0 : 1];
    this.call('scan', args, 5, outer, 1, n);
    out.set(heap.subarray(at.out, at.out + n));
    return true;
  }

  /** sum (float64 accumulation), max or min over the middle axis of (outer, size, inner) into out (outer, inner). */
  reduce(kind: 'sum' | 'max' | 'min', x: Float32Array, outer: number, size: number, inner: number, out: Float32Array): boolean {
    const n = outer * size * inner;
    const outAt = (n + 3) & ~3;
    const scratchAt = outAt + ((outer * inner + 3) & ~3); // in floats; 8 bytes per accumulator
    const bytes = scratchAt * 4 + (inner > 1 && kind === 'sum' ? outer * inner * 8 : 0);
    if (bytes > MAX_PAGES * PAGE) return false;
    this.reserve(bytes);
    const heap = new Float32Array(this.memory.buffer);
    heap.set(x.subarray(0, n), 0);
    const args = [0, outAt * 4, scratchAt * 4, 0, outer, size, inner, kind === 'sum' ? 0 : kind === 'max' ? 1 : 2];
    this.call('reduce', args, 3, outer, 1, n);
    out.set(heap.subarray(outAt, outAt + outer * inner));
    return true;
  }

  /**
   * The selective scan's recurrence in float32 (f32-math-module.ts): u, delta (BD, L) with BD = nb D; A (D, N);
   * B and C step-major (nb, L, N); h0 (BD, N) or null. Returns y (BD, L) and the last state (BD, N), or null when
   * N is not a multiple of 4 or the operands would not fit in memory.
   */
  selectiveScan(
    u: Float32Array, delta: Float32Array, A: Float32Array, B: Float32Array, C: Float32Array, h0: Float32Array | null,
    nb: number, D: number, L: number, N: number, alloc: (n: number) => Float32Array = (n) => new Float32Array(n),
  ): { y: Float32Array; last: Float32Array } | null {
    if (N % 4 !== 0) return null;
    const BD = nb * D;
    const sizes = { u: BD * L, delta: BD * L, a: D * N, b: nb * L * N, c: nb * L * N, h0: h0 ? BD * N : 0, y: BD * L, last: BD * N };
    const at: Record<string, number> = {};
    let next = 0;
    for (const [k, n] of Object.entries(sizes)) {
      at[k] = next;
      next += (n + 3) & ~3;
    }
    if (next * 4 > MAX_PAGES * PAGE) return null;
    this.reserve(next * 4);
    const heap = new Float32Array(this.memory.buffer);
    heap.set(u.subarray(0, sizes.u), at.u);
    heap.set(delta.subarray(0, sizes.delta), at.delta);
    heap.set(A.subarray(0, sizes.a), at.a);
    heap.set(B.subarray(0, sizes.b), at.b);
    heap.set(C.subarray(0, sizes.c), at.c);
    if (h0) heap.set(h0.subarray(0, sizes.h0), at.h0);
    const args = [at.u, at.delta, at.a, at.b, at.c, at.h0, at.y, at.last].map((e) => e * 4);
    this.call('selectiveScan', [...args, 0, BD, D, L, N, h0 ? 1 : 0], 8, BD, 1, BD * L * N);
    const y = alloc(sizes.y);
    y.set(heap.subarray(at.y, at.y + sizes.y));
    const last = alloc(sizes.last);
    last.set(heap.subarray(at.last, at.last + sizes.last));
    return { y, last };
  }

  private reserve(bytes: number): void {
    const have = this.memory.buffer.byteLength;
    if (bytes <= have) return;
    const pages = Math.ceil((bytes - have) / PAGE);
    if (have / PAGE + pages > MAX_PAGES) {
      throw new Error(`wasm softmax: a row of this length needs ${bytes} bytes, more than the module's ${MAX_PAGES * PAGE}`);
    }
    this.memory.grow(pages);
  }
}
