import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  at,
  axpby,
  discretize,
  expm,
  expmSeries,
  hippoFouT,
  hippoLagT,
  hippoLegS,
  hippoLegT,
  hippoTransition,
  identity,
  legsLowRank,
  matmul,
  matrix,
  norm1,
  runDiscrete,
  scale,
  transpose,
  type Matrix,
} from '../src/index.js';

const maxAbs = (m: Matrix) => m.data.reduce((a, v) => Math.max(a, Math.abs(v)), 0);

function randomMatrix(n: number, seed: number, s = 1): Matrix {
  let x = seed >>> 0 || 1;
  const next = () => ((x = (Math.imul(x, 1664525) + 1013904223) >>> 0) / 2 ** 32) * 2 - 1;
  return matrix(Array.from({ length: n }, () => Array.from({ length: n }, () => s * next())));
}

describe('HiPPO transition matrices', () => {
  it('LegS matches its closed form entry by entry', () => {
    const { A, B } = hippoLegS(5);
    expect(at(A, 0, 0)).toBe(-1);
    expect(at(A, 3, 3)).toBe(-4);
    expect(at(A, 3, 1)).toBeCloseTo(-Math.sqrt(7 * 3), 14);
    expect(at(A, 1, 3)).toBe(0);
    expect(Array.from(B.data)).toEqual([1, 3, 5, 7, 9].map(Math.sqrt));
  });

  it('LegS: A + P P^T = -I/2 + a skew-symmetric matrix (S4 Theorem 1), for every N', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), (N) => {
        const { A } = hippoLegS(N);
        const P = legsLowRank(N);
        const S = axpby(1, axpby(1, A, 1, matmul(P, transpose(P))), 0.5, identity(N)); // A + PP^T + I/2
        expect(maxAbs(axpby(1, S, 1, transpose(S)))).toBeLessThan(1e-12);
      }),
      { seed: 42, numRuns: 25 },
    );
  });

  it('LegT orthonormal = S D^-1 A_lmu D S (a change of basis), and theta scales A and B by 1/theta', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 20 }), fc.double({ min: 0.1, max: 10, noNaN: true }), (N, theta) => {
        const lmu = hippoLegT(N, { basis: 'lmu', theta });
        const ortho = hippoLegT(N, { theta });
        for (let n = 0; n < N; n++) {
          for (let k = 0; k < N; k++) {
            const t = (lmu.A.data[n * N + k] * Math.sqrt(2 * k + 1)) / Math.sqrt(2 * n + 1) * (-1) ** (n + k);
            expect(ortho.A.data[n * N + k]).toBeCloseTo(t, 10);
          }
          expect(ortho.B.data[n]).toBeCloseTo((lmu.B.data[n] / Math.sqrt(2 * n + 1)) * (-1) ** n, 10);
        }
        const one = hippoLegT(N);
        expect(maxAbs(axpby(1, ortho.A, -1 / theta, one.A))).toBeLessThan(1e-12 * (1 + maxAbs(one.A)));
      }),
      { seed: 42, numRuns: 20 },
    );
  });

  it('FouT: A + B B^T / 2 is skew-symmetric (a pure rotation plus the rank-one endpoint correction)', () => {
    expect(at(hippoFouT(4).A, 0, 0)).toBe(-2); // the paper's Appendix D.3 values
    expect(at(hippoFouT(4).B, 1, 0)).toBeCloseTo(2 * Math.SQRT2, 14);
    for (const N of [1, 2, 5, 8]) {
      const { A, B } = hippoFouT(N);
      const R = axpby(1, A, 0.5, matmul(B, transpose(B)));
      expect(maxAbs(axpby(1, R, 1, transpose(R)))).toBeLessThan(1e-12);
    }
    expect(at(hippoFouT(5).A, 3, 4)).toBeCloseTo(4 * Math.PI, 12);
  });

  it('LagT: -tril(1) plus the optional diagonal shift', () => {
    const { A, B } = hippoLagT(3, { diagonalShift: 0.5, beta: 2 });
    expect(Array.from(A.data)).toEqual([-0.5, 0, 0, -1, -0.5, 0, -1, -1, -0.5]);
    expect(Array.from(B.data)).toEqual([2, 2, 2]);
  });

  it('LegT reconstructs a smooth signal over its window, better as N grows', () => {
    // Feed f through the ZOH-discretized LegT (theta = 1) and reconstruct the last window. With the (-1)^n sign
    // flip of the orthonormal form, the basis functions are sqrt(2n+1) P_n(1 - 2 lag), lag in [0, 1] windows.
    const f = (t: number) => Math.sin(6 * t) + 0.5 * Math.cos(11 * t);
    const dt = 1e-3;
    const T = 3;
    const u = Array.from({ length: Math.round(T / dt) }, (_, k) => f((k + 1) * dt));
    const legendre = (n: number, x: number) => {
      let p0 = 1;
      let p1 = x;
      if (n === 0) return p0;
      for (let k = 1; k < n; k++) [p0, p1] = [p1, ((2 * k + 1) * x * p1 - k * p0) / (k + 1)];
      return p1;
    };
    const errorFor = (N: number) => {
      const sys = discretize(hippoLegT(N), dt, 'zoh');
      const states = runDiscrete(sys, u);
      const c = states[states.length - 1];
      let worst = 0;
      for (let i = 1; i < 20; i++) {
        const lag = i / 20; // in window units, x' in (0, 1)
        let rec = 0;
        for (let n = 0; n < N; n++) rec += c[n] * Math.sqrt(2 * n + 1) * legendre(n, 1 - 2 * lag);
        worst = Math.max(worst, Math.abs(rec - f(T - lag)));
      }
      return worst;
    };
    const e8 = errorFor(8);
    const e16 = errorFor(16);
    expect(e16).toBeLessThan(e8);
    expect(e16).toBeLessThan(0.05);
  });

  it('rejects bad arguments with clear messages', () => {
    expect(() => hippoLegS(0)).toThrow(/hippoLegS: expected N to be an integer >= 1; got 0/);
    expect(() => hippoLegT(4, { theta: -1 })).toThrow(/opts.theta to be a finite number > 0; got -1/);
    expect(() => hippoTransition('legx' as never, 4)).toThrow(/expected measure 'legt', 'legs', 'lagt' or 'fout'; got "legx"/);
  });
});

describe('expm and discretization', () => {
  it('the Padé expm agrees with the Taylor series on random matrices of any norm', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 1e9 }), fc.double({ min: 0.01, max: 20, noNaN: true }), (n, seed, s) => {
        const a = randomMatrix(n, seed, s);
        const e1 = expm(a);
        const e2 = expmSeries(a);
        expect(maxAbs(axpby(1, e1, -1, e2))).toBeLessThan(1e-11 * Math.max(1, norm1(e2)));
      }),
      { seed: 42, numRuns: 40 },
    );
  });

  it('expm of a diagonal matrix and of a rotation generator are exact', () => {
    const d = expm(matrix([[1, 0], [0, -3]]));
    expect(at(d, 0, 0)).toBeCloseTo(Math.E, 14);
    expect(at(d, 1, 1)).toBeCloseTo(Math.exp(-3), 15);
    const r = expm(matrix([[0, -2], [2, 0]]));
    expect(at(r, 0, 0)).toBeCloseTo(Math.cos(2), 14);
    expect(at(r, 1, 0)).toBeCloseTo(Math.sin(2), 14);
  });

  it('every method agrees with ZOH to first order in dt, and bilinear to second order', () => {
    const sys = hippoLegS(6);
    const errs = (dt: number) => {
      const z = discretize(sys, dt, 'zoh');
      return (['forward-euler', 'backward-euler', 'bilinear'] as const).map((m) => maxAbs(axpby(1, discretize(sys, dt, m).A, -1, z.A)));
    };
    const [fe1, be1, bl1] = errs(1e-2);
    const [fe2, be2, bl2] = errs(5e-3);
    expect(fe1 / fe2).toBeGreaterThan(3.5); // O(dt^2) local error: halving dt divides it by ~4
    expect(be1 / be2).toBeGreaterThan(3.5);
    expect(bl1 / bl2).toBeGreaterThan(7); // O(dt^3)
  });

  it('ZOH B equals A^-1 (exp(dt A) - I) B for invertible A', () => {
    const sys = hippoLegS(5);
    const dt = 0.3;
    const z = discretize(sys, dt, 'zoh');
    const lhs = matmul(sys.A, z.B); // A Bd = (Ad - I) B
    const rhs = matmul(axpby(1, z.A, -1, identity(5)), sys.B);
    expect(maxAbs(axpby(1, lhs, -1, rhs))).toBeLessThan(1e-12);
    expect(maxAbs(axpby(1, discretize(sys, dt, 'forward-euler').B, -1, scale(sys.B, dt)))).toBe(0);
  });

  it('rejects non-positive steps, shape mismatches and unknown methods', () => {
    const sys = hippoLegS(3);
    expect(() => discretize(sys, 0, 'zoh')).toThrow(/discretize: expected dt to be a finite number > 0; got 0/);
    expect(() => discretize(sys, -0.1, 'bilinear')).toThrow(/got -0.1/);
    expect(() => discretize({ A: sys.A, B: hippoLegS(4).B }, 0.1, 'zoh')).toThrow(/expected B with 3 rows .* got \[4,1\]/);
    expect(() => discretize(sys, 0.1, 'rk4' as never)).toThrow(/expected method one of forward-euler, backward-euler, bilinear, zoh; got "rk4"/);
  });
});
