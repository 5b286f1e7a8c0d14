import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ALiBi, alibiBias, alibiBias2d, alibiSlopes } from '../src/index.js';
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

describe('alibiBias2d (CROMA)', () => {
  it('-m_h times the Euclidean distance: symmetric, zero on the diagonal, a function of the 2-D offset only', () => {
    const b = alibiBias2d(3, [4, 5], { dtype: 'float64' }).dataSync();
    const slopes = alibiSlopes(3);
    const at = (h: number, i: number, j: number) => b[(h * 20 + i) * 20 + j];
    const cell = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 }));
    fc.assert(
      fc.property(cell, cell, fc.integer({ min: 0, max: 2 }), ([r1, c1], [r2, c2], h) => {
        const [i, j] = [r1 * 5 + c1, r2 * 5 + c2];
        expect(at(h, i, j)).toBeCloseTo(-slopes[h] * Math.hypot(r1 - r2, c1 - c2), 12);
        expect(at(h, i, j)).toBe(at(h, j, i));
        expect(Math.abs(at(h, i, i))).toBe(0);
      }),
      { seed: 17, numRuns: 100 },
    );
  });

  it('on a single row it is 1-D ALiBi; prefix tokens get no bias; bad grids are named', () => {
    expectClose(alibiBias2d(4, [1, 6]).dataSync(), alibiBias(4, 6, 6).dataSync(), { rtol: 0, atol: 0 });
    const withCls = alibiBias2d(2, [2, 2], { numPrefixTokens: 1 }).dataSync(); // (1, 2, 5, 5)
    for (let h = 0; h < 2; h++) for (let k = 0; k < 5; k++) {
      expect(withCls[h * 25 + k]).toBe(0);
      expect(withCls[h * 25 + k * 5]).toBe(0);
    }
    expect(() => alibiBias2d(2, [0, 3])).toThrow(/gridSize\[0\] to be an integer >= 1; got 0/);
  });
});
