import { describe, expect, it } from 'vitest';
import { Generator, add, amax, assertGradcheck, cat, div, exp, matmul, mul, ne, randn, reshape, sub, sum, tensor, type Tensor } from '@formers/tensor-core';
import { PerformerAttention, SoftmaxAttention, createAttentionCore, gaussianRandomFeatures, type CausalForm } from '../src/index.js';
import { close, qkv } from './helpers.js';

function relErr(a: Tensor, b: Tensor): number {
  const x = a.dataSync();
  const y = b.dataSync();
  let num = 0;
  let den = 0;
  for (let i = 0; i < x.length; i++) {
    num += (x[i] - y[i]) ** 2;
    den += y[i] ** 2;
  }
  return Math.sqrt(num / den);
}

describe('PerformerAttention (FAVOR+)', () => {
  it('orthogonal random features: rows orthogonal within a block, chi-distributed norms', () => {
    const w = gaussianRandomFeatures(10, 4, new Generator(1), { dtype: 'float64' });
    const d = w.dataSync();
    const row = (i: number) => Array.from(d.slice(i * 4, i * 4 + 4));
    const dot = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i], 0);
    for (const [s, e] of [[0, 4], [4, 8], [8, 10]]) {
      for (let i = s; i < e; i++) for (let j = s; j < i; j++) expect(Math.abs(dot(row(i), row(j)))).toBeLessThan(1e-10);
    }
    const norms = Array.from({ length: 10 }, (_, i) => Math.sqrt(dot(row(i), row(i))));
    expect(new Set(norms.map((x) => x.toFixed(6))).size).toBe(10); // rescaled, not unit rows
    // Mean squared norm of chi(Dh) is Dh: check over many rows.
    const big = gaussianRandomFeatures(4000, 4, new Generator(2), { dtype: 'float64' }).dataSync();
    let ss = 0;
    for (const x of big) ss += x * x;
    expect(ss / 4000).toBeGreaterThan(3.8);
    expect(ss / 4000).toBeLessThan(4.2);
  });

  it('the approximation error against exact softmax attention falls as the feature count grows', () => {
    const Ms = [8, 32, 128, 512, 2048];
    const errs = Ms.map((M) => {
      let e = 0;
      for (let seed = 1; seed <= 6; seed++) {
        const [q, k, v] = qkv(seed, 1, 2, 12, 12, 8).map((t) => mul(t, 0.5));
        const exact = new SoftmaxAttention().call(q, k, v);
        const perf = new PerformerAttention({ headDim: 8, numFeatures: M, dtype: 'float64', backend: 'reference', generator: new Generator(100 + seed) });
        e += relErr(perf.call(q, k, v), exact);
      }
      return e / 6;
    });
    for (let i = 1; i < errs.length; i++) expect(errs[i]).toBeLessThan(errs[i - 1]);
    expect(errs[errs.length - 1]).toBeLessThan(errs[0] / 4);
  });

  it('causal forms agree, and step() equals the causal forward', () => {
    const [q, k, v] = qkv(3, 2, 2, 7, 7, 4);
    const proj = gaussianRandomFeatures(6, 4, new Generator(3), { dtype: 'float64', backend: 'reference' });
    const mk = (form: CausalForm) => new PerformerAttention({ headDim: 4, numFeatures: 6, projection: proj, causalForm: form, chunkSize: 3 });
    const want = mk('parallel').call(q, k, v, { causal: true });
    close(mk('chunkwise').call(q, k, v, { causal: true }), want, 1e-10, 1e-12);
    close(mk('recurrent').call(q, k, v, { causal: true }), want, 1e-10, 1e-12);
    const att = mk('chunkwise');
    let state = null;
    const outs: Tensor[] = [];
    for (let t = 0; t < 7; t++) {
      const r = att.step(q.narrow(2, t, 1), k.narrow(2, t, 1), v.narrow(2, t, 1), state);
      outs.push(r.out);
      state = r.state;
    }
    close(cat(outs, 2), want, 1e-10, 1e-12);
    expect(() => new PerformerAttention({ headDim: 4, numFeatures: 5, backend: 'reference' }).step(q.narrow(2, 0, 1), k.narrow(2, 0, 1), v.narrow(2, 0, 1), state)).toThrow(/state from PerformerAttention\(M=5/);
  });

  it('redraws on demand and every redrawInterval training forwards, never in eval', () => {
    const [q, k, v] = qkv(4, 1, 1, 3, 3, 4, 'float32');
    const att = new PerformerAttention({ headDim: 4, numFeatures: 4, redrawInterval: 2, generator: new Generator(5), backend: 'reference' });
    const w0 = Array.from(att.projectionMatrix.dataSync());
    att.call(q, k, v);
    att.call(q, k, v);
    expect(Array.from(att.projectionMatrix.dataSync())).toEqual(w0);
    att.call(q, k, v); // third call: 2 calls since the draw -> redraw
    const w1 = Array.from(att.projectionMatrix.dataSync());
    expect(w1).not.toEqual(w0);
    att.eval();
    for (let i = 0; i < 5; i++) att.call(q, k, v);
    expect(Array.from(att.projectionMatrix.dataSync())).toEqual(w1);
    att.redrawFeatures(new Generator(9));
    expect(Array.from(att.projectionMatrix.dataSync())).not.toEqual(w1);
    expect([...att.stateDict().keys()]).toEqual(['projection_matrix']);
  });

  it('non-causal with key padding equals the explicit quadratic form over the kept keys; all padded -> 0', () => {
    const [q, k, v] = qkv(8, 2, 2, 5, 6, 3);
    const proj = randn([5, 3], { dtype: 'float64', generator: new Generator(11), backend: 'reference' });
    const kpm = tensor([[1, 0, 1, 1, 0, 1], [0, 0, 0, 0, 0, 0]], { dtype: 'float64', backend: 'reference' });
    const out = new PerformerAttention({ headDim: 3, numFeatures: 5, projection: proj }).call(q, k, v, { keyPaddingMask: kpm });
    // FAVOR+ features as documented: x' = x Dh^-1/4; queries shifted by their row max, keys by the max over every
    // key (padded ones included, as the features are computed before masking) and feature of the head.
    const phi = (x: Tensor, which: 'q' | 'k') => {
      const xs = mul(x, 3 ** -0.25);
      const dash = matmul(xs, proj.transpose(0, 1)); // (B, H, N, M)
      const diag = mul(sum(mul(xs, xs), -1, true), 0.5); // (B, H, N, 1)
      const c = which === 'q' ? amax(dash, -1, true) : amax(dash, [-2, -1], true);
      return add(exp(sub(sub(dash, diag), c)), 1e-4);
    };
    const keep = reshape(ne(kpm, 0), [2, 1, 1, 6]); // (B, 1, 1, Nk)
    const A = mul(matmul(phi(q, 'q'), phi(k, 'k').transpose(-2, -1)), keep); // (B, H, Nq, Nk)
    const want = div(matmul(A, v), sum(A, -1, true)).narrow(0, 0, 1);
    close(out.narrow(0, 0, 1), want, 1e-10, 1e-12);
    expect(Array.from(out.narrow(0, 1, 1).dataSync()).every((x) => x === 0)).toBe(true);
  });

  it('gradcheck in float64 with key padding (non-causal)', () => {
    const [q, k, v] = qkv(9, 1, 2, 4, 5, 3);
    const proj = randn([5, 3], { dtype: 'float64', generator: new Generator(12), backend: 'reference' });
    const kpm = tensor([[1, 1, 0, 1, 0]], { dtype: 'float64', backend: 'reference' });
    const att = new PerformerAttention({ headDim: 3, numFeatures: 5, projection: proj });
    assertGradcheck((a, b, c) => att.call(a, b, c, { keyPaddingMask: kpm }), [q, k, v]);
  });

  it('gradcheck in float64, causal and not', () => {
    const [q, k, v] = qkv(6, 1, 2, 4, 4, 3);
    const proj = randn([5, 3], { dtype: 'float64', generator: new Generator(7), backend: 'reference' });
    const att = new PerformerAttention({ headDim: 3, numFeatures: 5, projection: proj });
    assertGradcheck((a, b, c) => att.call(a, b, c), [q, k, v]);
    assertGradcheck((a, b, c) => att.call(a, b, c, { causal: true }), [q, k, v]);
  });

  it('rejects bad options and builds from config', () => {
    expect(() => new PerformerAttention({ headDim: 4, numFeatures: 3, projection: randn([4, 4]) })).toThrow(/opts.projection of shape \[3, 4\]/);
    expect(() => new PerformerAttention({ headDim: 0 })).toThrow(/opts.headDim/);
    const core = createAttentionCore({ type: 'performer' }, { numHeads: 2, headDim: 16 });
    expect((core as PerformerAttention).numFeatures).toBe(Math.round(16 * Math.log(16)));
  });
});
