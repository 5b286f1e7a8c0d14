/**
 * HiPPO online function approximation (Gu, Dao, Ermon, Rudra, Ré 2020, "HiPPO: Recurrent Memory with Optimal
 * Polynomial Projections", NeurIPS, Sections 2-3 and Appendix D). A signal f is fed one sample at a time; the
 * state c holds the coefficients of the projection of the history onto the measure's basis, and the history can be
 * reconstructed from c at any time:
 *
 *   LegT  window [t - theta, t]:  f(s) ~ sum_n c_n sqrt(2n+1) P_n(1 - 2 (t - s) / theta)
 *   LegS  all of [0, t] (scaled): f(s) ~ sum_n c_n sqrt(2n+1) P_n(2 s / t - 1)
 *   LagT  (-inf, t], e^-(t-s):    f(s) ~ e^(-shift (t-s)) sum_n c_n L_n(t - s) / beta
 *   FouT  window [t - 1, t]:      f(s) ~ sum_n c_n phi_n(s - t + 1), phi = [1, sqrt2 cos 2 pi x, sqrt2 sin 2 pi x, ...]
 *
 * P_n are the Legendre and L_n the Laguerre polynomials. The time-invariant measures (LegT, LagT, FouT) are
 * discretized once with step dt (ZOH by default). LegS is the time-scaled measure dc/dt = (1/t)(A c + B f): in
 * sample units its step k has step size 1/k, which is why it has no timescale and is invariant to stretching the
 * signal in time (HiPPO Section 3, Proposition 3). It uses the bilinear rule at each step, as the paper's LegS code.
 */
import { axpby, identity, matmul, solve, zerosMatrix, type Matrix } from './linalg.js';
import { discretize, type DiscretizationMethod } from './discretize.js';
import { hippoTransition, type HippoMeasure, type LagTOptions, type LegTOptions, type Transition } from './hippo.js';

export interface HippoMemoryOptions extends LegTOptions, LagTOptions {
  readonly measure: HippoMeasure;
  /** Number of coefficients N. */
  readonly N: number;
  /** Time between samples; must be > 0. Default 1e-3. */
  readonly dt?: number;
  /** Discretization of the time-invariant measures; default 'zoh'. LegS always steps with the bilinear rule. */
  readonly method?: DiscretizationMethod;
}

/** P_0..P_{N-1} at x by the three-term recurrence. */
export function legendre(N: number, x: number): Float64Array {
  const out = new Float64Array(N);
  if (N > 0) out[0] = 1;
  if (N > 1) out[1] = x;
  for (let k = 1; k + 1 < N; k++) out[k + 1] = ((2 * k + 1) * x * out[k] - k * out[k - 1]) / (k + 1);
  return out;
}

/** Laguerre L_0..L_{N-1} at y by (k+1) L_{k+1} = (2k + 1 - y) L_k - k L_{k-1}. */
export function laguerre(N: number, y: number): Float64Array {
  const out = new Float64Array(N);
  if (N > 0) out[0] = 1;
  if (N > 1) out[1] = 1 - y;
  for (let k = 1; k + 1 < N; k++) out[k + 1] = ((2 * k + 1 - y) * out[k] - k * out[k - 1]) / (k + 1);
  return out;
}

/**
 * An online HiPPO memory: `update(f)` feeds the next sample (taken at time k dt, k = 1, 2, ...), `coefficients`
 * is the state c, and `reconstruct(times)` evaluates the approximation of the history at past times.
 */
export class HippoMemory {
  readonly measure: HippoMeasure;
  readonly N: number;
  readonly dt: number;
  private readonly opts: HippoMemoryOptions;
  private readonly continuous: Transition;
  private readonly discrete: Transition | null;
  private c: Matrix;
  private k = 0;

  constructor(opts: HippoMemoryOptions) {
    if (!opts || typeof opts !== 'object') throw new Error(`HippoMemory: expected an options object { measure, N }; got ${String(opts)}`);
    this.continuous = hippoTransition(opts.measure, opts.N, opts);
    this.measure = opts.measure;
    this.N = opts.N;
    this.dt = opts.dt ?? 1e-3;
    if (!(typeof this.dt === 'number' && Number.isFinite(this.dt) && this.dt > 0)) {
      throw new Error(`HippoMemory: expected opts.dt to be a finite number > 0; got ${JSON.stringify(opts.dt)}`);
    }
    if (opts.measure === 'fout' && (opts.theta ?? 1) !== 1) throw new Error(`HippoMemory: FouT has a fixed window 1; got opts.theta ${opts.theta}`);
    this.opts = opts;
    this.discrete = opts.measure === 'legs' ? null : discretize(this.continuous, this.dt, opts.method ?? 'zoh');
    this.c = zerosMatrix(this.N, 1);
  }

  /** The current time t = k dt (k samples seen). */
  get time(): number {
    return this.k * this.dt;
  }

  /** A copy of the coefficient state c (N). */
  get coefficients(): Float64Array {
    return Float64Array.from(this.c.data);
  }

  /** Feed the next sample f(t + dt); returns the new coefficients. */
  update(f: number): Float64Array {
    if (!(typeof f === 'number' && Number.isFinite(f))) throw new Error(`HippoMemory.update: expected a finite number; got ${JSON.stringify(f)}`);
    this.k += 1;
    if (this.discrete) {
      this.c = axpby(1, matmul(this.discrete.A, this.c), f, this.discrete.B);
    } else {
      // LegS step k, bilinear with step size 1/k on dc/ds = A c + B f in s = log t:
      // c_k = (I - A/2k)^-1 [(I + A/2k) c_{k-1} + B f_k / k].
      const { A, B } = this.continuous;
      const h = 1 / this.k;
      const I = identity(this.N);
      const rhs = axpby(1, matmul(axpby(1, I, h / 2, A), this.c), h * f, B);
      this.c = solve(axpby(1, I, -h / 2, A), rhs);
    }
    return this.coefficients;
  }

  /** Feed every sample of `signal` in order; returns the final coefficients. */
  updateAll(signal: ArrayLike<number>): Float64Array {
    for (let i = 0; i < signal.length; i++) this.update(signal[i]);
    return this.coefficients;
  }

  /** The basis values at a past time s (N), for the current time t. */
  basisAt(s: number): Float64Array {
    const t = this.time;
    const N = this.N;
    const lag = t - s;
    switch (this.measure) {
      case 'legs': {
        if (!(s >= 0 && s <= t)) throw new Error(`HippoMemory.reconstruct: LegS covers [0, t=${t}]; got time ${s}`);
        const p = legendre(N, (2 * s) / t - 1);
        return p.map((v, n) => v * Math.sqrt(2 * n + 1));
      }
      case 'legt': {
        const theta = this.opts.theta ?? 1;
        if (!(lag >= 0 && lag <= theta)) throw new Error(`HippoMemory.reconstruct: LegT covers [t - theta, t] = [${t - theta}, ${t}]; got time ${s}`);
        const x = 1 - (2 * lag) / theta;
        if ((this.opts.basis ?? 'orthonormal') === 'lmu') {
          // The LMU coefficients are those of the shifted Legendre polynomials P_n(2 lag/theta - 1) = (-1)^n P_n(x).
          return legendre(N, -x);
        }
        return legendre(N, x).map((v, n) => v * Math.sqrt(2 * n + 1));
      }
      case 'lagt': {
        if (!(lag >= 0)) throw new Error(`HippoMemory.reconstruct: LagT covers (-inf, t=${t}]; got time ${s}`);
        const shift = this.opts.diagonalShift ?? 0;
        const w = Math.exp(-shift * lag) / (this.opts.beta ?? 1);
        return laguerre(N, lag).map((v) => v * w);
      }
      case 'fout': {
        if (!(lag >= 0 && lag <= 1)) throw new Error(`HippoMemory.reconstruct: FouT covers [t - 1, t] = [${t - 1}, ${t}]; got time ${s}`);
        const x = 1 - lag;
        return Float64Array.from({ length: N }, (_, n) => {
          if (n === 0) return 1;
          const m = Math.ceil(n / 2);
          return Math.SQRT2 * (n % 2 === 1 ? Math.cos(2 * Math.PI * m * x) : Math.sin(2 * Math.PI * m * x));
        });
      }
    }
  }

  /** The approximation of f at each of the past `times` (within the measure's support). */
  reconstruct(times: ArrayLike<number>): Float64Array {
    if (this.k === 0) throw new Error('HippoMemory.reconstruct: no sample has been fed yet');
    const out = new Float64Array(times.length);
    for (let i = 0; i < times.length; i++) {
      const g = this.basisAt(times[i]);
      let s = 0;
      for (let n = 0; n < this.N; n++) s += this.c.data[n] * g[n];
      out[i] = s;
    }
    return out;
  }
}

