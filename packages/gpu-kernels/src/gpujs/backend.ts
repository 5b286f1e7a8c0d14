import { referenceBackend } from '../reference/backend.js';
import { castCopy } from '../reference/dtype.js';
import type { Backend, BackendName, DType, TypedArray, View } from '../types.js';
import { andThen } from './async.js';
import { GpujsChecks } from './checks.js';
import { DELEGATED_KERNELS } from './delegated.js';
import type { KernelCache } from './kernel-cache.js';
import { conv1dAsConv2d, conv2dGradInputKernel, conv2dGradWeightKernel, conv2dKernel } from './kernels/conv.js';
import { binaryKernel, unaryKernel, whereKernel } from './kernels/elementwise.js';
import { concatKernel, gatherKernel, scatterAddKernel } from './kernels/indexing.js';
import { matmulKernel } from './kernels/matmul.js';
import { layerNormKernel, rmsNormKernel } from './kernels/norm.js';
import { fftKernel } from './kernels/fft.js';
import { reduceKernel } from './kernels/reduce.js';
import { cumsumKernel, linearRecurrenceKernel } from './kernels/scan.js';
import { softmaxKernel } from './kernels/softmax.js';
import { isSyncMode, type GpujsMode } from './modes.js';
import { KernelRunner } from './runner.js';

/** A gpu.js backend's buffer: a host typed array (Float32Array, or Int32Array for int32 tensors). */
export type GpujsHandle = Float32Array | Int32Array;

export interface GpujsBackendOptions {
  /** Reports each delegated kernel once, on first use, and gpu.js's own cpu degradations. Default console.warn. */
  readonly warn?: (message: string) => void;
  /** Compiled kernels kept before the least recently used is destroyed. Default 512 (48 for webasm in a browser). */
  readonly cacheCapacity?: number;
  /**
   * webasm only: run under gpu.js's async contract, where a kernel with at least 4096 outputs splits over a
   * worker pool (worker_threads in Node; a browser needs cross-origin isolation). The backend is then
   * asynchronous (`sync: false`). Create it with `createGpujsThreadedWebasmBackend`.
   */
  readonly threads?: boolean;
}

export interface GpujsBackend extends Backend<GpujsHandle> {
  readonly name: GpujsMode & BackendName;
  /** The gpu.js mode the kernels compile for. */
  readonly mode: GpujsMode;
  /** The compiled kernels, by (kernel source with its shape and settings, output size, argument sizes). */
  readonly cache: KernelCache;
  /** Destroy every compiled kernel and the gpu.js instance (textures, GL context, WebGPU buffers) now. */
  destroy(): void;
}

function asFloat(h: TypedArray): Float32Array {
  // int32 inputs (a where condition, a cast) are exact in float32 below 2^24.
  return h instanceof Float32Array ? h : Float32Array.from(h);
}

function floatView(v: View<GpujsHandle>): View<Float32Array> {
  return { ...v, data: asFloat(v.data) };
}

/** Store a float32 kernel result in the requested dtype; float to int32 truncates and wraps, as a torch cast. */
function toDtype(out: Float32Array, dtype: DType): GpujsHandle {
  return dtype === 'int32' ? Int32Array.from(out) : out;
}

/**
 * One backend implementation for every gpu.js mode. Kernels are generated per shape (sizes as literals) and
 * cached (kernel-cache.ts); buffers are host typed arrays, uploaded to the device for each kernel and read back
 * after it, so every handle is an ordinary array and `dispose` has nothing to free. What the device holds
 * (compiled kernels, their textures or storage buffers) is released by the cache's eviction and by `destroy()`.
 *
 * Every kernel computes on gpu.js in float32; int32 results of argmax/argmin and casts come from float32 values
 * that are exact integers. int32 arithmetic (delegated.ts) runs the reference kernels instead, listed in
 * `fallbacks` and warned once. float64 is refused with an error naming the backend.
 */
export function createGpujsBackendFor(mode: GpujsMode, options: GpujsBackendOptions = {}): GpujsBackend {
  const warn = options.warn ?? ((message: string) => console.warn(message));
  const fallbacks = new Map<string, string>(Object.entries(DELEGATED_KERNELS));
  if (options.threads && mode !== 'webasm') {
    throw new Error(`createGpujsBackend: expected options.threads only with mode "webasm"; got mode "${mode}"`);
  }
  const threaded = options.threads === true;
  // A browser page holds only about 124 live WebAssembly memories and each compiled webasm kernel owns one, so
  // there the cache must stay well below that (measured in Chromium; Node has no such limit).
  const inBrowser = typeof (globalThis as { window?: unknown }).window !== 'undefined';
  const capacity = options.cacheCapacity ?? (mode === 'webasm' && inBrowser ? 48 : 512);
  const run = new KernelRunner(mode, fallbacks, warn, capacity, threaded);
  const check = new GpujsChecks(mode);
  const warned = new Set<string>();
  const ref = referenceBackend;

  /** Run the reference kernel for a delegated one, warning once per kernel. */
  const delegate = <T>(key: string, compute: () => T): T => {
    if (!warned.has(key)) {
      warned.add(key);
      warn(`formers: ${mode}.${key.split(':')[0]}: ${DELEGATED_KERNELS[key]}`);
    }
    return compute();
  };

  /** An index view with the element count the layout needs, inside its buffer, in int32. */
  const checkIndex = (kernel: string, index: View<GpujsHandle>, expected: number): void => {
    const size = index.shape.reduce((s, d) => s * d, 1);
    if (size !== expected) {
      throw new Error(`${mode}.${kernel}: expected index to have ${expected} elements (outer x axis x inner); got shape [${index.shape.join(',')}]`);
    }
    check.view(kernel, 'index', index);
  };

  const readSync = (h: GpujsHandle, dtype: DType, size: number): TypedArray => {
    check.dtype('readSync', 'dtype', dtype);
    if (size > h.length) throw new Error(`${mode}.readSync: expected size <= buffer length (${h.length}); got ${size}`);
    return castCopy(h.subarray(0, size), dtype);
  };

  const backend: GpujsBackend = {
    name: mode,
    mode,
    sync: isSyncMode(mode) && !threaded,
    dtypes: ['float32', 'int32'],
    fallbacks,
    cache: run.cache,
    destroy: () => run.destroy(),
    upload(data: TypedArray, dtype: DType): GpujsHandle {
      check.dtype('upload', 'dtype', dtype);
      return castCopy(data, dtype) as GpujsHandle;
    },
    readSync,
    read: (h, dtype, size) => {
      try {
        return Promise.resolve(readSync(h, dtype, size));
      } catch (e) {
        return Promise.reject(e);
      }
    },
    dispose: () => {},

    unary(op, x, outDtype) {
      check.view('unary', 'x', x);
      check.dtype('unary', 'outDtype', outDtype);
      if (x.dtype === 'int32' && outDtype === 'int32') return delegate('unary:int32', () => ref.unary(op, x, outDtype) as GpujsHandle);
      return andThen(unaryKernel(run, op, floatView(x)), (out) => toDtype(out, outDtype));
    },
    binary(op, a, b, outShape, outDtype) {
      check.view('binary', 'a', a, outShape);
      check.view('binary', 'b', b, outShape);
      check.dtype('binary', 'outDtype', outDtype);
      if (a.dtype === 'int32' || b.dtype === 'int32') {
        return delegate('binary:int32', () => ref.binary(op, a, b, outShape, outDtype) as GpujsHandle);
      }
      return andThen(binaryKernel(run, op, floatView(a), floatView(b), outShape), (out) => toDtype(out, outDtype));
    },
    where(cond, a, b, outShape, outDtype) {
      check.view('where', 'cond', cond, outShape);
      check.view('where', 'a', a, outShape);
      check.view('where', 'b', b, outShape);
      check.dtype('where', 'outDtype', outDtype);
      if (a.dtype === 'int32' || b.dtype === 'int32') {
        return delegate('where:int32', () => ref.where(cond, a, b, outShape, outDtype) as GpujsHandle);
      }
      return andThen(whereKernel(run, floatView(cond), floatView(a), floatView(b), outShape), (out) => toDtype(out, outDtype));
    },
    reduce(op, x, dtype, layout) {
      check.dtype('reduce', 'dtype', dtype);
      check.length('reduce', 'x', x, layout.outer * layout.size * layout.inner);
      if (dtype === 'int32') return delegate('reduce:int32', () => ref.reduce(op, x, dtype, layout) as GpujsHandle);
      const isArg = op === 'argmax' || op === 'argmin';
      return andThen(reduceKernel(run, op, asFloat(x), layout), (out) => (isArg ? Int32Array.from(out) : out));
    },
    matmul(a, b, dtype, p) {
      check.float('matmul', dtype);
      if (p.batch > 0 && p.m > 0 && p.n > 0 && p.k > 0) {
        check.length('matmul', 'a', a, (p.batch - 1) * p.strideA + p.m * p.k);
        check.length('matmul', 'b', b, (p.batch - 1) * p.strideB + p.k * p.n);
      }
      return matmulKernel(run, asFloat(a), asFloat(b), p);
    },
    softmax(x, dtype, layout, log) {
      check.float('softmax', dtype);
      check.length('softmax', 'x', x, layout.outer * layout.size * layout.inner);
      return softmaxKernel(run, asFloat(x), layout, log);
    },
    layerNorm(x, weight, bias, dtype, p) {
      check.float('layerNorm', dtype);
      check.length('layerNorm', 'x', x, p.rows * p.cols);
      if (weight) check.length('layerNorm', 'weight', weight, p.cols);
      if (bias) check.length('layerNorm', 'bias', bias, p.cols);
      return layerNormKernel(run, asFloat(x), weight && asFloat(weight), bias && asFloat(bias), p);
    },
    rmsNorm(x, weight, dtype, p) {
      check.float('rmsNorm', dtype);
      check.length('rmsNorm', 'x', x, p.rows * p.cols);
      if (weight) check.length('rmsNorm', 'weight', weight, p.cols);
      return rmsNormKernel(run, asFloat(x), weight && asFloat(weight), p);
    },
    conv1d(x, weight, dtype, p) {
      check.float('conv1d', dtype);
      const q = conv1dAsConv2d(p);
      check.length('conv1d', 'x', x, p.n * p.cIn * p.l);
      check.length('conv1d', 'weight', weight, p.cOut * (p.cIn / p.groups) * p.k);
      return conv2dKernel(run, asFloat(x), asFloat(weight), q);
    },
    conv2d(x, weight, dtype, p) {
      check.float('conv2d', dtype);
      check.length('conv2d', 'x', x, p.n * p.cIn * p.h * p.w);
      check.length('conv2d', 'weight', weight, p.cOut * (p.cIn / p.groups) * p.kH * p.kW);
      return conv2dKernel(run, asFloat(x), asFloat(weight), p);
    },
    conv2dGradInput(dy, weight, dtype, p) {
      check.float('conv2dGradInput', dtype);
      check.length('conv2dGradInput', 'dy', dy, p.n * p.cOut * p.hOut * p.wOut);
      check.length('conv2dGradInput', 'weight', weight, p.cOut * (p.cIn / p.groups) * p.kH * p.kW);
      return conv2dGradInputKernel(run, asFloat(dy), asFloat(weight), p);
    },
    conv2dGradWeight(x, dy, dtype, p) {
      check.float('conv2dGradWeight', dtype);
      check.length('conv2dGradWeight', 'x', x, p.n * p.cIn * p.h * p.w);
      check.length('conv2dGradWeight', 'dy', dy, p.n * p.cOut * p.hOut * p.wOut);
      return conv2dGradWeightKernel(run, asFloat(x), asFloat(dy), p);
    },
    gather(x, dtype, layout, index, outSize) {
      check.dtype('gather', 'dtype', dtype);
      check.length('gather', 'x', x, layout.outer * layout.size * layout.inner);
      checkIndex('gather', index, layout.outer * outSize * layout.inner);
      if (dtype === 'int32') return delegate('gather:int32', () => ref.gather(x, dtype, layout, index, outSize) as GpujsHandle);
      return gatherKernel(run, asFloat(x), layout, floatView(index), outSize);
    },
    scatterAdd(src, dtype, index, layout, srcSize) {
      check.dtype('scatterAdd', 'dtype', dtype);
      check.length('scatterAdd', 'src', src, layout.outer * srcSize * layout.inner);
      checkIndex('scatterAdd', index, layout.outer * srcSize * layout.inner);
      if (dtype === 'int32') return delegate('scatterAdd:int32', () => ref.scatterAdd(src, dtype, index, layout, srcSize) as GpujsHandle);
      return scatterAddKernel(run, asFloat(src), floatView(index), layout, srcSize);
    },
    concat(xs, dtype, outer, sizes, inner) {
      check.dtype('concat', 'dtype', dtype);
      if (xs.length !== sizes.length) {
        throw new Error(`${mode}.concat: expected one size per input (${xs.length}); got ${sizes.length} sizes`);
      }
      xs.forEach((x, k) => check.length('concat', `xs[${k}]`, x, outer * sizes[k] * inner));
      if (dtype === 'int32') return delegate('concat:int32', () => ref.concat(xs, dtype, outer, sizes, inner) as GpujsHandle);
      return concatKernel(run, xs.map(asFloat), outer, sizes, inner);
    },
    cumsum(x, dtype, p) {
      check.dtype('cumsum', 'dtype', dtype);
      check.length('cumsum', 'x', x, p.outer * p.size * p.inner);
      if (dtype === 'int32') return delegate('cumsum:int32', () => ref.cumsum(x, dtype, p) as GpujsHandle);
      return cumsumKernel(run, asFloat(x), p);
    },
    linearRecurrence(a, b, h0, dtype, p) {
      check.float('linearRecurrence', dtype);
      const total = p.outer * p.size * p.inner;
      check.length('linearRecurrence', 'a', a, total);
      check.length('linearRecurrence', 'b', b, total);
      if (h0) check.length('linearRecurrence', 'h0', h0, p.outer * p.inner);
      return linearRecurrenceKernel(run, asFloat(a), asFloat(b), h0 && asFloat(h0), p);
    },
    fft(re, im, dtype, batch, n, inverse) {
      check.float('fft', dtype);
      check.length('fft', 're', re, batch * n);
      check.length('fft', 'im', im, batch * n);
      return fftKernel(run, asFloat(re), asFloat(im), batch, n, inverse);
    },
  };
  return backend;
}
