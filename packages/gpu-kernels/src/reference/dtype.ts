import type { DType, TypedArray } from '../types.js';

/** A fresh zero-filled array of `dtype`. Storing into it rounds (float32) or wraps to int32, like the hardware. */
export function allocate(dtype: DType, size: number): TypedArray {
  switch (dtype) {
    case 'float32':
      return new Float32Array(size);
    case 'float64':
      return new Float64Array(size);
    case 'int32':
      return new Int32Array(size);
    default:
      throw new Error(`reference: unknown dtype "${String(dtype)}"; expected float32, float64 or int32`);
  }
}

/** Copy `data` into a new array of `dtype`; float to int32 truncates toward zero, as a torch cast does. */
export function castCopy(data: ArrayLike<number>, dtype: DType): TypedArray {
  const out = allocate(dtype, data.length);
  if (dtype === 'int32') {
    // Typed-array stores already truncate toward zero and map NaN to 0 (ToInt32); out-of-range values wrap.
    for (let i = 0; i < data.length; i++) out[i] = data[i];
  } else {
    out.set(data);
  }
  return out;
}

/** Throw unless the kernel supports `dtype`; the float-only kernels (matmul, conv, norms, fft, ...) call this. */
export function requireFloat(kernel: string, dtype: DType): void {
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new Error(`reference.${kernel}: expected dtype float32 or float64; got ${dtype}`);
  }
}

/**
 * Throw unless `buf` holds at least `needed` elements, so a kernel never reads outside a buffer. Typed arrays
 * would otherwise answer an out-of-bounds read with `undefined`, which turns into a silent NaN.
 */
export function requireLength(kernel: string, arg: string, buf: ArrayLike<number>, needed: number): void {
  if (buf.length < needed) {
    throw new Error(`reference.${kernel}: expected ${arg} to hold at least ${needed} elements; got ${buf.length}`);
  }
}
