import fc from 'fast-check';
import { Generator, noGrad, randn, tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { ComplexOrderEmbedding } from '../src/index.js';
import { expectClose, expectParamGradcheck, weightedSum } from './helpers.js';

const ids = (data: number[], shape: number[]) => tensor(Int32Array.from(data), { shape, dtype: 'int32' });

describe('ComplexOrderEmbedding (Wang et al. 2020)', () => {
  it('|f(w, pos)| = |r_w| at every position, and a shift by d multiplies by exp(i omega_w d) (position-free offset)', () => {
    const e = new ComplexOrderEmbedding({ numEmbeddings: 6, dim: 4, dtype: 'float64', generator: new Generator(2) });
    // Give every word its own frequencies and phases, so the property is not about the init only.
    noGrad(() => {
      e.frequency.weight.copy_(randn([6, 4], { generator: new Generator(7), dtype: 'float64' }));
      e.phase.weight.copy_(randn([6, 4], { generator: new Generator(8), dtype: 'float64' }));
    });
    const r = e.amplitude.weight.dataSync();
    const w = e.frequency.weight.dataSync();
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 50 }), (word, pos, d) => {
        const a = e.call(ids([word], [1, 1]), { offset: pos });
        const b = e.call(ids([word], [1, 1]), { offset: pos + d });
        const [ar, ai, br, bi] = [a.re.dataSync(), a.im.dataSync(), b.re.dataSync(), b.im.dataSync()];
        for (let j = 0; j < 4; j++) {
          expect(Math.hypot(ar[j], ai[j])).toBeCloseTo(Math.abs(r[word * 4 + j]), 12);
          const [c, s] = [Math.cos(w[word * 4 + j] * d), Math.sin(w[word * 4 + j] * d)];
          expect(br[j]).toBeCloseTo(ar[j] * c - ai[j] * s, 10);
          expect(bi[j]).toBeCloseTo(ar[j] * s + ai[j] * c, 10);
        }
      }),
      { seed: 5, numRuns: 50 },
    );
  });

  it('starts from the sinusoidal frequency schedule with zero phase; names follow the paper', () => {
    const e = new ComplexOrderEmbedding({ numEmbeddings: 3, dim: 4, projectTo: 5 });
    expect([...e.stateDict().keys()]).toEqual(['amplitude.weight', 'frequency.weight', 'phase.weight', 'proj.weight', 'proj.bias']);
    expectClose(e.frequency.weight.dataSync().slice(0, 4), [1, 1, 0.01, 0.01], { rtol: 1e-6, atol: 0 });
    expect(Array.from(e.phase.weight.dataSync()).every((v) => v === 0)).toBe(true);
    const z = e.call(ids([0, 2, 1], [1, 3]));
    expect(e.toReal(z).shape).toEqual([1, 3, 5]);
    const plain = new ComplexOrderEmbedding({ numEmbeddings: 3, dim: 4 });
    const zp = plain.call(ids([0, 2, 1], [1, 3]));
    const real = plain.toReal(zp);
    expect(real.shape).toEqual([1, 3, 8]);
    expectClose(real.narrow(2, 4, 4).contiguous().dataSync(), zp.im.dataSync(), { rtol: 0, atol: 0 });
  });

  it('gradcheck (float64) of amplitude, frequency, phase and the adapter', () => {
    const e = new ComplexOrderEmbedding({ numEmbeddings: 4, dim: 2, projectTo: 3, dtype: 'float64', generator: new Generator(3) });
    const x = ids([0, 3, 1, 3, 2, 0], [2, 3]);
    for (const p of e.parameters()) expectParamGradcheck(e, p, () => weightedSum(e.toReal(e.call(x, { offset: 2 }))));
  });

  it('rejects float ids and bad offsets with named messages', () => {
    const e = new ComplexOrderEmbedding({ numEmbeddings: 4, dim: 2 });
    expect(() => e.call(tensor([[0, 1]]))).toThrow(/expected ids to be an int32 tensor \(\.\.\., T\); got float32 \[1, 2\]/);
    expect(() => e.call(ids([0, 1], [1, 2]), { offset: -1 })).toThrow(/opts.offset to be an integer >= 0; got -1/);
    expect(() => new ComplexOrderEmbedding({ numEmbeddings: 0, dim: 2 })).toThrow(/opts.numEmbeddings/);
  });
});
