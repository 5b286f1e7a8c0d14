import type { DType, TypedArray } from '../types.js';
import type { SyncBackend } from './sync-backend.js';
import { castCopy } from './dtype.js';
import { binary, where } from './binary.js';
import { concat } from './concat.js';
import { conv1d, conv2d, conv2dGradInput, conv2dGradWeight } from './conv.js';
import { fft } from './fft.js';
import { gather, scatterAdd } from './gather.js';
import { matmul } from './matmul.js';
import { layerNorm, rmsNorm } from './norm.js';
import { reduce } from './reduce.js';
import { cumsum, linearRecurrence } from './scan.js';
import { softmax } from './softmax.js';
import { unary } from './unary.js';

/**
 * The plain TypeScript reference backend: every kernel, float32 / float64 (and int32 for the elementwise ops,
 * reduce, gather/scatterAdd, concat and cumsum), synchronous. It is the ground truth every other backend is
 * tested against, so it favours clarity and accuracy over speed.
 *
 * The handle is the typed array itself. Kernels compute in float64 and store into an array of the buffer's dtype,
 * so float32 results are rounded once, like float32 hardware; sums (reduce, matmul, conv, norms, softmax,
 * cumsum, scatterAdd, linearRecurrence, fft) also accumulate in float64 before that single rounding.
 * Memory belongs to the garbage collector, so `dispose` is a no-op.
 */
export function createReferenceBackend(): SyncBackend<TypedArray> {
  const readSync = (h: TypedArray, dtype: DType, size: number): TypedArray => {
    if (size > h.length) {
      throw new Error(`reference.readSync: expected size <= buffer length (${h.length}); got ${size}`);
    }
    // A copy in the requested dtype, so the caller can never write into a buffer the backend still holds.
    return castCopy(h.subarray(0, size), dtype);
  };
  return {
    name: 'reference',
    sync: true,
    dtypes: ['float32', 'float64', 'int32'],
    fallbacks: new Map<string, string>(),
    upload: (data: TypedArray, dtype: DType) => castCopy(data, dtype),
    readSync,
    read: (h: TypedArray, dtype: DType, size: number) => Promise.resolve(readSync(h, dtype, size)),
    dispose: () => {},
    unary,
    binary,
    where,
    reduce,
    matmul,
    softmax,
    layerNorm,
    rmsNorm,
    conv1d,
    conv2d,
    conv2dGradInput,
    conv2dGradWeight,
    gather,
    scatterAdd,
    concat,
    cumsum,
    linearRecurrence,
    fft,
  };
}

/** One shared reference backend, for code that needs the ground truth without creating its own. */
export const referenceBackend: SyncBackend<TypedArray> = createReferenceBackend();
