import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, assertGradcheck, grad, randn, sum, mul, tensor } from '@formers/tensor-core';
import { ChunkedSoftmaxAttention, SoftmaxAttention } from '../src/index.js';
import { closeArrays, qkv } from './helpers.js';

describe('ChunkedSoftmaxAttention', () => {
  it('equals the plain form, forward and gradients, with causal/padding/bias and ragged blocks (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 0, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        fc.boolean(),
        (seed, Nq, extra, bq, bk, causal, withBias) => {
          const Nk = Nq + extra;
          const [q, k, v] = qkv(seed, 2, 2, Nq, Nk, 3);
          const gen = new Generator(seed + 7);
          const bias = withBias ? randn([2, 1, Nq, Nk], { dtype: 'float64', generator: gen, backend: 'reference' }).requiresGrad_() : undefined;
          const pad = Array.from({ length: 2 * Nk }, (_, i) => (i === Nk + 1 || i === 0 ? 0 : 1));
          const kpm = tensor(pad, { shape: [2, Nk], dtype: 'float64', backend: 'reference' });
          const w = randn([2, 2, Nq, 3], { dtype: 'float64', generator: gen, backend: 'reference' });
          const run = (att: SoftmaxAttention | ChunkedSoftmaxAttention) => {
            const ins = [q, k, v].map((t) => t.detach().requiresGrad_());
            const out = att.call(ins[0], ins[1], ins[2], { causal, keyPaddingMask: kpm, bias });
            const gs = grad(sum(mul(out, w)), bias ? [...ins, bias] : ins);
            return [out, ...gs];
          };
          const a = run(new SoftmaxAttention());
          const b = run(new ChunkedSoftmaxAttention({ queryChunkSize: bq, keyChunkSize: bk }));
          a.forEach((t, i) => closeArrays(b[i]!.dataSync(), t!.dataSync(), 1e-9, 1e-11, `tensor ${i}`));
        },
      ),
      { seed: 11, numRuns: 40 },
    );
  });

  it('gradcheck in float64, also with dropout replayed in backward', () => {
    const [q, k, v] = qkv(3, 1, 2, 5, 6, 3);
    const bias = randn([1, 2, 5, 6], { dtype: 'float64', generator: new Generator(4), backend: 'reference' });
    const att = new ChunkedSoftmaxAttention({ queryChunkSize: 2, keyChunkSize: 4 });
    assertGradcheck((a, b, c, d) => att.call(a, b, c, { causal: true, bias: d }), [q, k, v, bias]);
    // A fresh generator per call makes the dropout masks deterministic, so finite differences see one function.
    assertGradcheck((a, b, c) => new ChunkedSoftmaxAttention({ dropout: 0.3, queryChunkSize: 2, keyChunkSize: 2, generator: new Generator(9) }).call(a, b, c), [q, k, v]);
  });

  it('agrees with the plain form in float32 with many small blocks', () => {
    const [q, k, v] = qkv(8, 1, 1, 64, 64, 4, 'float32');
    const a = new ChunkedSoftmaxAttention({ queryChunkSize: 16, keyChunkSize: 8 }).call(q, k, v, { causal: true });
    const b = new SoftmaxAttention().call(q, k, v, { causal: true });
    closeArrays(a.dataSync(), b.dataSync(), 1e-5, 1e-6);
  });

  it('rejects bad options', () => {
    expect(() => new ChunkedSoftmaxAttention({ keyChunkSize: 0 })).toThrow(/opts.keyChunkSize to be an integer >= 1; got 0/);
    expect(() => new ChunkedSoftmaxAttention({ queryChunkSize: 1.5 })).toThrow(/opts.queryChunkSize/);
  });
});
