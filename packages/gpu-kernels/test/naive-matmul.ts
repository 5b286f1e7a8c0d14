import type { MatmulParams } from '@formers/gpu-kernels';

/** The textbook triple loop in float64, reading A and B through the same layout rules as MatmulParams. */
export function naiveMatmul(a: Float32Array, b: Float32Array, p: MatmulParams, rowStep = 1): Float64Array {
  const { batch, m, n, k, transA, transB, strideA, strideB } = p;
  const out = new Float64Array(batch * m * n);
  for (let bi = 0; bi < batch; bi++) {
    for (let i = 0; i < m; i++) {
      // Large cases check every rowStep-th row plus the last 5 rows (an edge tile of either micro-tile); the rest
      // stay NaN.
      if (i % rowStep !== 0 && i < m - 5) {
        out.fill(NaN, (bi * m + i) * n, (bi * m + i + 1) * n);
        continue;
      }
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let q = 0; q < k; q++) {
          const x = transA ? a[bi * strideA + q * m + i] : a[bi * strideA + i * k + q];
          const y = transB ? b[bi * strideB + j * k + q] : b[bi * strideB + q * n + j];
          s += x * y;
        }
        out[(bi * m + i) * n + j] = s;
      }
    }
  }
  return out;
}
