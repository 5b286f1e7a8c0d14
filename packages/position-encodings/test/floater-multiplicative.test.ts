import fc from 'fast-check';
import { Adam, Generator, gradcheck, Linear, mseLoss, noGrad, randn, tensor, zeros, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { FloaterPositionEncoding, MultiplicativePositionalEmbedding } from '../src/index.js';
import { expectClose, expectParamGradcheck, weightedSum } from './helpers.js';

describe('FloaterPositionEncoding (Liu et al. 2020)', () => {
  it('uses PyTorch-style names and trains every parameter', () => {
    const m = new FloaterPositionEncoding({ dim: 4, hiddenDim: 6, generator: new Generator(1) });
    expect([...m.stateDict().keys()]).toEqual(['p0', 'net.0.weight', 'net.0.bias', 'net.2.weight', 'net.2.bias']);
    weightedSum(m.call(zeros([2, 5, 4]))).backward();
    for (const [name, p] of m.namedParameters()) expect(p.grad, name).not.toBeNull();
  });

  it('integrates exactly when dp/dt is constant: p(i) = p0 + c * i * interval', () => {
    const m = new FloaterPositionEncoding({ dim: 3, interval: 0.5, stepsPerPosition: 3, dtype: 'float64' });
    noGrad(() => {
      m.p0.copy_(tensor([1, -2, 0.5], { dtype: 'float64' }));
      const out = m.net.at(2) as Linear;
      out.weight.zero_();
      out.bias!.copy_(tensor([0.2, 0, -1], { dtype: 'float64' }));
    });
    const p = m.positions(5).dataSync();
    for (let i = 0; i < 5; i++) expectClose(Array.from(p.slice(3 * i, 3 * i + 3)), [1 + 0.1 * i, -2, 0.5 - 0.5 * i], { rtol: 0, atol: 1e-12 });
  });

  it('RK4 is fourth-order: halving the step cuts the error by about 16 on dp/dt = tanh(W p + b)', () => {
    const make = (steps: number) => {
      const m = new FloaterPositionEncoding({ dim: 2, hiddenDim: 3, interval: 1, stepsPerPosition: steps, dtype: 'float64', generator: new Generator(4) });
      return m.positions(4).dataSync();
    };
    const fine = make(64);
    const e1 = Math.abs(make(2)[7] - fine[7]);
    const e2 = Math.abs(make(4)[7] - fine[7]);
    expect(e1).toBeGreaterThan(0);
    expect(e1 / e2).toBeGreaterThan(10);
    expect(e1 / e2).toBeLessThan(24);
  });

  it('extrapolates: embeddings for longer sequences extend the shorter ones exactly', () => {
    const m = new FloaterPositionEncoding({ dim: 4, generator: new Generator(2), dtype: 'float64' });
    const short = m.positions(6).dataSync();
    const long = m.positions(40).dataSync();
    expectClose(long.slice(0, short.length), short, { rtol: 0, atol: 0 });
    expect(Array.from(long).every(Number.isFinite)).toBe(true);
    const x = randn([1, 3, 4], { generator: new Generator(3), dtype: 'float64' });
    expectClose(m.call(x, { offset: 30 }).dataSync(), x.add(tensor(Array.from(long.slice(30 * 4, 33 * 4)), { shape: [3, 4], dtype: 'float64' })).dataSync(), { rtol: 0, atol: 1e-15 });
  });

  it('trains end to end through the integrator: a few Adam steps lower the loss to a target table', () => {
    const m = new FloaterPositionEncoding({ dim: 2, hiddenDim: 8, interval: 0.2, generator: new Generator(6) });
    const target = tensor(Array.from({ length: 16 }, (_, i) => Math.sin(i / 3)), { shape: [8, 2] });
    const opt = new Adam(m.parameters(), { lr: 0.05 });
    const loss = () => mseLoss(m.positions(8), target);
    const first = loss().item();
    for (let s = 0; s < 15; s++) {
      opt.zeroGrad();
      loss().backward();
      opt.step();
    }
    expect(loss().item()).toBeLessThan(0.5 * first);
  });

  it('gradcheck (float64) w.r.t. x and every parameter', () => {
    const m = new FloaterPositionEncoding({ dim: 2, hiddenDim: 3, stepsPerPosition: 2, dtype: 'float64', generator: new Generator(8) });
    const x = randn([1, 4, 2], { generator: new Generator(9), dtype: 'float64' });
    // gradcheck runs on the reference backend, so the module for the input check lives there too.
    const ref = new FloaterPositionEncoding({ dim: 2, hiddenDim: 3, stepsPerPosition: 2, dtype: 'float64', backend: 'reference', generator: new Generator(8) });
    expect(gradcheck((a: Tensor) => ref.call(a, { offset: 1 }), [x]).failures).toEqual([]);
    for (const [, p] of m.namedParameters()) expectParamGradcheck(m, p, () => weightedSum(m.call(x, { offset: 1 })));
  });

  it('rejects bad options and shapes with named messages', () => {
    expect(() => new FloaterPositionEncoding({ dim: 0 })).toThrow(/opts.dim to be an integer >= 1; got 0/);
    expect(() => new FloaterPositionEncoding({ dim: 2, interval: 0 })).toThrow(/opts.interval to be a finite number > 0; got 0/);
    expect(() => new FloaterPositionEncoding({ dim: 2, stepsPerPosition: 1.5 })).toThrow(/opts.stepsPerPosition/);
    expect(() => new FloaterPositionEncoding({ dim: 2 }).call(zeros([3, 3]))).toThrow(/expected x of shape \(\.\.\., T, 2\); got \[3, 3\]/);
  });
});

describe('MultiplicativePositionalEmbedding', () => {
  it('starts near the identity and scales each position elementwise', () => {
    const m = new MultiplicativePositionalEmbedding({ numPositions: 5, dim: 3, generator: new Generator(1), dtype: 'float64' });
    const w = m.weight.dataSync();
    expect(Array.from(w).every((v) => Math.abs(v - 1) <= 0.04)).toBe(true);
    expect(new Set(Array.from(w)).size).toBeGreaterThan(1);
    const x = randn([2, 3, 3], { generator: new Generator(2), dtype: 'float64' });
    const out = m.call(x, { offset: 2 }).dataSync();
    const xs = x.dataSync();
    for (let b = 0; b < 2; b++) for (let t = 0; t < 3; t++) for (let d = 0; d < 3; d++) {
      const i = (b * 3 + t) * 3 + d;
      expect(out[i]).toBeCloseTo(xs[i] * w[(t + 2) * 3 + d], 14);
    }
  });

  it('acts on each position by its own diagonal map: linear in x, and a token moved to another position is rescaled by that row', () => {
    const m = new MultiplicativePositionalEmbedding({ numPositions: 8, dim: 2, generator: new Generator(5), dtype: 'float64' });
    const w = m.weight.dataSync();
    const vec = fc.array(fc.double({ min: -5, max: 5, noNaN: true }), { minLength: 2, maxLength: 2 });
    fc.assert(
      fc.property(vec, vec, fc.double({ min: -3, max: 3, noNaN: true }), fc.integer({ min: 0, max: 7 }), (a, b, s, pos) => {
        const f = (v: number[]) => Array.from(m.call(tensor([v], { dtype: 'float64' }), { offset: pos }).dataSync());
        const lin = f(a.map((v, i) => s * v + b[i]));
        const sum = f(a).map((v, i) => s * v + f(b)[i]);
        lin.forEach((v, i) => expect(v).toBeCloseTo(sum[i], 9));
        f(a).forEach((v, i) => expect(v).toBeCloseTo(a[i] * w[pos * 2 + i], 12));
      }),
      { seed: 13, numRuns: 100 },
    );
  });

  it('gradcheck (float64) w.r.t. x and the table; rejects sequences past the table', () => {
    const m = new MultiplicativePositionalEmbedding({ numPositions: 4, dim: 2, generator: new Generator(3), dtype: 'float64' });
    const x = randn([2, 3, 2], { generator: new Generator(4), dtype: 'float64' });
    const ref = new MultiplicativePositionalEmbedding({ numPositions: 4, dim: 2, generator: new Generator(3), dtype: 'float64', backend: 'reference' });
    expect(gradcheck((a: Tensor) => ref.call(a, { offset: 1 }), [x]).failures).toEqual([]);
    expectParamGradcheck(m, m.weight, () => weightedSum(m.call(x, { offset: 1 })));
    expect(() => m.call(x, { offset: 2 })).toThrow(/offset \+ T \(=2 \+ 3\) <= numPositions \(=4\)/);
    expect(() => m.call(zeros([3, 5]))).toThrow(/expected x of shape \(\.\.\., T, 2\)/);
  });
});
