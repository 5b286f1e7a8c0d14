/**
 * Small dense complex float64 linear algebra on the host, for S4's NPLR setup (the eigenbasis of HiPPO-LegS's
 * normal part) and its recurrent-mode parameters. Sizes are the state size N (tens), so O(N^3) is fine.
 */

/** A dense row-major complex n x m matrix as separate real and imaginary parts. */
export interface CMatrix {
  readonly rows: number;
  readonly cols: number;
  readonly re: Float64Array;
  readonly im: Float64Array;
}

export function czeros(rows: number, cols: number): CMatrix {
  return { rows, cols, re: new Float64Array(rows * cols), im: new Float64Array(rows * cols) };
}

export function ceye(n: number): CMatrix {
  const m = czeros(n, n);
  for (let i = 0; i < n; i++) m.re[i * n + i] = 1;
  return m;
}

export function cmatmul(a: CMatrix, b: CMatrix): CMatrix {
  if (a.cols !== b.rows) throw new Error(`cmatmul: expected a.cols (=${a.cols}) to equal b.rows (=${b.rows})`);
  const out = czeros(a.rows, b.cols);
  const m = b.cols;
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const ar = a.re[i * a.cols + k];
      const ai = a.im[i * a.cols + k];
      if (ar === 0 && ai === 0) continue;
      for (let j = 0; j < m; j++) {
        const br = b.re[k * m + j];
        const bi = b.im[k * m + j];
        out.re[i * m + j] += ar * br - ai * bi;
        out.im[i * m + j] += ar * bi + ai * br;
      }
    }
  }
  return out;
}

/** alpha a + beta b for real alpha, beta. */
export function caxpby(alpha: number, a: CMatrix, beta: number, b: CMatrix): CMatrix {
  const out = czeros(a.rows, a.cols);
  for (let i = 0; i < out.re.length; i++) {
    out.re[i] = alpha * a.re[i] + beta * b.re[i];
    out.im[i] = alpha * a.im[i] + beta * b.im[i];
  }
  return out;
}

/** Solve a X = b by Gaussian elimination with partial pivoting. */
export function csolve(a: CMatrix, b: CMatrix): CMatrix {
  const n = a.rows;
  if (a.cols !== n || b.rows !== n) throw new Error(`csolve: expected a square a and b with ${n} rows; got a [${a.rows},${a.cols}], b [${b.rows},${b.cols}]`);
  const m = b.cols;
  const lr = Float64Array.from(a.re);
  const li = Float64Array.from(a.im);
  const xr = Float64Array.from(b.re);
  const xi = Float64Array.from(b.im);
  const swap = (arr: Float64Array, w: number, r1: number, r2: number) => {
    for (let j = 0; j < w; j++) [arr[r1 * w + j], arr[r2 * w + j]] = [arr[r2 * w + j], arr[r1 * w + j]];
  };
  for (let k = 0; k < n; k++) {
    let p = k;
    let best = -1;
    for (let i = k; i < n; i++) {
      const v = Math.hypot(lr[i * n + k], li[i * n + k]);
      if (v > best) [best, p] = [v, i];
    }
    if (!(best > 0)) throw new Error(`csolve: the matrix is singular (column ${k})`);
    if (p !== k) {
      swap(lr, n, k, p);
      swap(li, n, k, p);
      swap(xr, m, k, p);
      swap(xi, m, k, p);
    }
    const pr = lr[k * n + k];
    const pi = li[k * n + k];
    const pd = pr * pr + pi * pi;
    for (let i = k + 1; i < n; i++) {
      const ar = lr[i * n + k];
      const ai = li[i * n + k];
      if (ar === 0 && ai === 0) continue;
      // f = a_ik / a_kk
      const fr = (ar * pr + ai * pi) / pd;
      const fi = (ai * pr - ar * pi) / pd;
      for (let j = k; j < n; j++) {
        const br = lr[k * n + j];
        const bi = li[k * n + j];
        lr[i * n + j] -= fr * br - fi * bi;
        li[i * n + j] -= fr * bi + fi * br;
      }
      for (let j = 0; j < m; j++) {
        const br = xr[k * m + j];
        const bi = xi[k * m + j];
        xr[i * m + j] -= fr * br - fi * bi;
        xi[i * m + j] -= fr * bi + fi * br;
      }
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    const pr = lr[i * n + i];
    const pi = li[i * n + i];
    const pd = pr * pr + pi * pi;
    for (let j = 0; j < m; j++) {
      let sr = xr[i * m + j];
      let si = xi[i * m + j];
      for (let k = i + 1; k < n; k++) {
        sr -= lr[i * n + k] * xr[k * m + j] - li[i * n + k] * xi[k * m + j];
        si -= lr[i * n + k] * xi[k * m + j] + li[i * n + k] * xr[k * m + j];
      }
      xr[i * m + j] = (sr * pr + si * pi) / pd;
      xi[i * m + j] = (si * pr - sr * pi) / pd;
    }
  }
  return { rows: n, cols: m, re: xr, im: xi };
}

/** a^p for an integer p >= 0 by binary exponentiation. */
export function cpow(a: CMatrix, p: number): CMatrix {
  let result = ceye(a.rows);
  let base = a;
  let e = p;
  while (e > 0) {
    if (e & 1) result = cmatmul(result, base);
    e = Math.floor(e / 2);
    if (e > 0) base = cmatmul(base, base);
  }
  return result;
}

/** The conjugate transpose. */
export function cadjoint(a: CMatrix): CMatrix {
  const out = czeros(a.cols, a.rows);
  for (let i = 0; i < a.rows; i++) {
    for (let j = 0; j < a.cols; j++) {
      out.re[j * a.rows + i] = a.re[i * a.cols + j];
      out.im[j * a.rows + i] = -a.im[i * a.cols + j];
    }
  }
  return out;
}

/**
 * Eigen-decomposition of a Hermitian matrix by the cyclic complex Jacobi method: H = V diag(w) V^*, V unitary.
 * Each rotation first turns h_pq real with a phase, then zeroes it with a real Givens rotation.
 */
export function hermitianEig(h: CMatrix, opts: { tol?: number; maxSweeps?: number } = {}): { w: Float64Array; V: CMatrix } {
  const n = h.rows;
  const re = Float64Array.from(h.re);
  const im = Float64Array.from(h.im);
  const V = ceye(n);
  const tol = opts.tol ?? 1e-15;
  let scaleRef = 0;
  for (let i = 0; i < re.length; i++) scaleRef = Math.max(scaleRef, Math.hypot(re[i], im[i]));
  for (let sweep = 0; sweep < (opts.maxSweeps ?? 100); sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off = Math.max(off, Math.hypot(re[p * n + q], im[p * n + q]));
    if (off <= tol * Math.max(scaleRef, Number.MIN_VALUE)) break;
    for (let p = 0; p < n; p++) {
      for (let q = p + 1; q < n; q++) {
        const br = re[p * n + q];
        const bi = im[p * n + q];
        const babs = Math.hypot(br, bi);
        if (babs === 0) continue;
        const phase = Math.atan2(bi, br);
        const theta = 0.5 * Math.atan2(2 * babs, re[q * n + q] - re[p * n + p]);
        const c = Math.cos(theta);
        const s = Math.sin(theta);
        // U = diag(1, e^{-i phase}) [[c, s], [-s, c]]: U_pp = c, U_pq = s, U_qp = -s e^{-i phase}, U_qq = c e^{-i phase}.
        const er = Math.cos(phase);
        const ei = -Math.sin(phase);
        const u = [c, 0, s, 0, -s * er, -s * ei, c * er, c * ei]; // pp, pq, qp, qq as (re, im)
        const applyCols = (mr: Float64Array, mi: Float64Array, rows: number) => {
          for (let k = 0; k < rows; k++) {
            const xr = mr[k * n + p];
            const xi = mi[k * n + p];
            const yr = mr[k * n + q];
            const yi = mi[k * n + q];
            // new col p = x U_pp + y U_qp; new col q = x U_pq + y U_qq
            mr[k * n + p] = xr * u[0] - xi * u[1] + yr * u[4] - yi * u[5];
            mi[k * n + p] = xr * u[1] + xi * u[0] + yr * u[5] + yi * u[4];
            mr[k * n + q] = xr * u[2] - xi * u[3] + yr * u[6] - yi * u[7];
            mi[k * n + q] = xr * u[3] + xi * u[2] + yr * u[7] + yi * u[6];
          }
        };
        applyCols(re, im, n);
        // rows: new row p = conj(U_pp) x + conj(U_qp) y; new row q = conj(U_pq) x + conj(U_qq) y
        for (let k = 0; k < n; k++) {
          const xr = re[p * n + k];
          const xi = im[p * n + k];
          const yr = re[q * n + k];
          const yi = im[q * n + k];
          re[p * n + k] = u[0] * xr + u[1] * xi + u[4] * yr + u[5] * yi;
          im[p * n + k] = u[0] * xi - u[1] * xr + u[4] * yi - u[5] * yr;
          re[q * n + k] = u[2] * xr + u[3] * xi + u[6] * yr + u[7] * yi;
          im[q * n + k] = u[2] * xi - u[3] * xr + u[6] * yi - u[7] * yr;
        }
        applyCols(V.re, V.im, n);
      }
    }
  }
  const w = Float64Array.from({ length: n }, (_, i) => re[i * n + i]);
  return { w, V };
}
