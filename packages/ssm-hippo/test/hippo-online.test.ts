import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { HippoMemory, laguerre, legendre, type HippoMeasure } from '../src/index.js';

const f = (t: number) => Math.sin(6 * t) + 0.5 * Math.cos(11 * t) + 0.3 * t;

/** Max reconstruction error over the interior of the measure's support after feeding f on (0, T]. */
function reconstructionError(measure: HippoMeasure, N: number, T = 3, dt = 1e-3): number {
  const m = new HippoMemory({ measure, N, dt });
  for (let k = 1; k <= Math.round(T / dt); k++) m.update(f(k * dt));
  const t = m.time;
  const span = measure === 'legs' ? t : 1;
  const ts = Array.from({ length: 81 }, (_, i) => t - span + span * (0.1 + (0.8 * i) / 80));
  const r = m.reconstruct(ts);
  return ts.reduce((e, s, i) => Math.max(e, Math.abs(r[i] - f(s))), 0);
}

describe('HiPPO online function approximation', () => {
  it('the polynomial evaluators match closed forms', () => {
    const x = 0.3;
    const p = legendre(4, x);
    expect(p[2]).toBeCloseTo((3 * x * x - 1) / 2, 14);
    expect(p[3]).toBeCloseTo((5 * x ** 3 - 3 * x) / 2, 14);
    const l = laguerre(4, x);
    expect(l[2]).toBeCloseTo((x * x - 4 * x + 2) / 2, 14);
    expect(l[3]).toBeCloseTo((-(x ** 3) + 9 * x * x - 18 * x + 6) / 6, 14);
  });

  it('LegS: the reconstruction error of a smooth signal over all of [0, t] falls as N grows', () => {
    const e = [8, 16, 32].map((N) => reconstructionError('legs', N));
    expect(e[1]).toBeLessThan(e[0]);
    expect(e[2]).toBeLessThan(e[1] / 10);
    expect(e[2]).toBeLessThan(1e-2);
  });

  it('LegT (window 1) and LagT: the reconstruction error falls as N grows', () => {
    const legt = [4, 8, 16].map((N) => reconstructionError('legt', N));
    expect(legt[1]).toBeLessThan(legt[0] / 5);
    expect(legt[2]).toBeLessThan(legt[1] / 5);
    expect(legt[2]).toBeLessThan(1e-2);
    // Laguerre series converge slowly (the signal starts abruptly at t = 0); still monotone in N.
    const lagt = [8, 32, 64].map((N) => reconstructionError('lagt', N));
    expect(lagt[1]).toBeLessThan(lagt[0]);
    expect(lagt[2]).toBeLessThan(lagt[1] / 2);
  });

  it('FouT reconstructs a signal that is periodic over the window, better as N grows', () => {
    const g = (t: number) => Math.sin(2 * Math.PI * 3 * t) + 0.5 * Math.cos(2 * Math.PI * 5 * t + 0.3);
    const err = (N: number) => {
      const m = new HippoMemory({ measure: 'fout', N, dt: 1e-3 });
      for (let k = 1; k <= 3000; k++) m.update(g(k * 1e-3));
      const ts = Array.from({ length: 81 }, (_, i) => m.time - 0.9 + (0.8 * i) / 80);
      const r = m.reconstruct(ts);
      return ts.reduce((e, s, i) => Math.max(e, Math.abs(r[i] - g(s))), 0);
    };
    const e8 = err(8);
    const e16 = err(16);
    expect(e16).toBeLessThan(e8 / 5);
    expect(e16).toBeLessThan(0.1);
  });

  it('LegS is scale-invariant: the signal stretched in time gives the same coefficients (property)', () => {
    fc.assert(
      fc.property(fc.double({ min: 0.5, max: 3, noNaN: true }), fc.double({ min: -2, max: 2, noNaN: true }), fc.constantFrom(2, 3), (w, phase, s) => {
        const sig = (t: number) => Math.cos(w * t + phase) + 0.2 * t;
        const K = 400;
        const a = new HippoMemory({ measure: 'legs', N: 8, dt: 1 / K }).updateAll(Array.from({ length: K }, (_, k) => sig((k + 1) / K)));
        // The same signal stretched s times: s K samples of sig(t / s) at the same dt.
        const b = new HippoMemory({ measure: 'legs', N: 8, dt: 1 / K }).updateAll(Array.from({ length: s * K }, (_, k) => sig((k + 1) / (s * K))));
        for (let n = 0; n < 8; n++) expect(Math.abs(a[n] - b[n])).toBeLessThan(5e-3);
      }),
      { seed: 42, numRuns: 10 },
    );
    // LegT has a timescale: the same comparison fails, so the property above is not vacuous.
    const sig = (t: number) => Math.cos(2 * t);
    const a = new HippoMemory({ measure: 'legt', N: 8, dt: 1e-3 }).updateAll(Array.from({ length: 1000 }, (_, k) => sig((k + 1) / 1000)));
    const b = new HippoMemory({ measure: 'legt', N: 8, dt: 1e-3 }).updateAll(Array.from({ length: 2000 }, (_, k) => sig((k + 1) / 2000)));
    expect(Math.max(...a.map((v, n) => Math.abs(v - b[n])))).toBeGreaterThan(0.05);
  });

  it('the coefficients are a copy (the memory cannot be changed through them)', () => {
    const m = new HippoMemory({ measure: 'legs', N: 4 });
    const c = m.update(1);
    c[0] = 99;
    expect(m.coefficients[0]).not.toBe(99);
  });

  it('rejects bad arguments with clear messages', () => {
    expect(() => new HippoMemory({ measure: 'legs', N: 4, dt: 0 })).toThrow(/HippoMemory: expected opts.dt to be a finite number > 0; got 0/);
    expect(() => new HippoMemory({ measure: 'legs', N: 0 })).toThrow(/expected N to be an integer >= 1; got 0/);
    expect(() => new HippoMemory({ measure: 'fout', N: 4, theta: 2 })).toThrow(/FouT has a fixed window 1/);
    const m = new HippoMemory({ measure: 'legt', N: 4, dt: 0.1 });
    expect(() => m.reconstruct([0])).toThrow(/no sample has been fed yet/);
    expect(() => m.update(Number.NaN)).toThrow(/HippoMemory.update: expected a finite number; got null/);
    m.updateAll([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(() => m.reconstruct([0])).toThrow(/LegT covers \[t - theta, t\] = \[0.2\d*, 1.2\d*\]; got time 0/);
  });
});
