/**
 * Glue between Tensor and the backend kernels: reading a tensor's storage as a handle or a strided view, chaining
 * on storage that is still a Promise (async backends), and releasing temporary buffers once a kernel has used them.
 * Every op goes through `run`, so the same op code serves synchronous and asynchronous backends.
 */
import type { Backend, DType, Out, View } from '@formers/gpu-kernels';
import type { Tensor } from './tensor.js';

export function isPromise<T>(x: unknown): x is Promise<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

/** Apply `f` to a value now, or when its Promise resolves. */
export function mapOut<A, B>(x: Out<A>, f: (a: A) => Out<B>): Out<B> {
  return isPromise<A>(x) ? x.then(f) : f(x as A);
}

/** Wait for every value that is a Promise; stays synchronous when none is. */
export function all(xs: readonly Out<unknown>[]): Out<unknown[]> {
  return xs.some((x) => isPromise(x)) ? Promise.all(xs) : (xs as unknown[]);
}

/** A strided view over an already resolved handle. */
export function viewWith(t: Tensor, data: unknown): View<unknown> {
  return { data, dtype: t.dtype, shape: t.shape, strides: t.strides, offset: t.offset };
}

/** True when the tensor's elements are its storage's first numel elements in row-major order. */
export function isDense(t: Tensor): boolean {
  return t.offset === 0 && t.isContiguous();
}

/**
 * t's elements as one dense handle that outlives this call: its storage when dense (temp false), else a contiguous
 * copy (temp true) that the caller must dispose. (`run` disposes its copies as soon as the kernel's result exists,
 * so a handle it returns as is would already be back with the allocator.)
 */
export function denseHandle(t: Tensor): { data: Out<unknown>; temp: boolean } {
  const data = t.storageData();
  if (isDense(t)) return { data, temp: false };
  return { data: mapOut(data, (h) => t.backend.unary('identity', viewWith(t, h), t.dtype)), temp: true };
}

/** An input for `run`: a tensor whose kernel needs a contiguous buffer, or a strided view of it. */
export interface KernelArg {
  readonly tensor: Tensor;
  /**
   * 'dense': a contiguous, offset-0 buffer (copied when the tensor is a view); 'view': the strided view as is;
   * 'raw': the storage handle as is (the caller has checked the layout, e.g. a transposed matmul operand).
   */
  readonly as: 'dense' | 'view' | 'raw';
  /** For 'view': a different layout over the same storage (e.g. broadcast strides); default the tensor's own. */
  readonly layout?: { readonly shape: readonly number[]; readonly strides: readonly number[]; readonly offset: number };
}

/**
 * Call `fn` with every argument resolved: dense buffers (a temporary copy when the tensor is a strided view) or
 * strided views. Temporary copies are disposed once the kernel's result exists.
 */
export function run<R>(backend: Backend, args: readonly (Tensor | KernelArg)[], fn: (xs: unknown[]) => Out<R>): Out<R> {
  const temps: Out<unknown>[] = [];
  const inputs: Out<unknown>[] = args.map((a) => {
    const arg: KernelArg = 'tensor' in a ? a : { tensor: a, as: 'dense' };
    const t = arg.tensor;
    const data = t.storageData();
    if (arg.as === 'raw') return data;
    if (arg.as === 'view') {
      const l = arg.layout;
      return mapOut(data, (h) => (l ? { data: h, dtype: t.dtype, shape: l.shape, strides: l.strides, offset: l.offset } : viewWith(t, h)));
    }
    if (isDense(t)) return data;
    const copy = mapOut(data, (h) => backend.unary('identity', viewWith(t, h), t.dtype));
    temps.push(copy);
    return copy;
  });
  const result = mapOut(all(inputs), (xs) => fn(xs));
  if (temps.length > 0) {
    const release = () => temps.forEach((h) => mapOut(h, (x) => backend.dispose(x)));
    if (isPromise(result)) result.then(release, release);
    else release();
  }
  return result;
}

/** A 'view' argument that reads `t` broadcast to `shape` (stride 0 on the new and the size-1 dims). */
export function broadcastArg(t: Tensor, shape: readonly number[]): KernelArg {
  const lead = shape.length - t.ndim;
  const strides = shape.map((d, i) => {
    const j = i - lead;
    if (j < 0) return 0;
    return t.shape[j] === 1 && d !== 1 ? 0 : t.strides[j];
  });
  return { tensor: t, as: 'view', layout: { shape, strides, offset: t.offset } };
}

/** Dtypes ordered by promotion: int32 < float32 < float64. */
export function promoteTypes(a: DType, b: DType): DType {
  if (a === 'float64' || b === 'float64') return 'float64';
  if (a === 'float32' || b === 'float32') return 'float32';
  return 'int32';
}

export function isFloat(d: DType): boolean {
  return d === 'float32' || d === 'float64';
}
