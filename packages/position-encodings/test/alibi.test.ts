import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALiBi, alibiBias, alibiSlopes } from '../src/index.js';
import { expectClose, golden, goldenConfig } from './helpers.js';

describe('ALiBi', () => {
  const heads = goldenConfig<{ heads: number[] }>('alibi').heads;

  it('slopes match the reference schedule for every golden head count (non-powers of two included)', () => {
    expect(heads).toContain(12);
    for (const n of heads) expectClose(alibiSlopes(n), golden(`alibi.slopes${n}`).data, { rtol: 1e-14, atol: 0 }, `slopes(${n})`);
  });

  it('slopes are a geometric sequence with ratio 2^(-8/n) when n is a power of two', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 8 }), (k) => {
        const n = 2 ** k;
        const s = alibiSlopes(n);
        expect(s[0]).toBeCloseTo(2 ** (-8 / n), 14);
        for (let i = 1; i < n; i++) expect(s[i] / s[i - 1]).toBeCloseTo(2 ** (-8 / n), 12);
      }),
      { seed: 42, numRuns: 20 },
    );
  });

  it('for other n, the first 2^floor(log2 n) slopes are that schedule and the rest interleave the doubled one', () => {
    fc.assert(
      fc.property(fc.integer({ min: 3, max: 200 }).filter((n) => !Number.isInteger(Math.log2(n))), (n) => {
        const closest = 2 ** Math.floor(Math.log2(n));
        const s = alibiSlopes(n);
        expect(s.length).toBe(n);
        expect(s.slice(0, closest)).toEqual(alibiSlopes(closest));
        const ratio = (2 ** (-8 / (2 * closest))) ** 2; // every other slope of the 2 * closest schedule
        const rest = s.slice(closest);
        expect(rest[0]).toBeCloseTo(2 ** (-8 / (2 * closest)), 14);
        for (let i = 1; i < rest.length; i++) expect(rest[i] / rest[i - 1]).toBeCloseTo(ratio, 12);
        // all slopes are distinct and in (0, 1)
        expect(new Set(s).size).toBe(n);
        for (const v of s) expect(v > 0 && v < 1).toBe(true);
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('the bias equals the golden -m_h |j - i| with the decoding offset', () => {
    const c = goldenConfig<{ num_heads: number; query_length: number; key_length: number }>('alibi_bias');
    const bias = alibiBias(c.num_heads, c.query_length, c.key_length);
    const g = golden('alibi_bias.output');
    expect(bias.shape).toEqual(g.shape);
    expectClose(bias.dataSync(), g.data);
    const m = new ALiBi({ numHeads: c.num_heads });
    expectClose(m.call(c.query_length, c.key_length).dataSync(), g.data);
    expect([...m.stateDict().keys()]).toEqual([]);
    expect(m.parameters()).toEqual([]);
  });

  it('is softmax-equivalent to the BLOOM form m_h * j on the causal triangle', () => {
    const n = 5;
    const t = 6;
    const s = alibiSlopes(n);
    const bias = alibiBias(n, t, t, { dtype: 'float64' }).dataSync();
    for (let h = 0; h < n; h++) {
      for (let i = 0; i < t; i++) {
        // rows differ from m * j by a constant (-m * i) on j <= i
        for (let j = 0; j <= i; j++) expect(bias[(h * t + i) * t + j] - s[h] * j).toBeCloseTo(-s[h] * i, 12);
      }
    }
  });

  it('rejects bad arguments with named messages', () => {
    expect(() => alibiSlopes(0)).toThrow(/numHeads to be an integer >= 1; got 0/);
    expect(() => new ALiBi({ numHeads: 2.5 })).toThrow(/opts.numHeads to be an integer >= 1; got 2.5/);
    expect(() => alibiBias(4, 3, 3, { queryOffset: 0.5 })).toThrow(/queryOffset to be an integer/);
  });
});
