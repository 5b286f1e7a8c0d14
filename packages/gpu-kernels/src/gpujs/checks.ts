import type { DType, View } from '../types.js';

/**
 * Boundary checks of the gpu.js backends. A GPU reads outside a texture without complaint (it returns zeros or
 * garbage), so every length is checked on the host before a kernel runs.
 */
export class GpujsChecks {
  constructor(private readonly backend: string) {}

  /** float64 is the one dtype these backends cannot compute in; say so, and where to go instead. */
  dtype(kernel: string, arg: string, dtype: DType): void {
    if (dtype === 'float32' || dtype === 'int32') return;
    if (dtype === 'float64') {
      throw new Error(
        `${this.backend}.${kernel}: float64 is not supported by the "${this.backend}" backend (gpu.js computes in float32); ` +
          `got ${arg} in float64. Use the "reference" or "wasm" backend for float64 (e.g. gradient checks)`,
      );
    }
    throw new Error(`${this.backend}.${kernel}: expected ${arg} dtype float32 or int32; got ${String(dtype)}`);
  }

  float(kernel: string, dtype: DType): void {
    this.dtype(kernel, 'dtype', dtype);
    if (dtype !== 'float32') throw new Error(`${this.backend}.${kernel}: expected dtype float32; got ${dtype}`);
  }

  length(kernel: string, arg: string, buf: ArrayLike<number>, needed: number): void {
    if (buf.length < needed) {
      throw new Error(`${this.backend}.${kernel}: expected ${arg} to hold at least ${needed} elements; got ${buf.length}`);
    }
  }

  /** Every element a strided view addresses lies inside its buffer (strides may be 0 or negative). */
  view(kernel: string, arg: string, v: View<ArrayLike<number>>, outShape?: readonly number[]): void {
    this.dtype(kernel, `${arg}.dtype`, v.dtype);
    if (outShape && (v.shape.length !== outShape.length || v.shape.some((d, i) => d !== outShape[i]))) {
      throw new Error(
        `${this.backend}.${kernel}: expected ${arg}.shape to be expanded to the output shape [${outShape.join(',')}]; got [${v.shape.join(',')}]`,
      );
    }
    if (v.shape.some((d) => d === 0)) return;
    if (v.strides.length !== v.shape.length) {
      throw new Error(`${this.backend}.${kernel}: expected ${arg}.strides to have ${v.shape.length} entries; got ${v.strides.length}`);
    }
    let lo = v.offset;
    let hi = v.offset;
    v.shape.forEach((n, d) => {
      const reach = (n - 1) * v.strides[d];
      if (reach < 0) lo += reach;
      else hi += reach;
    });
    if (lo < 0 || !Number.isInteger(lo) || !Number.isInteger(hi)) {
      throw new Error(`${this.backend}.${kernel}: ${arg} addresses element ${lo}, outside its buffer`);
    }
    this.length(kernel, arg, v.data, hi + 1);
  }
}
