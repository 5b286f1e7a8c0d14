/**
 * HiPPO transition matrices (Gu, Dao, Ermon, Rudra, Ré 2020, "HiPPO: Recurrent Memory with Optimal Polynomial
 * Projections", NeurIPS). Each measure gives an ODE on the coefficient vector c(t) of the projection of the input
 * history onto a basis:
 *
 *   LegT, LagT, FouT (time-invariant):   dc/dt = A c + B f(t)
 *   LegS (scaled, window [0, t]):         dc/dt = (1/t) A c + (1/t) B f(t)
 *
 * Signs are folded into A, so A is the matrix the ODE multiplies by (the paper writes -A). Reference code differs in
 * scalings (for example the state-spaces repository halves LegT, which equals a window theta = 2); here each
 * scaling is an explicit option.
 */
import { matrix, zerosMatrix, type Matrix } from './linalg.js';

/** A transition pair: A (N, N) and B (N, 1). */
export interface Transition {
  readonly A: Matrix;
  readonly B: Matrix;
}

/** The HiPPO measures. */
export type HippoMeasure = 'legt' | 'legs' | 'lagt' | 'fout';

export interface LegTOptions {
  /** Window length theta: c(t) summarises f on [t - theta, t]; A and B scale as 1/theta. Default 1. */
  readonly theta?: number;
  /**
   * 'lmu': the Legendre Memory Unit form (Voelker et al. 2019; HiPPO Appendix D.1): coefficients of the
   * unnormalised shifted Legendre polynomials (formula at `hippoLegT`).
   * 'orthonormal': the same system in the orthonormal basis sqrt(2n+1) P_n with the sign flip (-1)^n, i.e.
   * S D^-1 A D S with D = diag(sqrt(2n+1)), S = diag((-1)^n). Default 'orthonormal'.
   */
  readonly basis?: 'lmu' | 'orthonormal';
}

export interface LagTOptions {
  /**
   * Added to the diagonal of A. 0 (default) is the paper's LagT (A = -tril(1), B = 1); the state-spaces repository
   * uses 1/2 (A = I/2 - tril(1)), the generalized Laguerre measure with the exponential tilt it describes.
   */
  readonly diagonalShift?: number;
  /** B = beta * 1; default 1. */
  readonly beta?: number;
}

function checkN(op: string, n: unknown): number {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) throw new Error(`${op}: expected N to be an integer >= 1; got ${JSON.stringify(n)}`);
  return n;
}

function checkPositive(op: string, name: string, v: number): number {
  if (!(typeof v === 'number' && Number.isFinite(v) && v > 0)) throw new Error(`${op}: expected ${name} to be a finite number > 0; got ${JSON.stringify(v)}`);
  return v;
}

/**
 * HiPPO-LegT: Legendre basis on the sliding window [t - theta, t] (HiPPO Appendix D.1, the LMU of Voelker et al.
 * 2019). In the 'lmu' basis, theta dc/dt = A c + B f with
 *   A_nk = (2n+1) * { -1 if n < k;  (-1)^(n-k+1) if n >= k },   B_n = (2n+1) (-1)^n.
 * In the 'orthonormal' basis (default),
 *   A_nk = -sqrt(2n+1) sqrt(2k+1) * { (-1)^(n-k) if n < k; 1 if n >= k } / theta,   B_n = sqrt(2n+1) / theta.
 * The state-spaces `transition('legt')` is the orthonormal form with theta = 2 (its "halve again" line).
 */
export function hippoLegT(N: number, opts: LegTOptions = {}): Transition {
  checkN('hippoLegT', N);
  const theta = checkPositive('hippoLegT', 'opts.theta', opts.theta ?? 1);
  const basis = opts.basis ?? 'orthonormal';
  if (basis !== 'lmu' && basis !== 'orthonormal') throw new Error(`hippoLegT: expected opts.basis 'lmu' or 'orthonormal'; got ${JSON.stringify(basis)}`);
  const A = zerosMatrix(N, N);
  const B = zerosMatrix(N, 1);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k < N; k++) {
      if (basis === 'lmu') A.data[n * N + k] = ((2 * n + 1) * (n < k ? -1 : (-1) ** (n - k + 1))) / theta;
      else A.data[n * N + k] = (-Math.sqrt((2 * n + 1) * (2 * k + 1)) * (n < k ? (-1) ** (n - k) : 1)) / theta;
    }
    B.data[n] = (basis === 'lmu' ? (2 * n + 1) * (-1) ** n : Math.sqrt(2 * n + 1)) / theta;
  }
  return { A, B };
}

/**
 * HiPPO-LegS: Legendre basis on [0, t] with uniform measure 1/t (HiPPO Theorem 2). For dc/dt = (1/t)(A c + B f):
 *   A_nk = -{ sqrt(2n+1) sqrt(2k+1) if n > k;  n+1 if n = k;  0 if n < k },   B_n = sqrt(2n+1).
 * The same A is the HiPPO matrix that S4 (Gu et al. 2021) uses time-invariantly.
 */
export function hippoLegS(N: number): Transition {
  checkN('hippoLegS', N);
  const A = zerosMatrix(N, N);
  const B = zerosMatrix(N, 1);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k <= n; k++) A.data[n * N + k] = n === k ? -(n + 1) : -Math.sqrt((2 * n + 1) * (2 * k + 1));
    B.data[n] = Math.sqrt(2 * n + 1);
  }
  return { A, B };
}

/**
 * HiPPO-LagT: Laguerre basis under the exponentially decaying measure e^-(t-s) on (-inf, t] (HiPPO Appendix D.2):
 * A = -tril(1) + shift * I, B = beta * 1.
 */
export function hippoLagT(N: number, opts: LagTOptions = {}): Transition {
  checkN('hippoLagT', N);
  const shift = opts.diagonalShift ?? 0;
  const beta = opts.beta ?? 1;
  if (!Number.isFinite(shift)) throw new Error(`hippoLagT: expected opts.diagonalShift to be finite; got ${JSON.stringify(opts.diagonalShift)}`);
  checkPositive('hippoLagT', 'opts.beta', beta);
  const A = zerosMatrix(N, N);
  const B = zerosMatrix(N, 1);
  for (let n = 0; n < N; n++) {
    for (let k = 0; k <= n; k++) A.data[n * N + k] = -1 + (n === k ? shift : 0);
    B.data[n] = beta;
  }
  return { A, B };
}

/**
 * HiPPO-FouT: the orthonormal Fourier basis on the window [t - 1, t] (HiPPO Appendix D.3), ordered
 * phi = [1, sqrt2 cos(2 pi x), sqrt2 sin(2 pi x), sqrt2 cos(4 pi x), ...] (x in [0, 1] across the window), truncated
 * to N. Differentiating c_n(t) = int f(s) phi_n(s - t + 1) ds gives the rotation
 *   d c_cos_m / dt = 2 pi m c_sin_m,   d c_sin_m / dt = -2 pi m c_cos_m,
 * plus phi(0) (f(t) - f(t - 1)) (phi(1) = phi(0)). The Fourier series of the window evaluated at its endpoint
 * converges to the average (f(t) + f(t - 1)) / 2 = phi(0)^T c, so f(t - 1) = 2 phi(0)^T c - f(t), which gives the
 * paper's matrices A = R - 2 phi(0) phi(0)^T and B = 2 phi(0) = [2, 2 sqrt2, 0, 2 sqrt2, 0, ...] (A_00 = -2).
 */
export function hippoFouT(N: number): Transition {
  checkN('hippoFouT', N);
  const A = zerosMatrix(N, N);
  const B = zerosMatrix(N, 1);
  const phi0 = Array.from({ length: N }, (_, n) => (n === 0 ? 1 : n % 2 === 1 ? Math.SQRT2 : 0));
  for (let n = 1; n + 1 < N; n += 2) {
    const w = 2 * Math.PI * ((n + 1) / 2);
    A.data[n * N + n + 1] = w; // cos_m <- sin_m
    A.data[(n + 1) * N + n] = -w; // sin_m <- cos_m
  }
  for (let n = 0; n < N; n++) {
    B.data[n] = 2 * phi0[n];
    for (let k = 0; k < N; k++) A.data[n * N + k] -= 2 * phi0[n] * phi0[k];
  }
  return { A, B };
}

/** Any HiPPO transition by name, with its options. */
export function hippoTransition(measure: HippoMeasure, N: number, opts: LegTOptions & LagTOptions = {}): Transition {
  switch (measure) {
    case 'legt':
      return hippoLegT(N, opts);
    case 'legs':
      return hippoLegS(N);
    case 'lagt':
      return hippoLagT(N, opts);
    case 'fout':
      return hippoFouT(N);
    default:
      throw new Error(`hippoTransition: expected measure 'legt', 'legs', 'lagt' or 'fout'; got ${JSON.stringify(measure)}`);
  }
}

/**
 * The low-rank term of HiPPO-LegS's normal-plus-low-rank form (S4, Gu et al. 2021, Theorem 1):
 * P_n = sqrt(n + 1/2), so that A + P P^T = -I/2 + S with S skew-symmetric. Returned as an (N, 1) matrix.
 */
export function legsLowRank(N: number): Matrix {
  checkN('legsLowRank', N);
  return matrix(Array.from({ length: N }, (_, n) => [Math.sqrt(n + 0.5)]));
}
