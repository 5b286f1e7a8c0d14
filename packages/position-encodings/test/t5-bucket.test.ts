import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { t5RelativePositionBucket, t5RelativePositionBuckets } from '../src/index.js';
import { golden, goldenConfig } from './helpers.js';

interface BucketConfig {
  bidirectional: boolean;
  num_buckets: number;
  max_distance: number;
}

describe('t5RelativePositionBucket', () => {
  const rel = golden('t5_bucket.relative_position').data;
  const configs = goldenConfig<{ configs: BucketConfig[] }>('t5_bucket').configs;

  it('has a non-trivial golden set', () => {
    expect(configs.length).toBe(12);
    expect(rel.length).toBeGreaterThan(540);
  });

  configs.forEach((c, i) => {
    it(`equals the PyTorch (HF / mesh-tensorflow) bucket exactly: ${JSON.stringify(c)}`, () => {
      const expected = golden(`t5_bucket.buckets${i}`).data;
      const opts = { bidirectional: c.bidirectional, numBuckets: c.num_buckets, maxDistance: c.max_distance };
      const mismatches: string[] = [];
      for (let k = 0; k < rel.length; k++) {
        const got = t5RelativePositionBucket(rel[k], opts);
        if (got !== expected[k]) mismatches.push(`r=${rel[k]}: got ${got}, torch ${expected[k]}`);
      }
      expect(mismatches).toEqual([]);
    });
  });

  it('is monotone in |distance| within each direction, and exact below maxExact', () => {
    const arb = fc.record({
      bidirectional: fc.boolean(),
      numBuckets: fc.integer({ min: 4, max: 128 }),
      extra: fc.integer({ min: 1, max: 500 }),
      a: fc.integer({ min: 0, max: 3000 }),
      b: fc.integer({ min: 0, max: 3000 }),
      sign: fc.constantFrom(1, -1),
    });
    fc.assert(
      fc.property(arb, ({ bidirectional, numBuckets, extra, a, b, sign }) => {
        const perDir = bidirectional ? Math.floor(numBuckets / 2) : numBuckets;
        const maxExact = Math.floor(perDir / 2);
        const opts = { bidirectional, numBuckets, maxDistance: maxExact + extra };
        // Causal attention only distinguishes keys in the past (relative position <= 0).
        const s = bidirectional ? sign : -1;
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        const blo = t5RelativePositionBucket(s * lo, opts);
        const bhi = t5RelativePositionBucket(s * hi, opts);
        const base = bidirectional && s > 0 ? perDir : 0;
        expect(bhi).toBeGreaterThanOrEqual(blo);
        expect(bhi).toBeLessThan(base + perDir);
        if (lo < maxExact) expect(blo).toBe(base + lo);
        if (lo >= opts.maxDistance) expect(blo).toBe(base + perDir - 1);
      }),
      { seed: 42, numRuns: 300 },
    );
  });

  it('maps every future key to bucket 0 in the causal form', () => {
    for (const r of [1, 2, 50, 1000]) expect(t5RelativePositionBucket(r, { bidirectional: false })).toBe(0);
  });

  it('builds the (Tq, Tk) grid with the decoding offset by default', () => {
    const grid = t5RelativePositionBuckets(2, 5, { bidirectional: true, numBuckets: 32, maxDistance: 128 });
    expect(grid.shape).toEqual([2, 5]);
    expect(grid.dtype).toBe('int32');
    // queries at positions 3 and 4; entry [i, j] is the bucket of j - (3 + i)
    const data = Array.from(grid.dataSync());
    const want: number[] = [];
    for (let i = 0; i < 2; i++) for (let j = 0; j < 5; j++) want.push(t5RelativePositionBucket(j - (3 + i)));
    expect(data).toEqual(want);
    // Row 0 by the definition: r = -3, -2, -1, 0 are exact buckets; r = +1 is the first bucket of the upper half.
    expect(data.slice(0, 5)).toEqual([3, 2, 1, 0, 17]);
  });

  it('rejects bad arguments with named messages', () => {
    expect(() => t5RelativePositionBucket(1.5)).toThrow(/relativePosition to be an integer; got 1.5/);
    expect(() => t5RelativePositionBucket(0, { numBuckets: 2 })).toThrow(/numBuckets to be an integer >= 4; got 2/);
    expect(() => t5RelativePositionBucket(0, { numBuckets: 32, maxDistance: 8 })).toThrow(/maxDistance \(=8\) to exceed/);
    expect(() => t5RelativePositionBuckets(0, 3)).toThrow(/queryLength to be an integer >= 1; got 0/);
  });
});
