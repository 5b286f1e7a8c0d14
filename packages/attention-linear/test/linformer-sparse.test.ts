import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, assertGradcheck, cat, functionalCall, matmul, randn, tensor, type Tensor } from '@formers/tensor-core';
import { LinformerAttention, SoftmaxAttention, SparseAttention, createAttentionCore, sparsePattern, type SparsePattern } from '../src/index.js';
import { close, qkv } from './helpers.js';

const ref = { dtype: 'float64' as const, backend: 'reference' as const };

describe('LinformerAttention', () => {
  it('equals softmax attention over E^T K and F^T V, shared and per-head, and with shorter inputs', () => {
    for (const sharing of ['shared', 'per-head'] as const) {
      const att = new LinformerAttention({ numHeads: 2, seqLen: 8, projectedLength: 3, sharing, ...ref, generator: new Generator(1) });
      expect(att.proj_k.shape).toEqual(sharing === 'shared' ? [8, 3] : [2, 8, 3]);
      for (const N of [8, 5]) {
        const [q, k, v] = qkv(2, 2, 2, N, N, 4);
        const E = att.proj_k.narrow(-2, 0, N);
        const F = att.proj_v!.narrow(-2, 0, N);
        const want = new SoftmaxAttention().call(q, matmul(E.transpose(-2, -1), k), matmul(F.transpose(-2, -1), v));
        close(att.call(q, k, v), want, 1e-10, 1e-12);
      }
    }
    const kv = new LinformerAttention({ numHeads: 2, seqLen: 8, projectedLength: 3, shareKV: true, ...ref });
    expect([...kv.stateDict().keys()]).toEqual(['proj_k']);
  });

  it('gradcheck in float64 (inputs and projections)', () => {
    const att = new LinformerAttention({ numHeads: 2, seqLen: 5, projectedLength: 2, ...ref });
    const [q, k, v] = qkv(3, 1, 2, 5, 5, 3);
    const E = randn([5, 2], { ...ref, generator: new Generator(4) });
    const F = randn([5, 2], { ...ref, generator: new Generator(5) });
    assertGradcheck((a, b, c, e, f) => functionalCall(att, { proj_k: e, proj_v: f }, a, b, c) as Tensor, [q, k, v, E, F]);
  });

  it('rejects causal, too long inputs and a missing seqLen', () => {
    const att = new LinformerAttention({ numHeads: 1, seqLen: 4, projectedLength: 2, ...ref });
    const [q, k, v] = qkv(1, 1, 1, 4, 4, 2);
    expect(() => att.call(q, k, v, { causal: true })).toThrow(/causal attention is not supported/);
    const [q2, k2, v2] = qkv(1, 1, 1, 6, 6, 2);
    expect(() => att.call(q2, k2, v2)).toThrow(/Nk <= seqLen = 4; got Nk = 6/);
    expect(() => createAttentionCore({ type: 'linformer', projectedLength: 4 }, { numHeads: 2, headDim: 4 })).toThrow(/dims.seqLen/);
  });
});

const patterns: SparsePattern[] = [
  { kind: 'sliding-window', window: 2 },
  { kind: 'strided', stride: 3 },
  { kind: 'fixed', stride: 4, summary: 2 },
];

function denseMask(allowed: (i: number, j: number) => boolean, Nq: number, Nk: number): Tensor {
  const shift = Nk - Nq;
  const m: number[] = [];
  for (let i = 0; i < Nq; i++) for (let j = 0; j < Nk; j++) m.push(allowed(i + shift, j) ? 0 : -Infinity);
  return tensor(m, { shape: [1, 1, Nq, Nk], ...ref });
}

describe('SparseAttention (block-sparse)', () => {
  it('equals dense softmax attention under the equivalent mask, every pattern, with globals, padding, bias (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 14 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 2 }), fc.boolean(), fc.constantFrom(...patterns), (seed, Nq, extra, bs, g, causal, pattern) => {
        const Nk = Nq + extra;
        const [q, k, v] = qkv(seed, 2, 2, Nq, Nk, 3);
        const att = new SparseAttention({ pattern, blockSize: bs, globalTokens: g });
        const kpm = tensor(Array.from({ length: 2 * Nk }, (_, i) => (i === 1 ? 0 : 1)), { shape: [2, Nk], ...ref });
        const bias = randn([1, 2, Nq, Nk], { ...ref, generator: new Generator(seed) });
        const dense = denseMask(sparsePattern('t', pattern, { globalTokens: g, causal }), Nq, Nk).add(bias);
        const want = new SoftmaxAttention().call(q, k, v, { bias: dense, keyPaddingMask: kpm });
        close(att.call(q, k, v, { causal, bias, keyPaddingMask: kpm }), want, 1e-10, 1e-12);
      }),
      { seed: 8, numRuns: 40 },
    );
  });

  it('cost scales with allowed blocks: a sliding window computes a shrinking fraction of blocks as N grows', () => {
    const att = new SparseAttention({ pattern: { kind: 'sliding-window', window: 16 }, blockSize: 16 });
    const d1 = att.blockDensity(256);
    const d2 = att.blockDensity(1024);
    expect(d2).toBeLessThan(d1 / 3);
    expect(d2 * (1024 / 16) ** 2).toBeLessThanOrEqual(3 * (1024 / 16)); // about 3 blocks per query block
  });

  it('step() equals the causal forward', () => {
    const [q, k, v] = qkv(4, 1, 2, 9, 9, 3);
    const att = new SparseAttention({ pattern: { kind: 'strided', stride: 3 }, blockSize: 2, globalTokens: 1 });
    let st = null;
    const outs: Tensor[] = [];
    for (const [s, n] of [[0, 1], [1, 4], [5, 4]]) {
      const r = att.step(q.narrow(2, s, n), k.narrow(2, s, n), v.narrow(2, s, n), st);
      outs.push(r.out);
      st = r.state;
    }
    close(cat(outs, 2), att.call(q, k, v, { causal: true }), 1e-10, 1e-12);
    const other = new SparseAttention({ pattern: { kind: 'strided', stride: 2 } });
    expect(() => other.step(q.narrow(2, 0, 1), k.narrow(2, 0, 1), v.narrow(2, 0, 1), st)).toThrow(/expected a state from SparseAttention/);
  });

  it('gradcheck in float64', () => {
    const [q, k, v] = qkv(5, 1, 2, 7, 7, 3);
    const att = new SparseAttention({ pattern: { kind: 'fixed', stride: 3 }, blockSize: 2, globalTokens: 1 });
    assertGradcheck((a, b, c) => att.call(a, b, c, { causal: true }), [q, k, v]);
  });

  it('rejects bad patterns', () => {
    expect(() => new SparseAttention({ pattern: { kind: 'diagonal' } as never })).toThrow(/pattern.kind 'sliding-window', 'strided' or 'fixed'/);
    expect(() => new SparseAttention({ pattern: { kind: 'strided', stride: 0 } })).toThrow(/pattern.stride to be an integer >= 1; got 0/);
    expect(() => new SparseAttention({ pattern: { kind: 'fixed', stride: 2, summary: 3 } })).toThrow(/summary <= pattern.stride/);
  });
});
