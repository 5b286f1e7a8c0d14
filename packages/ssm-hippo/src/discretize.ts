/**
 * Discretization of a continuous linear system x' = A x + B u with step dt into x_k = Ad x_{k-1} + Bd u_k
 * (HiPPO Appendix B.3; S4 Section 2.3 uses the bilinear one, Mamba the zero-order hold).
 */
import { axpby, expm, identity, matmul, scale, solve, zerosMatrix, type Matrix } from './linalg.js';
import type { Transition } from './hippo.js';

/** forward Euler, backward Euler, bilinear (Tustin, the generalized bilinear transform with alpha = 1/2), ZOH. */
export type DiscretizationMethod = 'forward-euler' | 'backward-euler' | 'bilinear' | 'zoh';

const METHODS: readonly DiscretizationMethod[] = ['forward-euler', 'backward-euler', 'bilinear', 'zoh'];

/**
 * Discretize (A, B) with step `dt`:
 * - forward Euler:  Ad = I + dt A,                    Bd = dt B
 * - backward Euler: Ad = (I - dt A)^-1,               Bd = (I - dt A)^-1 dt B
 * - bilinear:       Ad = (I - dt/2 A)^-1 (I + dt/2 A), Bd = (I - dt/2 A)^-1 dt B
 * - ZOH:            Ad = exp(dt A),                   Bd = int_0^dt exp(s A) ds B, both read off
 *   exp(dt [[A, B], [0, 0]]) (Van Loan 1978), so a singular A needs no special case.
 */
export function discretize(t: Transition, dt: number, method: DiscretizationMethod): Transition {
  const { A, B } = t;
  const n = A.rows;
  if (A.cols !== n) throw new Error(`discretize: expected a square A; got [${A.rows},${A.cols}]`);
  if (B.rows !== n) throw new Error(`discretize: expected B with ${n} rows (A is [${n},${n}]); got [${B.rows},${B.cols}]`);
  if (!(typeof dt === 'number' && Number.isFinite(dt) && dt > 0)) {
    throw new Error(`discretize: expected dt to be a finite number > 0; got ${JSON.stringify(dt)}`);
  }
  const I = identity(n);
  switch (method) {
    case 'forward-euler':
      return { A: axpby(1, I, dt, A), B: scale(B, dt) };
    case 'backward-euler': {
      const M = axpby(1, I, -dt, A);
      return { A: solve(M, I), B: solve(M, scale(B, dt)) };
    }
    case 'bilinear': {
      const M = axpby(1, I, -dt / 2, A);
      return { A: solve(M, axpby(1, I, dt / 2, A)), B: solve(M, scale(B, dt)) };
    }
    case 'zoh': {
      const m = B.cols;
      const aug = zerosMatrix(n + m, n + m);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) aug.data[i * (n + m) + j] = dt * A.data[i * n + j];
        for (let j = 0; j < m; j++) aug.data[i * (n + m) + n + j] = dt * B.data[i * m + j];
      }
      const E = expm(aug);
      const Ad = zerosMatrix(n, n);
      const Bd = zerosMatrix(n, m);
      for (let i = 0; i < n; i++) {
        for (let j = 0; j < n; j++) Ad.data[i * n + j] = E.data[i * (n + m) + j];
        for (let j = 0; j < m; j++) Bd.data[i * m + j] = E.data[i * (n + m) + n + j];
      }
      return { A: Ad, B: Bd };
    }
    default:
      throw new Error(`discretize: expected method one of ${METHODS.join(', ')}; got ${JSON.stringify(method)}`);
  }
}

/** Run x_k = Ad x_{k-1} + Bd u_k from x_{-1} = 0 over a scalar signal; returns every state (L rows of N). */
export function runDiscrete(t: Transition, u: ArrayLike<number>): Float64Array[] {
  const n = t.A.rows;
  let x: Matrix = zerosMatrix(n, 1);
  const out: Float64Array[] = [];
  for (let k = 0; k < u.length; k++) {
    x = axpby(1, matmul(t.A, x), u[k], t.B);
    out.push(Float64Array.from(x.data));
  }
  return out;
}
