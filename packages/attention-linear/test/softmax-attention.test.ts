import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, assertGradcheck, full, randn, tensor, zeros } from '@formers/tensor-core';
import { SoftmaxAttention, createAttentionCore } from '../src/index.js';
import { closeArrays, naiveSoftmax, qkv } from './helpers.js';

describe('SoftmaxAttention', () => {
  it('equals explicit softmax(q k^T / sqrt(Dh)) v, with causal, padding and bias (property, float64)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 3 }), fc.boolean(), (seed, Nq, extra, causal) => {
        const Nk = Nq + extra;
        const [q, k, v] = qkv(seed, 2, 2, Nq, Nk, 3);
        const pad = [Array.from({ length: Nk }, (_, j) => (j === 0 ? 0 : 1)), Array.from({ length: Nk }, () => 1)];
        const kpm = tensor(pad.flat(), { shape: [2, Nk], dtype: 'float64', backend: 'reference' });
        const bias = randn([1, 2, Nq, Nk], { dtype: 'float64', generator: new Generator(seed + 1), backend: 'reference' });
        const bd = bias.dataSync();
        const att = new SoftmaxAttention();
        const got = att.call(q, k, v, { causal, keyPaddingMask: kpm, bias }).dataSync();
        const want = naiveSoftmax(q, k, v, {
          allowed: (b, _h, i, j) => pad[b][j] === 1 && (!causal || j <= i + Nk - Nq),
          bias: (_b, h, i, j) => bd[(h * Nq + i) * Nk + j],
        });
        closeArrays(got, want, 1e-10, 1e-12);
      }),
      { seed: 4, numRuns: 30 },
    );
  });

  it('gives zeros (never NaN) for fully masked rows, also with a -Infinity bias', () => {
    const [q, k, v] = qkv(1, 1, 1, 3, 3, 4);
    const kpm = tensor([[0, 0, 0]], { dtype: 'float64', backend: 'reference' });
    const out = new SoftmaxAttention().call(q, k, v, { keyPaddingMask: kpm });
    expect(Array.from(out.dataSync())).toEqual(new Array(12).fill(0));
    const bias = full([1, 1, 3, 3], -Infinity, { dtype: 'float64', backend: 'reference' });
    const out2 = new SoftmaxAttention().call(q, k, v, { bias }).dataSync();
    expect(Array.from(out2)).toEqual(new Array(12).fill(0));
    // Huge scores stay finite (the kernel subtracts the row max).
    const big = new SoftmaxAttention({ scale: 1e4 }).call(q, k, v).dataSync();
    expect(big.every((x) => Number.isFinite(x))).toBe(true);
  });

  it('dropout acts on the probabilities in training only', () => {
    const [q, k, v] = qkv(2, 1, 2, 6, 6, 4);
    const att = new SoftmaxAttention({ dropout: 0.5, generator: new Generator(3) });
    const train = att.call(q, k, v).dataSync();
    att.eval();
    const ev = att.call(q, k, v).dataSync();
    closeArrays(ev, naiveSoftmax(q, k, v), 1e-10, 1e-12);
    expect(Array.from(train)).not.toEqual(Array.from(ev));
  });

  it('gradcheck in float64 (causal, padding, bias)', () => {
    const [q, k, v] = qkv(5, 1, 2, 4, 5, 3);
    const bias = randn([1, 2, 4, 5], { dtype: 'float64', generator: new Generator(6), backend: 'reference' });
    const kpm = tensor([[1, 1, 0, 1, 1]], { dtype: 'float64', backend: 'reference' });
    const att = new SoftmaxAttention();
    assertGradcheck((a, b, c, d) => att.call(a, b, c, { causal: true, keyPaddingMask: kpm, bias: d }), [q, k, v, bias]);
  });

  it('rejects bad input with clear errors', () => {
    const [q, k, v] = qkv(1, 1, 2, 3, 4, 4);
    const att = new SoftmaxAttention();
    const k3 = zeros([1, 2, 4, 3], { dtype: 'float64', backend: 'reference' });
    expect(() => att.call(q, k3, v)).toThrow(/head dim mismatch.*Dh = 4.*k \[1, 2, 4, 3\]/);
    expect(() => att.call(q, k, k3)).toThrow(/head dim mismatch/);
    expect(() => att.call(q, k, v, { keyPaddingMask: zeros([1, 3]) })).toThrow(/keyPaddingMask of shape \[1, 4\].*got \[1, 3\]/);
    expect(() => att.call(q, k, v, { bias: zeros([2, 3, 3]) })).toThrow(/bias broadcastable to \[1, 2, 3, 4\]/);
    expect(() => att.call(q.reshape([2, 3, 4]), k, v)).toThrow(/q of rank 4/);
    expect(() => att.call(k, q, q, { causal: true })).toThrow(/Nk >= Nq/);
    expect(() => new SoftmaxAttention({ dropout: 1 })).toThrow(/opts.dropout in \[0, 1\)/);
  });

  it('createAttentionCore builds it and rejects unknown types', () => {
    const core = createAttentionCore({ type: 'softmax' }, { numHeads: 2, headDim: 4 });
    expect(core).toBeInstanceOf(SoftmaxAttention);
    expect(() => createAttentionCore({ type: 'nope' } as never, { numHeads: 2, headDim: 4 })).toThrow(/expected config.type one of 'softmax'/);
    expect(() => createAttentionCore({ type: 'softmax' }, { numHeads: 0, headDim: 4 })).toThrow(/dims.numHeads/);
  });
});
