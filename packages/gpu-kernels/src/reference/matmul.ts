import type { DType, MatmulParams, TypedArray } from '../types.js';
import { allocate, requireFloat, requireLength } from './dtype.js';

/**
 * C[b] = op(A[b]) @ op(B[b]) for b < batch, output (batch, m, n).
 *
 * Each row of C accumulates in a float64 row buffer and is rounded once into the output dtype, so a float32
 * result is the correctly rounded exact product up to float64 error. The loop order i, p, j walks B and C by rows
 * (and A^T, B^T by their stored rows), which keeps the plain-TypeScript reference usable at 256 x 256 and beyond.
 */
export function matmul(a: TypedArray, b: TypedArray, dtype: DType, p: MatmulParams): TypedArray {
  requireFloat('matmul', dtype);
  const { batch, m, n, k, transA, transB, strideA, strideB } = p;
  const out = allocate(dtype, batch * m * n);
  if (batch === 0 || m === 0 || n === 0) return out;
  if (k > 0) {
    requireLength('matmul', 'a', a, (batch - 1) * strideA + m * k);
    requireLength('matmul', 'b', b, (batch - 1) * strideB + k * n);
  }
  const row = new Float64Array(n);
  for (let bi = 0; bi < batch; bi++) {
    const offA = bi * strideA;
    const offB = bi * strideB;
    const offC = bi * m * n;
    for (let i = 0; i < m; i++) {
      row.fill(0);
      for (let q = 0; q < k; q++) {
        // A is (m, k) row-major, or (k, m) when transposed.
        const aiq = transA ? a[offA + q * m + i] : a[offA + i * k + q];
        if (transB) {
          // B stored (n, k): column q of op(B) is strided by k.
          for (let j = 0, at = offB + q; j < n; j++, at += k) row[j] += aiq * b[at];
        } else {
          const at = offB + q * n;
          for (let j = 0; j < n; j++) row[j] += aiq * b[at + j];
        }
      }
      out.set(row, offC + i * n);
    }
  }
  return out;
}
