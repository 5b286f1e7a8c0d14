import { createReferenceBackend } from '../reference/index.js';
import type { SyncBackend } from '../reference/index.js';
import type { DType, MatmulParams, TypedArray } from '../types.js';
import { collapseDims } from '../reference/blocked-walk.js';
import { checkElementwiseArgs } from '../reference/binary.js';
import { unaryFns, unaryInto } from '../reference/unary.js';
import { requireLength } from '../reference/dtype.js';
import { checkView, isContiguous, sizeOf } from '../reference/strided.js';
import type { AxisLayout, BinaryOp, ReduceOp, Conv1dParams, Conv2dParams, NormParams, NormResult, ScanParams, UnaryOp, View } from '../types.js';
import { conv1dAsConv2d } from '../reference/conv.js';
import { F32_BINARY_OPS, type F32BinaryOp } from './f32-binary-functions.js';
import { F32_MAP_OPS, type F32MapOp } from './f32-math-module.js';
import { BufferPool } from './buffer-pool.js';
import { F32Math, type BlockOperand } from './f32-math.js';
import { detectFeatures, type WasmFeatures } from './features.js';
import { GemmEngine } from './gemm-engine.js';

export interface WasmBackendOptions {
  /**
   * Threads in all, the calling thread included. Default: FORMERS_WASM_THREADS if set, else the number of cores
   * (at most 16). 1 runs everything on the calling thread.
   */
  readonly threads?: number;
  /**
   * Use relaxed SIMD (an FMA) where the engine has it; in Node 20 this turns on V8's
   * `--experimental-wasm-relaxed-simd` before the module compiles. Default: true unless
   * FORMERS_WASM_RELAXED_SIMD=0.
   */
  readonly relaxedSimd?: boolean;
  /** Multiply-adds (batch * m * n * k) below which a matmul stays on the calling thread. Default 2^21. */
  readonly threadThreshold?: number;
}

/** The wasm backend, with what it found in the engine and a way to stop its worker threads. */
export interface WasmBackend extends SyncBackend<TypedArray> {
  readonly features: WasmFeatures;
  /** Threads a large float32 matmul runs on (the caller included). */
  readonly threads: number;
  /** Whether the GEMM micro-kernel uses relaxed-SIMD FMA. */
  readonly relaxedSimd: boolean;
  /** Stop the worker threads now (they never keep Node alive anyway); later matmuls run single-threaded. */
  terminate(): void;
  /** The caching allocator of this backend's float32 results (see buffer-pool.ts); `pool.clear()` frees it. */
  readonly pool: BufferPool;
  /**
   * An optional fused kernel outside the closed kernel set: the selective scan's forward recurrence in float32
   * SIMD (see F32Math.selectiveScan for the layouts). Null when it cannot run (N not a multiple of 4, no SIMD).
   */
  selectiveScanF32(
    u: Float32Array, delta: Float32Array, A: Float32Array, B: Float32Array, C: Float32Array, h0: Float32Array | null,
    nb: number, D: number, L: number, N: number,
  ): { y: Float32Array; last: Float32Array } | null;
}

const DEFAULT_THRESHOLD = 2 ** 21;
const MAX_DEFAULT_THREADS = 16;

function envValue(name: string): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const v = proc?.env?.[name];
  return v === undefined || v.trim() === '' ? undefined : v.trim();
}

function resolveOptions(options: WasmBackendOptions): Required<WasmBackendOptions> {
  const envThreads = envValue('FORMERS_WASM_THREADS');
  const threads = options.threads ?? (envThreads !== undefined ? Number(envThreads) : undefined);
  if (threads !== undefined && (!Number.isInteger(threads) || threads < 1 || threads > 64)) {
    throw new Error(`createWasmBackend: expected threads (or FORMERS_WASM_THREADS) to be an integer in [1, 64]; got ${String(threads)}`);
  }
  const threshold = options.threadThreshold ?? DEFAULT_THRESHOLD;
  if (!Number.isFinite(threshold) || threshold < 0) {
    throw new Error(`createWasmBackend: expected threadThreshold to be a non-negative number; got ${threshold}`);
  }
  return {
    threads: threads ?? 0, // 0: decided from the detected cores
    relaxedSimd: options.relaxedSimd ?? envValue('FORMERS_WASM_RELAXED_SIMD') !== '0',
    threadThreshold: threshold,
  };
}

let defaultEngine: { engine: GemmEngine | null; features: WasmFeatures; fallbacks: Map<string, string> } | null = null;
let sharedMath: F32Math | null = null;
let sharedPool: BufferPool | null = null;
const MATH_OPS: ReadonlySet<string> = new Set(F32_MAP_OPS);
const BINARY_OPS: ReadonlySet<string> = new Set(F32_BINARY_OPS);
/** Below this many elements the reference loop is as fast as a trip through WebAssembly memory. */
const MATH_MIN_ELEMENTS = 32;

function makeEngine(o: Required<WasmBackendOptions>): { engine: GemmEngine | null; features: WasmFeatures; fallbacks: Map<string, string> } {
  const features = detectFeatures({ enableRelaxedSimdFlag: o.relaxedSimd });
  const fallbacks = new Map<string, string>();
  if (!features.simd) {
    fallbacks.set('matmul', 'WebAssembly SIMD is unavailable in this engine; float32 matmul runs on the reference backend');
    return { engine: null, features, fallbacks };
  }
  const relaxed = o.relaxedSimd && features.relaxedSimd;
  if (o.relaxedSimd && !features.relaxedSimd && features.relaxedSimdReason) fallbacks.set('matmul:relaxed-simd', features.relaxedSimdReason);
  let threads = o.threads === 0 ? Math.min(features.cores, MAX_DEFAULT_THREADS) : o.threads;
  if (threads > 1 && !features.threads) {
    fallbacks.set('matmul:threads', `single-threaded: ${features.threadsReason ?? 'threads unavailable'}`);
    threads = 1;
  }
  return { engine: new GemmEngine({ relaxedSimd: relaxed, threads, threadThreshold: o.threadThreshold }), features, fallbacks };
}

/**
 * formers' own WebAssembly backend (name 'wasm'), synchronous.
 *
 * float32 matmul runs on a packed, cache-blocked SIMD GEMM emitted by gemm-module.ts, split over the calling
 * thread and (cores - 1) worker threads that share one WebAssembly.Memory and meet through Atomics, so the call
 * still returns synchronously. Small products stay on the calling thread.
 *
 * float32 exp, sigmoid, SiLU and GELU (exact and tanh) on contiguous input, float32 softmax along the last
 * axis, and float32 arithmetic, comparisons and `where` whose operands merge to (rows, cols) blocks with unit or
 * zero column steps (same shapes, a broadcast bias row, a per-row scale, a scalar), float32 layer and RMS norm, and
 * float32 depthwise convolution at stride 1, float32 scans (cumsum, linearRecurrence) and float32 sum/max/min
 * reductions run in WebAssembly SIMD
 * (f32-math-module.ts): V8's Math.exp alone costs about 10 ns an element, and these
 * were most of a ViT forward pass outside its matmuls. Their float32 results are within a few ulp of the float64
 * reference (see that file), not correctly rounded as the reference's are.
 *
 * By design, every other kernel, and everything in float64 and int32, is the reference backend's: they are
 * memory-bound or rare enough that the plain TypeScript kernels are the right code, and sharing them keeps one
 * implementation to test. That is not a fallback and is not listed in `fallbacks`. What is listed there is what
 * this backend wanted to do and could not: threads (no SharedArrayBuffer, e.g. a browser page without
 * cross-origin isolation, or no worker_threads), relaxed-SIMD FMA, or SIMD itself.
 */
export function createWasmBackend(options: WasmBackendOptions = {}): WasmBackend {
  const o = resolveOptions(options);
  const isDefault = options.threads === undefined && options.relaxedSimd === undefined && options.threadThreshold === undefined;
  // Backends created with default options share one engine, so they share one set of worker threads.
  const made = isDefault ? (defaultEngine ??= makeEngine(o)) : makeEngine(o);
  const { engine, features } = made;
  const fallbacks = new Map(made.fallbacks);
  const reference = createReferenceBackend();

  const matmul = (a: TypedArray, b: TypedArray, dtype: DType, p: MatmulParams): TypedArray => {
    if (dtype !== 'float32' || engine === null) return reference.matmul(a, b, dtype, p);
    const { batch, m, n, k, strideA, strideB } = p;
    if (batch > 0 && m > 0 && n > 0 && k > 0) {
      const needA = (batch - 1) * strideA + m * k;
      const needB = (batch - 1) * strideB + k * n;
      if (a.length < needA) throw new Error(`wasm.matmul: expected a to hold at least ${needA} elements; got ${a.length}`);
      if (b.length < needB) throw new Error(`wasm.matmul: expected b to hold at least ${needB} elements; got ${b.length}`);
    }
    const a32 = a instanceof Float32Array ? a : Float32Array.from(a);
    const b32 = b instanceof Float32Array ? b : Float32Array.from(b);
    const out = engine.matmul(a32, b32, p, alloc);
    const failure = engine.threadFailure;
    if (failure !== null && failure !== 'terminated' && !fallbacks.has('matmul:threads')) {
      fallbacks.set('matmul:threads', `single-threaded: ${failure}`);
    }
    return out;
  };

  const pool = isDefault ? (sharedPool ??= new BufferPool()) : new BufferPool();
  // Results live in the kernels' own memory where it is shared (wasm-heap.ts); otherwise, or when it is full, in
  // pooled JS arrays.
  const heap = engine?.heap ?? null;
  const alloc = (n: number) => heap?.alloc(n) ?? pool.take(n);
  const useFma = o.relaxedSimd && features.relaxedSimd;
  // An engine may refuse to compile the 16 kB module synchronously (old browsers' main threads did above 4 kB):
  // the kernels then run on the reference code, and `fallbacks` says why.
  let math: F32Math | null = null;
  if (features.simd) {
    try {
      // The same threads as the GEMM (its engine has already checked that workers and shared memory exist).
      const mathOptions = { relaxedSimd: useFma, threads: engine?.threads ?? 1, heap: engine?.heap };
      math = isDefault ? (sharedMath ??= new F32Math(mathOptions)) : new F32Math(mathOptions);
    } catch (e) {
      fallbacks.set('f32-math', `the float32 SIMD kernels could not be compiled (${e instanceof Error ? e.message : String(e)}); they run on the reference code`);
    }
  }

  const unary = (op: UnaryOp, x: View<TypedArray>, outDtype: DType): TypedArray => {
    if (math !== null && MATH_OPS.has(op) && x.dtype === 'float32' && outDtype === 'float32' && x.data instanceof Float32Array) {
      const n = sizeOf(x.shape);
      if (n >= MATH_MIN_ELEMENTS) {
        checkView('unary', 'x', x);
        const out = alloc(n);
        if (isContiguous(x)) {
          math.map(op as F32MapOp, x.data, x.offset, n, out);
        } else {
          // A strided view (half of a projection's output, a transpose): gather it into `out` first, then map in
          // place; the copy costs about a nanosecond an element, the reference loop's Math.exp ten or more.
          unaryInto('identity', x, out);
          math.map(op as F32MapOp, out, 0, n, out);
        }
        return out;
      }
    }
    // Other float32 ops (strided copies of permuted views above all) run the reference loops into a pooled buffer.
    if (outDtype === 'float32' && unaryFns[op] !== undefined) {
      checkView('unary', 'x', x);
      return unaryInto(op, x, alloc(sizeOf(x.shape)));
    }
    return reference.unary(op, x, outDtype);
  };

  /**
   * float32 views of one output shape as (rows, cols) block operands: their dims merged to at most two, with
   * unit or zero column steps and forward rows (the SIMD module's layouts); null when they do not merge so.
   */
  const blockOperands = (views: readonly View<TypedArray>[], outShape: readonly number[]) => {
    if (!views.every((v) => v.dtype === 'float32' && v.data instanceof Float32Array)) return null;
    const c = collapseDims(outShape, views);
    const rank = c.shape.length;
    if (rank < 1 || rank > 2) return null;
    const operands: BlockOperand[] = [];
    for (let i = 0; i < views.length; i++) {
      const colStep = c.strides[i][rank - 1];
      const rowStride = rank === 2 ? c.strides[i][0] : 0;
      if ((colStep !== 0 && colStep !== 1) || rowStride < 0) return null;
      operands.push(compacted({ data: views[i].data as Float32Array, start: c.offsets[i], rowStride, colStep }, rank === 2 ? c.shape[0] : 1, c.shape[rank - 1]));
    }
    return { operands, rows: rank === 2 ? c.shape[0] : 1, cols: c.shape[rank - 1] };
  };

  /**
   * An operand whose rows lie far apart (a column of a wide tensor, `x.select(-1, t)`) would make the kernel copy
   * its whole span, O(size of the tensor), for a few elements a row: gather just its elements instead.
   */
  const compacted = (o: BlockOperand, rows: number, cols: number): BlockOperand => {
    const needed = o.colStep === 1 ? rows * cols : rows;
    const span = (rows - 1) * o.rowStride + (cols - 1) * o.colStep + 1;
    if (span <= 2 * needed + 64) return o;
    const data = new Float32Array(needed);
    if (o.colStep === 0) {
      for (let r = 0; r < rows; r++) data[r] = o.data[o.start + r * o.rowStride];
      return { data, start: 0, rowStride: 1, colStep: 0 };
    }
    for (let r = 0; r < rows; r++) {
      const from = o.start + r * o.rowStride;
      if (cols >= 16) data.set(o.data.subarray(from, from + cols), r * cols);
      else for (let j = 0; j < cols; j++) data[r * cols + j] = o.data[from + j];
    }
    return { data, start: 0, rowStride: cols, colStep: 1 };
  };

  /**
   * Binary operands that merge to three dims (outer, rows, cols) with unit or zero column steps and non-negative
   * strides (the selective scan's (E, T, 1) * (1, T, N)), in place in memory; null when they do not, or when the
   * result or operands cannot be used in place (see F32Math.binary3).
   */
  const binary3 = (op: F32BinaryOp, a: View<TypedArray>, b: View<TypedArray>, outShape: readonly number[], size: number): Float32Array | null => {
    if (!(a.data instanceof Float32Array && b.data instanceof Float32Array && a.dtype === 'float32' && b.dtype === 'float32')) return null;
    const c = collapseDims(outShape, [a, b]);
    if (c.shape.length !== 3) return null;
    const ok = c.strides.every((s) => (s[2] === 0 || s[2] === 1) && s[0] >= 0 && s[1] >= 0);
    if (!ok) return null;
    const out = alloc(size);
    const operand = (i: number): BlockOperand => ({ data: [a, b][i].data as Float32Array, start: c.offsets[i], rowStride: c.strides[i][1], colStep: c.strides[i][2] as 0 | 1 });
    if (math!.binary3(op, operand(0), operand(1), [c.strides[0][0], c.strides[1][0]], c.shape[0], c.shape[1], c.shape[2], out)) return out;
    if (heap === null || !heap.freeView(out)) pool.give(out);
    return null;
  };

  const binary = (op: BinaryOp, a: View<TypedArray>, b: View<TypedArray>, outShape: readonly number[], outDtype: DType): TypedArray => {
    const size = sizeOf(outShape);
    if (math !== null && BINARY_OPS.has(op) && outDtype === 'float32' && size >= MATH_MIN_ELEMENTS) {
      checkElementwiseArgs('binary', { a, b }, outShape);
      const block = blockOperands([a, b], outShape);
      if (block !== null) {
        const out = alloc(size);
        if (math.binary(op as F32BinaryOp, block.operands[0], block.operands[1], block.rows, block.cols, out)) return out;
      } else {
        const out = binary3(op as F32BinaryOp, a, b, outShape, size);
        if (out !== null) return out;
      }
    }
    return reference.binary(op, a, b, outShape, outDtype);
  };

  const where = (cond: View<TypedArray>, a: View<TypedArray>, b: View<TypedArray>, outShape: readonly number[], outDtype: DType): TypedArray => {
    const size = sizeOf(outShape);
    if (math !== null && outDtype === 'float32' && size >= MATH_MIN_ELEMENTS) {
      checkElementwiseArgs('where', { cond, a, b }, outShape);
      const block = blockOperands([cond, a, b], outShape);
      if (block !== null) {
        const [c, x, y] = block.operands;
        const out = alloc(size);
        if (math.where(c, x, y, block.rows, block.cols, out)) return out;
      }
    }
    return reference.where(cond, a, b, outShape, outDtype);
  };

  // Layer and RMS norm in float32 over rows of at least one vector's width.
  const fastNorm = (x: TypedArray, weight: TypedArray | null, bias: TypedArray | null, dtype: DType, p: NormParams, kernel: string) =>
    math !== null && dtype === 'float32' && x instanceof Float32Array && p.cols >= 4 && p.rows * p.cols >= MATH_MIN_ELEMENTS &&
    (weight === null || weight instanceof Float32Array) && (bias === null || bias instanceof Float32Array) && Number.isFinite(p.eps)
      ? (requireLength(kernel, 'x', x, p.rows * p.cols),
        weight && requireLength(kernel, 'weight', weight, p.cols),
        bias && requireLength(kernel, 'bias', bias, p.cols),
        true)
      : false;
  const layerNorm = (x: TypedArray, weight: TypedArray | null, bias: TypedArray | null, dtype: DType, p: NormParams): NormResult<TypedArray> =>
    fastNorm(x, weight, bias, dtype, p, 'layerNorm')
      ? math!.norm(x as Float32Array, weight as Float32Array | null, bias as Float32Array | null, p.rows, p.cols, p.eps, false, alloc)
      : reference.layerNorm(x, weight, bias, dtype, p);
  const rmsNorm = (x: TypedArray, weight: TypedArray | null, dtype: DType, p: NormParams): NormResult<TypedArray> =>
    fastNorm(x, weight, null, dtype, p, 'rmsNorm')
      ? math!.norm(x as Float32Array, weight as Float32Array | null, null, p.rows, p.cols, p.eps, true, alloc)
      : reference.rmsNorm(x, weight, dtype, p);

  // Depthwise conv at stride 1 in float32 (a PEG, Mamba's conv1d); everything else is the reference kernel.
  const conv2d = (x: TypedArray, weight: TypedArray, dtype: DType, p: Conv2dParams): TypedArray => {
    // Only consistent geometry: the kernel reads the padded plane without bounds tests, so an hOut/wOut larger than
    // the padding and dilation allow goes to the reference kernel (which skips out-of-range taps) instead.
    const fits = p.hOut === p.h + 2 * p.padH - p.dilationH * (p.kH - 1) && p.wOut === p.w + 2 * p.padW - p.dilationW * (p.kW - 1);
    const depthwise = p.groups === p.cIn && p.cOut === p.cIn && p.strideH === 1 && p.strideW === 1 && fits && p.hOut > 0 && p.wOut > 0;
    if (math !== null && dtype === 'float32' && depthwise && x instanceof Float32Array && weight instanceof Float32Array) {
      requireLength('conv2d', 'x', x, p.n * p.cIn * p.h * p.w);
      requireLength('conv2d', 'weight', weight, p.cOut * p.kH * p.kW);
      const out = alloc(p.n * p.cOut * p.hOut * p.wOut);
      // The weight repeats per image: planes of image b use filters 0..C-1 again.
      let ok = true;
      for (let b = 0; b < p.n && ok; b++) {
        const plane = p.cIn * p.h * p.w;
        ok = math.depthwise(
          x.subarray(b * plane, (b + 1) * plane), weight, p.cIn, p.h, p.w, p.kH, p.kW, p.padH, p.padW,
          p.dilationH, p.dilationW, p.hOut, p.wOut, out.subarray(b * p.cOut * p.hOut * p.wOut),
        );
      }
      if (ok) return out;
    }
    return reference.conv2d(x, weight, dtype, p);
  };
  const conv1d = (x: TypedArray, weight: TypedArray, dtype: DType, p: Conv1dParams): TypedArray =>
    dtype === 'float32' ? conv2d(x, weight, dtype, conv1dAsConv2d(p)) : reference.conv1d(x, weight, dtype, p);

  const reduce = (op: ReduceOp, x: TypedArray, dtype: DType, layout: AxisLayout): TypedArray => {
    const { outer, size, inner } = layout;
    const n = outer * size * inner;
    if (math !== null && dtype === 'float32' && (op === 'sum' || op === 'max' || op === 'min') && size > 0 && n >= MATH_MIN_ELEMENTS && x instanceof Float32Array) {
      requireLength('reduce', 'x', x, n);
      const out = alloc(outer * inner);
      if (math.reduce(op, x, outer, size, inner, out)) return out;
    }
    return reference.reduce(op, x, dtype, layout);
  };

  // Scans in float32 with float32 states (as Mamba's own kernels keep them); float64 keeps the reference's.
  const linearRecurrence = (a: TypedArray, b: TypedArray, h0: TypedArray | null, dtype: DType, p: ScanParams): TypedArray => {
    const n = p.outer * p.size * p.inner;
    if (math !== null && dtype === 'float32' && n >= MATH_MIN_ELEMENTS && a instanceof Float32Array && b instanceof Float32Array && (h0 === null || h0 instanceof Float32Array)) {
      requireLength('linearRecurrence', 'a', a, n);
      requireLength('linearRecurrence', 'b', b, n);
      if (h0) requireLength('linearRecurrence', 'h0', h0, p.outer * p.inner);
      const out = alloc(n);
      if (math.scan(a, b, h0, p.outer, p.size, p.inner, p.reverse, out)) return out;
    }
    return reference.linearRecurrence(a, b, h0, dtype, p);
  };
  const cumsum = (x: TypedArray, dtype: DType, p: ScanParams): TypedArray => {
    const n = p.outer * p.size * p.inner;
    if (math !== null && dtype === 'float32' && n >= MATH_MIN_ELEMENTS && x instanceof Float32Array) {
      requireLength('cumsum', 'x', x, n);
      const out = alloc(n);
      if (math.scan(null, x, null, p.outer, p.size, p.inner, p.reverse, out)) return out;
    }
    return reference.cumsum(x, dtype, p);
  };

  const softmax = (x: TypedArray, dtype: DType, layout: AxisLayout, log: boolean): TypedArray => {
    const { outer, size, inner } = layout;
    if (math !== null && !log && dtype === 'float32' && inner === 1 && x instanceof Float32Array && outer * size >= MATH_MIN_ELEMENTS) {
      requireLength('softmax', 'x', x, outer * size);
      const out = alloc(outer * size);
      math.softmax(x, 0, outer, size, out);
      return out;
    }
    return reference.softmax(x, dtype, layout, log);
  };

  // Host data (parameters, inputs) goes into the kernels' memory too, so that no kernel has to stage it (a Linear's
  // weight was copied in on every matmul).
  const upload = (data: TypedArray, dtype: DType): TypedArray => {
    if (dtype !== 'float32' || heap === null) return reference.upload(data, dtype);
    const h = heap.alloc(data.length);
    if (h === null) return reference.upload(data, dtype);
    h.set(data);
    return h;
  };

  return {
    ...reference,
    upload,
    name: 'wasm',
    sync: true,
    dtypes: ['float32', 'float64', 'int32'],
    fallbacks,
    features,
    threads: engine?.threads ?? 1,
    relaxedSimd: engine !== null && o.relaxedSimd && features.relaxedSimd,
    terminate: () => {
      engine?.terminate();
      math?.terminate();
    },
    // A storage's last tensor let go of this handle: its buffer may serve the next result of the same length.
    dispose: (h: TypedArray) => {
      if (heap === null || !heap.freeView(h)) pool.give(h);
    },
    pool,
    selectiveScanF32: (u, delta, A, B, C, h0, nb, D, L, N) => {
      if (math === null) return null;
      requireLength('selectiveScanF32', 'u', u, nb * D * L);
      requireLength('selectiveScanF32', 'delta', delta, nb * D * L);
      requireLength('selectiveScanF32', 'A', A, D * N);
      requireLength('selectiveScanF32', 'B', B, nb * L * N);
      requireLength('selectiveScanF32', 'C', C, nb * L * N);
      if (h0) requireLength('selectiveScanF32', 'h0', h0, nb * D * N);
      return math.selectiveScan(u, delta, A, B, C, h0, nb, D, L, N, alloc);
    },
    matmul,
    unary,
    binary,
    where,
    softmax,
    layerNorm,
    rmsNorm,
    conv1d,
    conv2d,
    linearRecurrence,
    cumsum,
    reduce,
  };
}

/** Register the wasm backend (priority 100: the default wherever WebAssembly exists). */
export function registerWasmBackend(
  register: (name: 'wasm', factory: () => WasmBackend, options: { priority: number; sync: boolean; available: () => boolean }) => void,
): void {
  register('wasm', () => createWasmBackend(), { priority: 100, sync: true, available: () => typeof WebAssembly === 'object' });
}

