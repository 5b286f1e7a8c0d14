import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Adam, Generator, assertGradcheck, randn, roll, stack, tensor, type Tensor } from '@formers/tensor-core';
import { S4D, fftConv, s4dInitA, s4dKernel, type S4DDiscretization } from '../src/index.js';

function closeArrays(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) throw new Error(`element ${i}: got ${a[i]}, expected ${b[i]}`);
  }
}

/** K_l = 2 Re(sum C dB dA^l) by repeated complex multiplication on the host, in float64. */
function naiveKernel(layer: S4D, L: number, method: S4DDiscretization): number[][] {
  const k = layer.ssmKernel;
  const logDt = k.logDt.dataSync();
  const C = k.C.dataSync();
  const lar = k.logAReal.dataSync();
  const ai = k.AImag.dataSync();
  const [H, M] = k.logAReal.shape;
  const mul = (a: number[], b: number[]) => [a[0] * b[0] - a[1] * b[1], a[0] * b[1] + a[1] * b[0]];
  const div = (a: number[], b: number[]) => {
    const d = b[0] * b[0] + b[1] * b[1];
    return [(a[0] * b[0] + a[1] * b[1]) / d, (a[1] * b[0] - a[0] * b[1]) / d];
  };
  const out: number[][] = [];
  for (let h = 0; h < H; h++) {
    const dt = Math.exp(logDt[h]);
    const row = new Array<number>(L).fill(0);
    for (let m = 0; m < M; m++) {
      const A = [-Math.exp(lar[h * M + m]), ai[h * M + m]];
      const dtA = [dt * A[0], dt * A[1]];
      let dA: number[];
      let dB: number[];
      if (method === 'zoh') {
        dA = [Math.exp(dtA[0]) * Math.cos(dtA[1]), Math.exp(dtA[0]) * Math.sin(dtA[1])];
        dB = div([dA[0] - 1, dA[1]], A);
      } else {
        const den = [1 - dtA[0] / 2, -dtA[1] / 2];
        dA = div([1 + dtA[0] / 2, dtA[1] / 2], den);
        dB = div([dt, 0], den);
      }
      let p = mul([C[(h * M + m) * 2], C[(h * M + m) * 2 + 1]], dB);
      for (let l = 0; l < L; l++) {
        row[l] += 2 * p[0];
        p = mul(p, dA);
      }
    }
    out.push(row);
  }
  return out;
}

describe('S4D', () => {
  it('initializations: S4D-Lin, S4D-Inv and S4D-Real', () => {
    expect(s4dInitA(6, 'lin')).toEqual({ real: [-0.5, -0.5, -0.5], imag: [0, Math.PI, 2 * Math.PI] });
    const inv = s4dInitA(6, 'inv');
    expect(inv.imag[1]).toBeCloseTo((6 / Math.PI) * (6 / 3 - 1), 14);
    expect(s4dInitA(4, 'real')).toEqual({ real: [-1, -2], imag: [0, 0] });
    expect(() => s4dInitA(5, 'lin')).toThrow(/expected N .* to be even; got 5/);
  });

  for (const method of ['zoh', 'bilinear'] as const) {
    it(`the Vandermonde kernel equals C dB dA^l by repeated multiplication (${method}, float64)`, () => {
      for (const init of ['lin', 'inv', 'real'] as const) {
        const layer = new S4D(3, { dState: 16, init, discretization: method, dtype: 'float64', generator: new Generator(1) });
        const K = layer.kernel(200);
        closeArrays(K.dataSync(), naiveKernel(layer, 200, method).flat(), 1e-9, 1e-11);
      }
    });
  }

  it('a kernel longer than one chunk of positions (L > 2048) equals C dB dA^l throughout, and is differentiable', () => {
    const layer = new S4D(2, { dState: 8, init: 'lin', dtype: 'float64', generator: new Generator(3) });
    const L = 2048 * 2 + 37;
    closeArrays(layer.kernel(L).dataSync(), naiveKernel(layer, L, 'zoh').flat(), 1e-8, 1e-11);
    const k = layer.ssmKernel;
    const g = s4dKernel({ logDt: k.logDt, C: k.C, logAReal: k.logAReal, AImag: k.AImag }, L).sum();
    g.backward();
    expect(k.logDt.grad?.shape).toEqual([2]);
  });

  it('convolution mode equals the recurrent step() (property, both discretizations)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 12 }), fc.constantFrom<S4DDiscretization>('zoh', 'bilinear'), (seed, L, method) => {
        const gen = new Generator(seed);
        const layer = new S4D(2, { dState: 8, discretization: method, dtype: 'float64', generator: gen });
        const u = randn([2, 2, L], { dtype: 'float64', generator: gen });
        const yConv = layer.call(u);
        let state = layer.initialState(2);
        const ys: Tensor[] = [];
        for (let t = 0; t < L; t++) {
          const r = layer.step(u.select(-1, t), state);
          ys.push(r.y);
          state = r.state;
        }
        closeArrays(stack(ys, -1).dataSync(), yConv.dataSync(), 1e-9, 1e-11);
      }),
      { seed: 42, numRuns: 15 },
    );
  });

  it('fftConv is a causal linear convolution', () => {
    const u = tensor([[[1, 2, 3, 4]]]);
    const K = tensor([[1, 0.5, 0.25, 0, 9]]);
    // y[t] = sum_{s<=t} K[s] u[t-s]: 1, 2 + .5, 3 + 1 + .25, 4 + 1.5 + .5 + 0 (K[4] = 9 lies past L and is unused)
    closeArrays(fftConv(u, K).dataSync(), [1, 2.5, 4.25, 6], 1e-5, 1e-5);
  });

  it('gradcheck through the kernel and through the whole layer (float64)', () => {
    const layer = new S4D(2, { dState: 4, dtype: 'float64', backend: 'reference', generator: new Generator(3) });
    const k = layer.ssmKernel;
    for (const method of ['zoh', 'bilinear'] as const) {
      assertGradcheck((logDt, C, lar, ai) => s4dKernel({ logDt, C, logAReal: lar, AImag: ai }, 7, { method }), [k.logDt, k.C, k.logAReal, k.AImag]);
    }
    const u = randn([1, 2, 6], { dtype: 'float64', backend: 'reference', generator: new Generator(4) });
    assertGradcheck((x) => layer.call(x), [u]);
  });

  it('trains: a few Adam steps lower a regression loss', () => {
    const gen = new Generator(7);
    const layer = new S4D(2, { dState: 8, generator: gen });
    const u = randn([4, 2, 16], { generator: gen });
    const target = roll(u, 1, -1).mul(0.5).detach();
    const loss = () => layer.call(u).sub(target).square().mean();
    const opt = new Adam(layer.parameters(), { lr: 0.05 });
    const first = loss().item();
    for (let i = 0; i < 40; i++) {
      opt.zeroGrad();
      loss().backward();
      opt.step();
    }
    expect(loss().item()).toBeLessThan(first * 0.9);
    for (const p of layer.parameters()) expect(Number.isFinite(p.sum().item())).toBe(true);
  });

  it('state_dict names follow the reference s4d.py', () => {
    expect([...new S4D(2, { dState: 4 }).stateDict().keys()]).toEqual([
      'D',
      'kernel.log_dt',
      'kernel.C',
      'kernel.log_A_real',
      'kernel.A_imag',
      'output_linear.0.weight',
      'output_linear.0.bias',
    ]);
  });

  it('rejects bad inputs, foreign states and a kernel that is too short', () => {
    const layer = new S4D(3, { dState: 4 });
    expect(() => layer.call(randn([1, 2, 5]))).toThrow(/S4D.forward: expected u of shape \[B, H, L\] with H = 3; got \[1,2,5\]/);
    const other = new S4D(3, { dState: 8 }).initialState(1);
    expect(() => layer.step(randn([1, 3]), other)).toThrow(/S4D.step: expected state.re of shape \[1,3,2\] .* got \[1,3,4\]/);
    expect(() => layer.call(randn([1, 3, 9]), { kernel: layer.kernel(4) })).toThrow(/kernel has length 4 but the sequence has length 9; recompute/);
    expect(() => new S4D(3, { dtMin: 0 })).toThrow(/0 < opts.dtMin <= opts.dtMax; got dtMin 0/);
    expect(() => new S4D(3, { dState: 3 })).toThrow(/dState to be even/);
  });
});
