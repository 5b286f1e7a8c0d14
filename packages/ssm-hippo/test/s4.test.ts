import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, assertGradcheck, noGrad, randn, stack, tensor, type Tensor } from '@formers/tensor-core';
import { S4, discretize, hippoLegS, legsLowRank, legsNplr, s4CTilde, s4Kernel, type S4KernelParams } from '../src/index.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** K_l = C Ad^l Bd of the real HiPPO-LegS system (bilinear), by repeated matrix-vector products in float64. */
function naiveLegSKernel(N: number, C: Float64Array, dt: number, L: number): Float64Array {
  const { A, B } = discretize(hippoLegS(N), dt, 'bilinear');
  let x = Float64Array.from(B.data);
  const K = new Float64Array(L);
  for (let l = 0; l < L; l++) {
    K[l] = x.reduce((s, v, i) => s + v * C[i], 0);
    const next = new Float64Array(N);
    for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) next[i] += A.data[i * N + j] * x[j];
    x = next;
  }
  return K;
}

/** S4 parameters (one channel) equivalent to the real LegS system with output row C and step dt. */
function legsParams(N: number, C: Float64Array, dt: number, L: number): S4KernelParams {
  const d = legsNplr(N);
  const M = N / 2;
  const o = { dtype: 'float64' as const, backend: 'reference' as const };
  // C in the eigenbasis: (C V)_m = sum_i C_i v_im.
  const Ce: number[] = [];
  for (let m = 0; m < M; m++) {
    let re = 0;
    let im = 0;
    for (let i = 0; i < N; i++) {
      re += C[i] * d.V.re[i * M + m];
      im += C[i] * d.V.im[i * M + m];
    }
    Ce.push(re, im);
  }
  const base = {
    logDt: tensor([Math.log(dt)], o),
    logAReal: tensor([Array.from(d.lambdaRe, (r) => Math.log(-r))], o),
    AImag: tensor([Array.from(d.lambdaIm)], o),
    P: tensor([Array.from({ length: M }, (_, m) => [d.P.re[m], d.P.im[m]])], o),
    B: tensor([Array.from({ length: M }, (_, m) => [d.B.re[m], d.B.im[m]])], o),
  };
  return { ...base, C: tensor(Array.from(s4CTilde(base, Ce, L)), { ...o, shape: [1, M, 2] }) };
}

describe('S4: the DPLR form of HiPPO-LegS', () => {
  it('A = V (Lambda - P~ P~^*) V^* with V unitary and Re Lambda = -1/2', () => {
    for (const N of [2, 8, 16]) {
      const d = legsNplr(N);
      const M = N / 2;
      const { A } = hippoLegS(N);
      // Full basis [V, conj V]; reconstruct A entrywise.
      const col = (i: number, k: number) => (k < M ? [d.V.re[i * M + k], d.V.im[i * M + k]] : [d.V.re[i * M + k - M], -d.V.im[i * M + k - M]]);
      const lam = (k: number) => (k < M ? [d.lambdaRe[k], d.lambdaIm[k]] : [d.lambdaRe[k - M], -d.lambdaIm[k - M]]);
      const p = (k: number) => (k < M ? [d.P.re[k], d.P.im[k]] : [d.P.re[k - M], -d.P.im[k - M]]);
      for (let i = 0; i < N; i++) {
        for (let j = 0; j < N; j++) {
          // sum_k,l v_ik (Lambda_k delta_kl - p_k conj(p_l)) conj(v_jl)
          let re = 0;
          for (let k = 0; k < N; k++) {
            for (let l = 0; l < N; l++) {
              const [ar, ai] = col(i, k);
              const [br, bi] = col(j, l);
              const [pkr, pki] = p(k);
              const [plr, pli] = p(l);
              let mr = -(pkr * plr + pki * pli);
              let mi = -(pki * plr - pkr * pli);
              if (k === l) [mr, mi] = [mr + lam(k)[0], mi + lam(k)[1]];
              // (a m) conj(b)
              const tr = ar * mr - ai * mi;
              const ti = ar * mi + ai * mr;
              re += tr * br + ti * bi;
            }
          }
          expect(Math.abs(re - A.data[i * N + j])).toBeLessThan(1e-10 * N);
        }
      }
      expect(Array.from(d.lambdaRe).every((r) => r === -0.5)).toBe(true);
      expect(Array.from(d.lambdaIm).every((v, k) => v > 0 && (k === 0 || v >= d.lambdaIm[k - 1]))).toBe(true);
    }
    expect(legsLowRank(3).data[2]).toBeCloseTo(Math.sqrt(2.5), 15);
    expect(() => legsNplr(5)).toThrow(/legsNplr: expected an even N \(conjugate pairs\); got 5/);
  });

  it('the Cauchy + Woodbury + inverse-FFT kernel equals the naive kernel C Ad^l Bd, N = 16..64, L = 256..1024, odd and even (float64)', () => {
    const gen = new Generator(11);
    for (const [N, L, dt] of [[16, 256, 0.05], [16, 255, 0.05], [32, 512, 0.01], [64, 1024, 0.003], [64, 256, 0.1], [48, 333, 0.02]] as const) {
      const C = Float64Array.from({ length: N }, () => gen.nextNormal());
      const naive = naiveLegSKernel(N, C, dt, L);
      const K = s4Kernel(legsParams(N, C, dt, L), L).dataSync();
      const scale = naive.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
      expect(maxAbsDiff(K, naive)).toBeLessThan(1e-9 * scale);
    }
  });
});

describe('S4 layer', () => {
  it('FFT convolution mode equals the recurrent step() (property, float64)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 16 }), fc.constantFrom(4, 8), (seed, L, N) => {
        const gen = new Generator(seed);
        const layer = new S4(2, { dState: N, lMax: 16, dtMin: 0.01, dtMax: 0.5, dtype: 'float64', generator: gen });
        const u = randn([2, 2, L], { dtype: 'float64', generator: gen });
        const yConv = layer.call(u) as Tensor;
        let state = layer.initialState(2);
        const ys: Tensor[] = [];
        for (let t = 0; t < L; t++) {
          const r = layer.step(u.select(-1, t), state);
          ys.push(r.y);
          state = r.state;
        }
        const a = stack(ys, -1).dataSync();
        const b = yConv.dataSync();
        for (let i = 0; i < a.length; i++) expect(Math.abs(a[i] - b[i])).toBeLessThan(1e-9 * (1 + Math.abs(b[i])));
      }),
      { seed: 42, numRuns: 12 },
    );
  });

  it('the recurrent system follows parameter updates (a load or an optimizer step bumps the version)', () => {
    const gen = new Generator(12);
    const layer = new S4(2, { dState: 4, lMax: 8, dtMin: 0.05, dtMax: 0.3, dtype: 'float64', generator: gen });
    const u = randn([1, 2, 8], { dtype: 'float64', generator: gen });
    const run = () => {
      let state = layer.initialState(1);
      const ys: Tensor[] = [];
      for (let t = 0; t < 8; t++) {
        const r = layer.step(u.select(-1, t), state);
        ys.push(r.y);
        state = r.state;
      }
      return stack(ys, -1).dataSync();
    };
    run();
    noGrad(() => layer.ssmKernel.logDt.copy_(layer.ssmKernel.logDt.add(0.3)));
    const a = run();
    const b = (layer.call(u) as Tensor).dataSync();
    expect(maxAbsDiff(a, b)).toBeLessThan(1e-9);
  });

  it('setLMax re-targets C~: the first lMax kernel steps are unchanged and longer sequences then run', () => {
    const layer = new S4(3, { dState: 8, lMax: 32, dtype: 'float64', generator: new Generator(2) });
    const k32 = layer.kernel(32).dataSync();
    expect(() => layer.call(randn([1, 3, 64], { dtype: 'float64' }))).toThrow(/S4.forward: the sequence has length 64 > lMax = 32; call setLMax\(64\) first/);
    layer.setLMax(64);
    expect(layer.lMax).toBe(64);
    const k64 = layer.kernel(64);
    const head = k64.narrow(1, 0, 32).dataSync();
    expect(maxAbsDiff(head, k32)).toBeLessThan(1e-10);
    expect(layer.call(randn([1, 3, 64], { dtype: 'float64' })).shape).toEqual([1, 3, 64]);
  });

  it('gradcheck through the S4 kernel (Cauchy, Woodbury, inverse FFT) and through the whole layer (float64)', () => {
    const layer = new S4(2, { dState: 4, lMax: 8, dtMin: 0.05, dtMax: 0.3, dtype: 'float64', backend: 'reference', generator: new Generator(3) });
    const k = layer.ssmKernel;
    assertGradcheck(
      (logDt, logAReal, AImag, P, B, C) => s4Kernel({ logDt, logAReal, AImag, P, B, C }, 8),
      [k.logDt, k.logAReal, k.AImag, k.P, k.B, k.C],
    );
    const u = randn([1, 2, 6], { dtype: 'float64', backend: 'reference', generator: new Generator(4) });
    assertGradcheck((x) => layer.call(x) as Tensor, [u]);
  });

  it('state_dict names, the SSM parameter group and training', () => {
    const layer = new S4(2, { dState: 4, lMax: 16, generator: new Generator(7) });
    expect([...layer.stateDict().keys()]).toEqual([
      'D',
      'kernel.log_dt',
      'kernel.C',
      'kernel.B',
      'kernel.P',
      'kernel.log_A_real',
      'kernel.A_imag',
      'output_linear.0.weight',
      'output_linear.0.bias',
    ]);
    const ssm = new Set(layer.ssmParameters());
    expect(ssm.size).toBe(5);
    expect(ssm.has(layer.ssmKernel.C)).toBe(false);
    // Every parameter receives a gradient from one backward pass.
    const u = randn([2, 2, 16], { generator: new Generator(8) });
    (layer.call(u) as Tensor).square().mean().backward();
    for (const p of layer.parameters()) expect(p.grad && Number.isFinite(p.grad.abs().sum().item()) && p.grad.abs().sum().item() > 0).toBe(true);
  });

  it('rejects bad inputs, foreign states and bad options', () => {
    const layer = new S4(3, { dState: 4, lMax: 16 });
    expect(() => layer.call(randn([1, 2, 5]))).toThrow(/S4.forward: expected u of shape \[B, H, L\] with H = 3; got \[1,2,5\]/);
    const other = new S4(3, { dState: 8, lMax: 16 }).initialState(1);
    expect(() => layer.step(randn([1, 3]), other)).toThrow(/S4.step: expected state.re of shape \[1,3,4\] .* got \[1,3,8\]/);
    expect(() => layer.call(randn([1, 3, 9]), { kernel: layer.kernel(4) })).toThrow(/kernel has length 4 but the sequence has length 9; recompute/);
    expect(() => layer.kernel(32)).toThrow(/S4.kernel: L = 32 exceeds lMax = 16; call setLMax\(32\) first/);
    expect(() => new S4(3, { dtMin: -1 })).toThrow(/0 < opts.dtMin <= opts.dtMax; got dtMin -1/);
    expect(() => new S4(3, { dState: 5 })).toThrow(/dState to be even/);
    const p = layer.params();
    expect(() => s4Kernel({ ...p, P: randn([3, 3, 2]) }, 8)).toThrow(/s4Kernel: expected P of shape \[3,2,2\] .* got \[3,3,2\]/);
  });
});
