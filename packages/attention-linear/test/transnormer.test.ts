import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, add, assertGradcheck, cat, elu, full, functionalCall, layerNorm, matmul, randn, reshape, rmsNorm, tensor, tril, type Tensor } from '@formers/tensor-core';
import { DiagAttention, NormAttention, SoftmaxAttention, createAttentionCore, transNormerSchedule, type CausalForm } from '../src/index.js';
import { close, qkv } from './helpers.js';

const elu1 = (x: Tensor) => add(elu(x), 1);

/** norm over merged heads of (phi(q) phi(k)^T [causal]) v, with unit weight. */
function explicitNorm(q: Tensor, k: Tensor, v: Tensor, causal: boolean, kind: 'rmsnorm' | 'layernorm'): Tensor {
  let A = matmul(elu1(q), elu1(k).transpose(-2, -1)); // (B, H, N, N)
  if (causal) A = tril(A);
  const o = matmul(A, v); // (B, H, N, Dh)
  const [B, H, N, Dh] = o.shape;
  const m = reshape(o.permute(0, 2, 1, 3), [B, N, H * Dh]);
  const n = kind === 'rmsnorm' ? rmsNorm(m, [H * Dh], { eps: 1e-6 }) : layerNorm(m, [H * Dh], { eps: 1e-5 });
  return reshape(n, [B, N, H, Dh]).permute(0, 2, 1, 3);
}

describe('TransNormer NormAttention', () => {
  it('equals norm(phi(q) phi(k)^T v) over merged heads, no denominator; every causal form agrees', () => {
    for (const kind of ['rmsnorm', 'layernorm'] as const) {
      const [q, k, v] = qkv(1, 2, 2, 7, 7, 3);
      const att = new NormAttention({ numHeads: 2, headDim: 3, norm: kind, dtype: 'float64', backend: 'reference' });
      close(att.call(q, k, v), explicitNorm(q, k, v, false, kind), 1e-10, 1e-12);
      for (const form of ['parallel', 'chunkwise', 'recurrent'] as CausalForm[]) {
        const a = new NormAttention({ numHeads: 2, headDim: 3, norm: kind, causalForm: form, chunkSize: 3, dtype: 'float64', backend: 'reference' });
        close(a.call(q, k, v, { causal: true }), explicitNorm(q, k, v, true, kind), 1e-10, 1e-12, form);
      }
      expect([...att.stateDict().keys()]).toEqual(kind === 'rmsnorm' ? ['norm.weight'] : ['norm.weight', 'norm.bias']);
    }
  });

  it('step() equals the causal forward', () => {
    const [q, k, v] = qkv(2, 1, 2, 5, 5, 3);
    const att = new NormAttention({ numHeads: 2, headDim: 3, dtype: 'float64', backend: 'reference' });
    let st = null;
    const outs: Tensor[] = [];
    for (let t = 0; t < 5; t++) {
      const r = att.step(q.narrow(2, t, 1), k.narrow(2, t, 1), v.narrow(2, t, 1), st);
      outs.push(r.out);
      st = r.state;
    }
    close(cat(outs, 2), att.call(q, k, v, { causal: true }), 1e-10, 1e-12);
  });

  it('gradcheck in float64 (inputs and norm weight)', () => {
    const [q, k, v] = qkv(3, 1, 2, 4, 4, 3);
    const att = new NormAttention({ numHeads: 2, headDim: 3, dtype: 'float64', backend: 'reference' });
    const w = randn([6], { dtype: 'float64', generator: new Generator(1), backend: 'reference' });
    assertGradcheck((a, b, c, nw) => functionalCall(att, { 'norm.weight': nw }, a, b, c, { causal: true }) as Tensor, [q, k, v, w]);
  });
});

describe('TransNormer DiagAttention', () => {
  it('equals softmax attention under the block-diagonal mask, any length (padded), causal or not (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 11 }), fc.integer({ min: 1, max: 5 }), fc.boolean(), (seed, N, C, causal) => {
        const [q, k, v] = qkv(seed, 2, 2, N, N, 3);
        const blockBias = Array.from({ length: N * N }, (_, idx) => (Math.floor(idx / N / C) === Math.floor((idx % N) / C) ? 0 : -Infinity));
        const bias = tensor(blockBias, { shape: [1, 1, N, N], dtype: 'float64', backend: 'reference' });
        const kpm = tensor(Array.from({ length: 2 * N }, (_, i) => (i === N - 1 ? 0 : 1)), { shape: [2, N], dtype: 'float64', backend: 'reference' });
        const want = new SoftmaxAttention().call(q, k, v, { bias, causal, keyPaddingMask: kpm });
        close(new DiagAttention({ chunkSize: C }).call(q, k, v, { causal, keyPaddingMask: kpm }), want, 1e-10, 1e-12);
      }),
      { seed: 3, numRuns: 30 },
    );
  });

  it('without padding or a mask (blocks as extra heads) equals softmax attention under the block-diagonal mask (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 4 }), fc.boolean(), (seed, nb, C, causal) => {
        const N = nb * C;
        const [q, k, v] = qkv(seed, 2, 3, N, N, 3);
        const blockBias = Array.from({ length: N * N }, (_, idx) => (Math.floor(idx / N / C) === Math.floor((idx % N) / C) ? 0 : -Infinity));
        const bias = tensor(blockBias, { shape: [1, 1, N, N], dtype: 'float64', backend: 'reference' });
        const want = new SoftmaxAttention().call(q, k, v, { bias, causal });
        close(new DiagAttention({ chunkSize: C }).call(q, k, v, { causal }), want, 1e-10, 1e-12);
      }),
      { seed: 4, numRuns: 20 },
    );
    const [q, k, v] = qkv(7, 1, 2, 6, 6, 3);
    assertGradcheck((a, b, c) => new DiagAttention({ chunkSize: 3 }).call(a, b, c, { causal: true }), [q, k, v]);
  });

  it('step() equals the causal forward across block boundaries', () => {
    const [q, k, v] = qkv(4, 1, 2, 9, 9, 3);
    const att = new DiagAttention({ chunkSize: 4 });
    let st = null;
    const outs: Tensor[] = [];
    for (const [s, n] of [[0, 3], [3, 2], [5, 4]]) {
      const r = att.step(q.narrow(2, s, n), k.narrow(2, s, n), v.narrow(2, s, n), st);
      outs.push(r.out);
      st = r.state;
    }
    close(cat(outs, 2), att.call(q, k, v, { causal: true }), 1e-10, 1e-12);
    expect(() => new DiagAttention({ chunkSize: 3 }).step(q.narrow(2, 0, 1), k.narrow(2, 0, 1), v.narrow(2, 0, 1), st)).toThrow(/state from DiagAttention\(chunkSize=3\); got one from DiagAttention\(chunkSize=4\)/);
  });

  it('gradcheck in float64', () => {
    const [q, k, v] = qkv(5, 1, 2, 7, 7, 3);
    assertGradcheck((a, b, c) => new DiagAttention({ chunkSize: 3 }).call(a, b, c, { causal: true }), [q, k, v]);
  });

  it('rejects cross-attention and a bias', () => {
    const [q, k, v] = qkv(6, 1, 1, 3, 5, 3);
    expect(() => new DiagAttention().call(q, k, v)).toThrow(/Nq = Nk.*got Nq = 3, Nk = 5/);
    const [a, b, c] = qkv(6, 1, 1, 3, 3, 3);
    expect(() => new DiagAttention().call(a, b, c, { bias: full([1, 1, 3, 3], 0, { backend: 'reference', dtype: 'float64' }) })).toThrow(/opts.bias is not supported/);
  });
});

describe('TransNormer schedule', () => {
  it('puts diag in the lower half and norm in the upper half', () => {
    const s = transNormerSchedule(6, { diag: { chunkSize: 32 } });
    expect(s.map((c) => c.type)).toEqual(['diag', 'diag', 'diag', 'norm', 'norm', 'norm']);
    expect(s[0]).toEqual({ type: 'diag', chunkSize: 32 });
    expect(transNormerSchedule(3).map((c) => c.type)).toEqual(['diag', 'norm', 'norm']);
    const cores = s.map((c) => createAttentionCore(c, { numHeads: 2, headDim: 4 }));
    expect(cores[0]).toBeInstanceOf(DiagAttention);
    expect(cores[5]).toBeInstanceOf(NormAttention);
    expect(() => transNormerSchedule(0)).toThrow(/numLayers/);
  });
});
