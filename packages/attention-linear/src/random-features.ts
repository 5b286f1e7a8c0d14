/**
 * Random feature projections for FAVOR+ (Choromanski et al. 2021, sec. 2.4 and 4.2): i.i.d. Gaussian rows, or
 * orthogonal random features (ORF): Gaussian blocks of Dh x Dh orthogonalised by QR, then each row rescaled to a
 * chi(Dh)-distributed norm (the norm of an independent Gaussian vector), so that rows stay marginally Gaussian while
 * being exactly orthogonal within a block. Drawn on the host in float64 from a seeded `Generator`.
 */
import { tensor, type BackendLike, type DType, type Generator, type Tensor } from '@formers/tensor-core';

export interface RandomFeatureOptions {
  /** Orthogonal random features (default true). */
  readonly orthogonal?: boolean;
  readonly dtype?: DType;
  readonly backend?: BackendLike;
}

/** Q of the QR decomposition of a square matrix (modified Gram-Schmidt on the columns), row-major. */
function orthonormalColumns(a: number[][]): number[][] {
  const n = a.length;
  const cols = Array.from({ length: n }, (_, j) => a.map((row) => row[j]));
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < j; i++) {
      let d = 0;
      for (let r = 0; r < n; r++) d += cols[i][r] * cols[j][r];
      for (let r = 0; r < n; r++) cols[j][r] -= d * cols[i][r];
    }
    const nrm = Math.sqrt(cols[j].reduce((s, x) => s + x * x, 0));
    for (let r = 0; r < n; r++) cols[j][r] /= nrm;
  }
  return Array.from({ length: n }, (_, r) => cols.map((c) => c[r]));
}

/** A (M, Dh) projection W; rows are the random directions w_m of phi(x) = exp(w_m . x - |x|^2 / 2). */
export function gaussianRandomFeatures(numFeatures: number, dim: number, gen: Generator, opts: RandomFeatureOptions = {}): Tensor {
  const gauss = (): number => gen.nextNormal();
  const rows: number[][] = [];
  if (opts.orthogonal ?? true) {
    // Q^T of a Gaussian block has orthonormal rows; ceil(M / Dh) blocks, the last one truncated.
    while (rows.length < numFeatures) {
      const block = Array.from({ length: dim }, () => Array.from({ length: dim }, gauss));
      const q = orthonormalColumns(block);
      const qt = Array.from({ length: dim }, (_, i) => q.map((r) => r[i])); // rows of Q^T
      for (const r of qt) if (rows.length < numFeatures) rows.push(r);
    }
    for (const r of rows) {
      // chi(Dh) norm: the length of a fresh Gaussian vector.
      let s = 0;
      for (let c = 0; c < dim; c++) s += gauss() ** 2;
      const scale = Math.sqrt(s);
      for (let c = 0; c < dim; c++) r[c] *= scale;
    }
  } else {
    for (let m = 0; m < numFeatures; m++) rows.push(Array.from({ length: dim }, gauss));
  }
  return tensor(rows.flat(), { shape: [numFeatures, dim], dtype: opts.dtype ?? 'float32', backend: opts.backend });
}
