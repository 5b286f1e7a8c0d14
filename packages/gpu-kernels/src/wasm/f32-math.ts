/**
 * The host side of the float32 math module (f32-math-module.ts). Operands that live in the module's memory (the
 * backend's resident results, wasm-heap.ts) are read where they are and results written straight into resident
 * outputs; anything else streams through a scratch region in blocks. Softmax rows are padded to whole vectors.
 * Given threads, each large call's rows are split over the calling thread and worker threads that share the
 * memory (the GEMM's mechanism, thread-pool.ts), so the call stays synchronous.
 */
import { F32_BINARY_OPS, type F32BinaryOp } from './f32-binary-functions.js';
import { F32_MAP_OPS, buildF32MathModule, type F32MapOp } from './f32-math-module.js';
import { WasmThreadPool, type Split } from './thread-pool.js';
import { WasmHeap } from './wasm-heap.js';

/** Elements per block: 2 x 1 MiB of input and output in memory at once (each thread's share stays in L2). */
const BLOCK = 262144;
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
  /** The memory to run in (shared when threads > 1); default: a new one of its own. */
  readonly heap?: WasmHeap;
}

export class F32Math {
  readonly heap: WasmHeap;
  private readonly exports: Record<string, (...args: number[]) => void>;
  private readonly names: string[];
  private readonly pool: WasmThreadPool | null;
  private readonly fnBase: number;

  constructor(options: F32MathOptions = {}) {
    const threads = Math.max(1, options.threads ?? 1);
    this.heap = options.heap ?? new WasmHeap({ shared: threads > 1 });
    const shared = this.heap.shared;
    const module = new WebAssembly.Module(buildF32MathModule(this.heap.maximumPages, options.relaxedSimd ?? false, shared));
    this.exports = new WebAssembly.Instance(module, { env: { memory: this.heap.memory } }).exports as Record<string, (...args: number[]) => void>;
    this.names = [...F32_MAP_OPS, 'softmax', ...F32_BINARY_OPS.map((n) => `binary_${n}`), 'norm', 'where', 'depthwise', 'scan', 'reduce', 'selectiveScan'];
    // The workers are shared with every other module on this memory (the GEMM).
    this.pool = shared && threads > 1 ? WasmThreadPool.forMemory(this.heap.memory, threads - 1) : null;
    this.fnBase = this.pool?.register(module, this.names) ?? 0;
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
      if (this.pool.run(args, split, null, (a) => fn(...a), this.fnBase + this.names.indexOf(name))) return;
    }
    args[rangeAt] = 0;
    args[rangeAt + 1] = extent;
    fn(...args);
  }


  /** The byte address of x[from] when x lives in this memory, else -1. */
  private at(x: Float32Array, from = 0): number {
    const a = this.heap.addressOf(x);
    return a < 0 ? -1 : a + from * 4;
  }

  /** Whether a kernel may write `n` elements (padding included) straight into `out`. */
  private writable(out: Float32Array, n: number): boolean {
    return this.heap.capacityOf(out) >= n;
  }

  /**
   * out[r * cols + c] = a(r, c) op b(r, c) over a (rows, cols) block; row strides must be >= 0. Each operand's
   * span is copied into memory once (a broadcast bias row is copied once, not per row). Returns false, having
   * done nothing, when the operands would not fit the module's memory.
   */
  binary(op: F32BinaryOp, a: BlockOperand, b: BlockOperand, rows: number, cols: number, out: Float32Array): boolean {
    return this.block([a, b], rows, cols, out, (p, o, nr, nc) =>
      this.call(`binary_${op}`, [p[0], a.rowStride * 4, a.colStep, p[1], b.rowStride * 4, b.colStep, o, 0, nr, nc, 0x7fffffff, 0, 0], 7, nr, 1, nr * nc),
    );
  }

  /**
   * The binary op over (outer, inner, cols) into a contiguous out: operand element (o, i, c) at
   * start + o * outerStrides[k] + i * rowStride + c * colStep, as broadcasts like (E, T, 1) * (1, T, N) need (they
   * merge to no (rows, cols) block). Runs only in place: every operand resident, or small enough to stage whole, and
   * out resident; false (nothing done) otherwise.
   */
  binary3(op: F32BinaryOp, a: BlockOperand, b: BlockOperand, outerStrides: readonly [number, number], outer: number, inner: number, cols: number, out: Float32Array): boolean {
    const rows = outer * inner;
    if (rows === 0 || cols === 0 || !this.writable(out, rows * cols)) return false;
    const operands = [a, b];
    const spans = operands.map((o, k) => (outer - 1) * outerStrides[k] + (inner - 1) * o.rowStride + (cols - 1) * o.colStep + 1);
    const direct = operands.map((o) => this.at(o.data, o.start));
    const r4 = (v: number) => (v + 3) & ~3;
    const stagedElements = operands.reduce((sum, _, k) => sum + (direct[k] < 0 ? r4(spans[k]) : 0), 0);
    if (stagedElements > 4 * BLOCK) return false;
    const base = stagedElements > 0 ? this.heap.scratch(stagedElements * 4) : 0;
    const heap = stagedElements > 0 ? this.heap.heapF32() : null;
    let next = 0;
    const at = operands.map((o, k) => {
      if (direct[k] >= 0) return direct[k];
      heap!.set(o.data.subarray(o.start, o.start + spans[k]), (base >>> 2) + next);
      const addr = base + next * 4;
      next += r4(spans[k]);
      return addr;
    });
    const args = [at[0], a.rowStride * 4, a.colStep, at[1], b.rowStride * 4, b.colStep, out.byteOffset, 0, rows, cols, inner, outerStrides[0] * 4, outerStrides[1] * 4];
    this.call(`binary_${op}`, args, 7, rows, 1, rows * cols);
    return true;
  }

  /** out[r * cols + c] = cond(r, c) != 0 ? a(r, c) : b(r, c); false (nothing done) when it would not fit. */
  where(cond: BlockOperand, a: BlockOperand, b: BlockOperand, rows: number, cols: number, out: Float32Array): boolean {
    return this.block([cond, a, b], rows, cols, out, (p, o, nr, nc) =>
      this.call('where', [p[0], cond.rowStride * 4, cond.colStep, p[1], a.rowStride * 4, a.colStep, p[2], b.rowStride * 4, b.colStep, o, 0, nr, nc], 10, nr, 1, nr * nc),
    );
  }

  /**
   * Run `kernel` over (rows, cols). Resident operands are read in place and a resident output written in place;
   * when all are, that is one call over every row. Otherwise in blocks of at most about 4 BLOCK elements of staged
   * operands and output: each block copies every non-resident operand's span for its rows (a broadcast bias row:
   * its columns only, once per block) into scratch, the kernel computes the block's (nr, nc) output, and a staged
   * output is copied to its place in out. Streaming keeps memory bounded however large the tensors are.
   */
  private block(
    operands: readonly BlockOperand[], rows: number, cols: number, out: Float32Array,
    kernel: (at: number[], outAt: number, nr: number, nc: number) => void,
  ): boolean {
    const direct = operands.map((o) => this.at(o.data, o.start));
    const outDirect = this.writable(out, rows * cols);
    if (outDirect && direct.every((d) => d >= 0)) {
      kernel(direct, out.byteOffset, rows, cols);
      return true;
    }
    const budget = 4 * BLOCK;
    const colChunk = Math.max(1, Math.min(cols, budget));
    const staged = (k: number) => direct[k] < 0;
    // Elements per extra row: staged operands' row strides and a staged output row.
    const rowCost = (nc: number) => operands.reduce((sum, o, k) => sum + (staged(k) ? o.rowStride : 0), 0) + nc;
    for (let c0 = 0; c0 < cols; c0 += colChunk) {
      const nc = Math.min(colChunk, cols - c0);
      const perBlock = Math.max(1, Math.floor(budget / Math.max(1, rowCost(nc))));
      const wholeRows = nc === cols && outDirect;
      for (let r0 = 0; r0 < rows; r0 += perBlock) {
        const nr = Math.min(perBlock, rows - r0);
        const at: number[] = [];
        const spans: number[] = [];
        let next = 0; // element offset in scratch of the next staged operand, 16-byte aligned
        operands.forEach((o, k) => {
          const span = (nr - 1) * o.rowStride + (nc - 1) * o.colStep + 1;
          spans.push(span);
          at.push(staged(k) ? next : -1);
          if (staged(k)) next += (span + 3) & ~3;
        });
        const bytes = (next + (wholeRows ? 0 : nr * nc)) * 4;
        const base = this.heap.scratch(bytes);
        const heap = this.heap.heapF32();
        const addresses = operands.map((o, k) => {
          const from = o.start + r0 * o.rowStride + c0 * o.colStep;
          if (!staged(k)) return direct[k] + (from - o.start) * 4;
          heap.set(o.data.subarray(from, from + spans[k]), (base >>> 2) + at[k]);
          return base + at[k] * 4;
        });
        if (wholeRows) {
          kernel(addresses, out.byteOffset + r0 * cols * 4, nr, nc);
          continue;
        }
        const o0 = (base >>> 2) + next;
        kernel(addresses, o0 * 4, nr, nc);
        if (nc === cols) {
          out.set(heap.subarray(o0, o0 + nr * nc), r0 * cols);
        } else {
          for (let r = 0; r < nr; r++) out.set(heap.subarray(o0 + r * nc, o0 + (r + 1) * nc), (r0 + r) * cols + c0);
        }
      }
    }
    return true;
  }

  /** out[i] = op(x[off + i]) for i < n. */
  map(op: F32MapOp, x: Float32Array, off: number, n: number, out: Float32Array): void {
    const padded = (n + 3) & ~3;
    const src = this.at(x, off);
    // Chunks of 64 elements (a cache line of output each 16). Lanes past n compute on whatever follows x (memory
    // keeps a slack beyond every block) and land in out's own padding.
    if (src >= 0 && this.writable(out, padded)) {
      this.call(op, [src, out.byteOffset, 0, padded], 2, padded, 64, padded);
      return;
    }
    const base = this.heap.scratch(2 * BLOCK * 4);
    const heap = this.heap.heapF32();
    const dst = (base >>> 2) + BLOCK; // element index of the output block
    for (let s = 0; s < n; s += BLOCK) {
      const len = Math.min(BLOCK, n - s);
      const blockPadded = (len + 3) & ~3;
      heap.set(x.subarray(off + s, off + s + len), base >>> 2);
      if (blockPadded > len) heap.fill(0, (base >>> 2) + len, (base >>> 2) + blockPadded); // tail lanes on zeros, not copied out
      this.call(op, [base, dst * 4, 0, blockPadded], 2, blockPadded, 64, blockPadded);
      out.set(heap.subarray(dst, dst + len), s);
    }
  }

  /** Softmax of each row of (rows, cols) in x (from element `off`) into out. */
  softmax(x: Float32Array, off: number, rows: number, cols: number, out: Float32Array): void {
    const colsP = (cols + 3) & ~3;
    const src = this.at(x, off);
    if (colsP === cols && src >= 0 && this.writable(out, rows * cols)) {
      this.call('softmax', [src, out.byteOffset, 0, rows, cols], 2, rows, 1, rows * cols);
      return;
    }
    // As many whole rows per block as fit (at least one).
    const rowsPerBlock = Math.max(1, Math.floor(BLOCK / colsP));
    const base = this.heap.scratch(2 * rowsPerBlock * colsP * 4);
    const heap = this.heap.heapF32();
    const b0 = base >>> 2;
    const dst = b0 + rowsPerBlock * colsP;
    for (let r0 = 0; r0 < rows; r0 += rowsPerBlock) {
      const nr = Math.min(rowsPerBlock, rows - r0);
      if (colsP === cols) {
        heap.set(x.subarray(off + r0 * cols, off + (r0 + nr) * cols), b0);
      } else {
        for (let r = 0; r < nr; r++) {
          const from = off + (r0 + r) * cols;
          heap.set(x.subarray(from, from + cols), b0 + r * colsP);
          heap.fill(-Infinity, b0 + r * colsP + cols, b0 + (r + 1) * colsP); // exp(-inf - max) = 0: no weight in the sum
        }
      }
      this.call('softmax', [base, dst * 4, 0, nr, colsP], 2, nr, 1, nr * colsP);
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
    const src = this.at(x);
    const direct = src >= 0 && this.writable(out, rows * cols);
    const rowsPerBlock = direct ? rows : Math.max(1, Math.floor(BLOCK / cols));
    const block = direct ? 0 : rowsPerBlock * cols;
    const r4 = (v: number) => (v + 3) & ~3;
    // Element offsets in scratch: input block, output block, w row, b row, then mean and rstd of a block.
    const o = { src: 0, dst: block, w: 2 * block, b: 2 * block + r4(cols), mean: 2 * block + 2 * r4(cols), rstd: 2 * block + 2 * r4(cols) + r4(rowsPerBlock) };
    const base = this.heap.scratch((o.rstd + rowsPerBlock) * 4);
    const heap = this.heap.heapF32();
    const b0 = base >>> 2;
    if (weight) heap.set(weight.subarray(0, cols), b0 + o.w);
    else heap.fill(1, b0 + o.w, b0 + o.w + cols);
    if (bias) heap.set(bias.subarray(0, cols), b0 + o.b);
    else heap.fill(0, b0 + o.b, b0 + o.b + cols);
    const epsBits = new Int32Array(new Float32Array([eps]).buffer)[0];
    for (let r0 = 0; r0 < rows; r0 += rowsPerBlock) {
      const nr = Math.min(rowsPerBlock, rows - r0);
      if (!direct) heap.set(x.subarray(r0 * cols, (r0 + nr) * cols), b0 + o.src);
      const srcAt = direct ? src : base + o.src * 4;
      const dstAt = direct ? out.byteOffset : base + o.dst * 4;
      this.call('norm', [srcAt, dstAt, base + o.w * 4, base + o.b * 4, 0, nr, cols, base + o.mean * 4, base + o.rstd * 4, epsBits, rms ? 1 : 0], 4, nr, 1, nr * cols);
      if (!direct) out.set(heap.subarray(b0 + o.dst, b0 + o.dst + nr * cols), r0 * cols);
      if (mean) mean.set(heap.subarray(b0 + o.mean, b0 + o.mean + nr), r0);
      rstd.set(heap.subarray(b0 + o.rstd, b0 + o.rstd + nr), r0);
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
    if (perPlane * 4 > this.heap.maximumPages * 65536 / 2) return false;
    const group = Math.max(1, Math.min(planes, Math.floor((4 * BLOCK) / perPlane)));
    const wAt = group * hp * wp;
    const outAt = wAt + group * kH * kW;
    const base = this.heap.scratch((outAt + group * hOut * wOut) * 4);
    const heap = this.heap.heapF32();
    const b0 = base >>> 2;
    for (let c0 = 0; c0 < planes; c0 += group) {
      const nc = Math.min(group, planes - c0);
      heap.fill(0, b0, b0 + nc * hp * wp);
      for (let c = 0; c < nc; c++) {
        for (let r = 0; r < h; r++) {
          const from = ((c0 + c) * h + r) * w;
          heap.set(x.subarray(from, from + w), b0 + c * hp * wp + (r + padH) * wp + padW);
        }
      }
      heap.set(weight.subarray(c0 * kH * kW, (c0 + nc) * kH * kW), b0 + wAt);
      this.call('depthwise', [base, base + outAt * 4, base + wAt * 4, 0, nc, hp, wp, hOut, wOut, kH, kW, dH, dW], 3, nc, 1, nc * hOut * wOut * kH * kW);
      out.set(heap.subarray(b0 + outAt, b0 + outAt + nc * hOut * wOut), c0 * hOut * wOut);
    }
    return true;
  }

  /**
   * Stage the operands of one call: each (array, elements) is read in place when resident, else copied into
   * scratch after `extra` elements of scratch of the call's own. Returns their byte addresses and the scratch
   * base, or null when the staged total would not fit the memory.
   */
  private stage(inputs: readonly (readonly [Float32Array | null, number])[], outputs: readonly (readonly [Float32Array, number])[], extra: number) {
    const r4 = (v: number) => (v + 3) & ~3;
    let next = r4(extra);
    const inAt = inputs.map(([x, n]) => {
      if (x === null || this.at(x) >= 0) return -1;
      const e = next;
      next += r4(n);
      return e;
    });
    const outAt = outputs.map(([y, n]) => {
      if (this.writable(y, n)) return -1;
      const e = next;
      next += r4(n);
      return e;
    });
    const base = this.heap.tryScratch(next * 4);
    if (base < 0) return null; // the caller falls back to the reference kernel
    const heap = this.heap.heapF32();
    const inputsAt = inputs.map(([x, n], k) => {
      if (x === null) return 0;
      if (inAt[k] < 0) return this.at(x);
      heap.set(x.subarray(0, n), (base >>> 2) + inAt[k]);
      return base + inAt[k] * 4;
    });
    const outputsAt = outputs.map(([y], k) => (outAt[k] < 0 ? y.byteOffset : base + outAt[k] * 4));
    /** Copy the staged outputs to their arrays (after the kernel ran). */
    const finish = () => {
      const h = this.heap.heapF32();
      outputs.forEach(([y, n], k) => {
        if (outAt[k] >= 0) y.set(h.subarray((base >>> 2) + outAt[k], (base >>> 2) + outAt[k] + n));
      });
    };
    return { inputsAt, outputsAt, base, finish };
  }

  /**
   * h_t = a_t h_(t-1) + b_t along the middle axis of (outer, size, inner), from h0 (outer, inner) or 0, into out;
   * `a` null: cumsum (h_t = h_(t-1) + b_t). False (nothing done) when the operands would not fit in memory.
   */
  scan(a: Float32Array | null, b: Float32Array, h0: Float32Array | null, outer: number, size: number, inner: number, reverse: boolean, out: Float32Array): boolean {
    const n = outer * size * inner;
    const s = this.stage([[a, n], [b, n], [h0, outer * inner]], [[out, n]], outer * inner);
    if (s === null) return false;
    const [aAt, bAt, h0At] = s.inputsAt;
    const args = [aAt, bAt, h0At, s.outputsAt[0], s.base, 0, outer, size, inner, reverse ? 1 : 0, h0 ? 1 : 0, a ? 0 : 1];
    this.call('scan', args, 5, outer, 1, n);
    s.finish();
    return true;
  }

  /** sum (float64 accumulation), max or min over the middle axis of (outer, size, inner) into out (outer, inner). */
  reduce(kind: 'sum' | 'max' | 'min', x: Float32Array, outer: number, size: number, inner: number, out: Float32Array): boolean {
    const n = outer * size * inner;
    // Scratch of the call's own first: 8 bytes per float64 accumulator.
    const s = this.stage([[x, n]], [[out, outer * inner]], inner > 1 && kind === 'sum' ? outer * inner * 2 : 0);
    if (s === null) return false;
    const args = [s.inputsAt[0], s.outputsAt[0], s.base, 0, outer, size, inner, kind === 'sum' ? 0 : kind === 'max' ? 1 : 2];
    this.call('reduce', args, 3, outer, 1, n);
    s.finish();
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
    const y = alloc(BD * L);
    const last = alloc(BD * N);
    const s = this.stage(
      [[u, BD * L], [delta, BD * L], [A, D * N], [B, nb * L * N], [C, nb * L * N], [h0, BD * N]],
      [[y, BD * L], [last, BD * N]],
      0,
    );
    if (s === null) return null;
    const [uAt, dAt, aAt, bAt, cAt, h0At] = s.inputsAt;
    const [yAt, lastAt] = s.outputsAt;
    // Time chunks whose B and C (2 T N floats) fit in 256 KiB of L2, each continuing from the state in `last`: one
    // pass over the whole sequence per channel would stream all of B and C from further out once per channel.
    const T = Math.max(64, Math.floor(2 ** 18 / (8 * N)));
    // At least one call, so that L = 0 still gives the state h0 (or zeros) as `last`.
    for (let t0 = 0; t0 === 0 || t0 < L; t0 += T) {
      const n = Math.min(T, L - t0);
      const first = t0 === 0;
      const args = [uAt + t0 * 4, dAt + t0 * 4, aAt, bAt + t0 * N * 4, cAt + t0 * N * 4, first ? h0At : lastAt, yAt + t0 * 4, lastAt, 0, BD, D, n, N, first ? (h0 ? 1 : 0) : 1, L];
      this.call('selectiveScan', args, 8, BD, 1, BD * n * N);
    }
    s.finish();
    return { y, last };
  }
}
