/**
 * Small dense float64 linear algebra on the host, for HiPPO matrices and their discretization. State sizes here are
 * tens to a few hundred, so plain row-major arrays and O(N^3) algorithms are the clear choice.
 */

/** A dense row-major float64 matrix. */
export interface Matrix {
  readonly rows: number;
  readonly cols: number;
  /** Row-major values, length rows * cols. */
  readonly data: Float64Array;
}

/** A matrix from nested rows (copied). */
export function matrix(rows: readonly (readonly number[])[]): Matrix {
  const r = rows.length;
  const c = r === 0 ? 0 : rows[0].length;
  const data = new Float64Array(r * c);
  rows.forEach((row, i) => {
    if (row.length !== c) throw new Error(`matrix: expected every row to have ${c} entries; row ${i} has ${row.length}`);
    data.set(row, i * c);
  });
  return { rows: r, cols: c, data };
}

export function zerosMatrix(rows: number, cols: number): Matrix {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function identity(n: number): Matrix {
  const m = zerosMatrix(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

/** Entry (i, j). */
export function at(m: Matrix, i: number, j: number): number {
  return m.data[i * m.cols + j];
}

/** Nested rows, for printing and tests. */
export function toRows(m: Matrix): number[][] {
  return Array.from({ length: m.rows }, (_, i) => Array.from(m.data.subarray(i * m.cols, (i + 1) * m.cols)));
}

export function transpose(m: Matrix): Matrix {
  const out = zerosMatrix(m.cols, m.rows);
  for (let i = 0; i < m.rows; i++) for (let j = 0; j < m.cols; j++) out.data[j * m.rows + i] = m.data[i * m.cols + j];
  return out;
}

function sameShape(op: string, a: Matrix, b: Matrix): void {
  if (a.rows !== b.rows || a.cols !== b.cols) {
    throw new Error(`${op}: expected matrices of one shape; got [${a.rows},${a.cols}] and [${b.rows},${b.cols}]`);
  }
}

/** alpha * a + beta * b. */
export function axpby(alpha: number, a: Matrix, beta: number, b: Matrix): Matrix {
  sameShape('axpby', a, b);
  const out = zerosMatrix(a.rows, a.cols);
  for (let i = 0; i < out.data.length; i++) out.data[i] = alpha * a.data[i] + beta * b.data[i];
  return out;
}

export function scale(a: Matrix, s: number): Matrix {
  return { rows: a.rows, cols: a.cols, data: a.data.map((v) => v * s) };
}

export function matmul(a: Matrix, b: Matrix): Matrix {
  if (a.cols !== b.rows) throw new Error(`matmul: expected a.cols (=${a.cols}) to equal b.rows (=${b.rows})`);
  const out = zerosMatrix(a.rows, b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k];
      if (aik === 0) continue;
      for (let j = 0; j < b.cols; j++) out.data[i * b.cols + j] += aik * b.data[k * b.cols + j];
    }
  }
  return out;
}

/** Max absolute column sum (the induced 1-norm), used to pick the scaling in `expm`. */
export function norm1(a: Matrix): number {
  let best = 0;
  for (let j = 0; j < a.cols; j++) {
    let s = 0;
    for (let i = 0; i < a.rows; i++) s += Math.abs(a.data[i * a.cols + j]);
    best = Math.max(best, s);
  }
  return best;
}

/** Solve a X = b by LU with partial pivoting; throws on a (numerically) singular a. */
export function solve(a: Matrix, b: Matrix): Matrix {
  const n = a.rows;
  if (a.cols !== n) throw new Error(`solve: expected a square matrix; got [${a.rows},${a.cols}]`);
  if (b.rows !== n) throw new Error(`solve: expected b.rows (=${b.rows}) to equal a.rows (=${n})`);
  const lu = Float64Array.from(a.data);
  const x = Float64Array.from(b.data);
  const m = b.cols;
  const scaleRef = Math.max(norm1(a), Number.MIN_VALUE);
  for (let k = 0; k < n; k++) {
    let p = k;
    for (let i = k + 1; i < n; i++) if (Math.abs(lu[i * n + k]) > Math.abs(lu[p * n + k])) p = i;
    const piv = lu[p * n + k];
    if (Math.abs(piv) <= 1e-14 * scaleRef) throw new Error(`solve: the matrix is singular to working precision (pivot ${piv} in column ${k})`);
    if (p !== k) {
      for (let j = 0; j < n; j++) [lu[k * n + j], lu[p * n + j]] = [lu[p * n + j], lu[k * n + j]];
      for (let j = 0; j < m; j++) [x[k * m + j], x[p * m + j]] = [x[p * m + j], x[k * m + j]];
    }
    for (let i = k + 1; i < n; i++) {
      const f = lu[i * n + k] / piv;
      if (f === 0) continue;
      for (let j = k; j < n; j++) lu[i * n + j] -= f * lu[k * n + j];
      for (let j = 0; j < m; j++) x[i * m + j] -= f * x[k * m + j];
    }
  }
  for (let i = n - 1; i >= 0; i--) {
    for (let j = 0; j < m; j++) {
      let s = x[i * m + j];
      for (let k = i + 1; k < n; k++) s -= lu[i * n + k] * x[k * m + j];
      x[i * m + j] = s / lu[i * n + i];
    }
  }
  return { rows: n, cols: m, data: x };
}

/**
 * Matrix exponential by scaling and squaring with a diagonal [6/6] Padé approximant (Moler and Van Loan 2003,
 * "Nineteen dubious ways", method 3): scale so that ||A/2^s||_1 <= 1/2, where the [6/6] error bound
 * 2^(3-2q) (q!)^2 / ((2q)! (2q+1)!) is about 3.4e-16, then square s times.
 */
export function expm(a: Matrix): Matrix {
  const n = a.rows;
  if (a.cols !== n) throw new Error(`expm: expected a square matrix; got [${a.rows},${a.cols}]`);
  if (!a.data.every(Number.isFinite)) throw new Error('expm: expected finite entries');
  const nrm = norm1(a);
  const s = nrm > 0.5 ? Math.max(0, Math.ceil(Math.log2(nrm / 0.5))) : 0;
  const x = scale(a, 2 ** -s);
  const q = 6;
  // c_k = (2q - k)! q! / ((2q)! k! (q - k)!), built by the ratio c_k / c_{k-1} = (q - k + 1) / (k (2q - k + 1)).
  let c = 1;
  let num = identity(n);
  let den = identity(n);
  let power = identity(n);
  for (let k = 1; k <= q; k++) {
    c *= (q - k + 1) / (k * (2 * q - k + 1));
    power = matmul(power, x);
    num = axpby(1, num, c, power);
    den = axpby(1, den, (k % 2 === 0 ? 1 : -1) * c, power);
  }
  let e = solve(den, num);
  for (let i = 0; i < s; i++) e = matmul(e, e);
  return e;
}

/**
 * exp(A) by its Taylor series, summed until terms stop changing the result (with scaling and squaring so the
 * series converges fast). An independent check for `expm`, not meant for production use.
 */
export function expmSeries(a: Matrix, maxTerms = 200): Matrix {
  const n = a.rows;
  const nrm = norm1(a);
  const s = nrm > 1 ? Math.ceil(Math.log2(nrm)) : 0;
  const x = scale(a, 2 ** -s);
  let sum = identity(n);
  let term = identity(n);
  for (let k = 1; k <= maxTerms; k++) {
    term = scale(matmul(term, x), 1 / k);
    sum = axpby(1, sum, 1, term);
    if (norm1(term) <= 1e-18 * norm1(sum)) break;
  }
  for (let i = 0; i < s; i++) sum = matmul(sum, sum);
  return sum;
}
