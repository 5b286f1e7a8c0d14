import fc from 'fast-check';
import { Generator } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { RelativePositionBias2d, relativePositionIndex2d } from '../src/index.js';
import { expectParamGradcheck, weightedSum } from './helpers.js';

describe('RelativePositionBias2d (Swin, BEiT)', () => {
  it('the bias depends only on the 2-D offset between two patches', () => {
    const m = new RelativePositionBias2d({ windowSize: [4, 5], numHeads: 2, generator: new Generator(1), dtype: 'float64' });
    const b = m.call().dataSync(); // (1, 2, 20, 20)
    const at = (h: number, a: number, c: number) => b[(h * 20 + a) * 20 + c];
    const cell = fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 4 }));
    fc.assert(
      fc.property(cell, cell, fc.integer({ min: -3, max: 3 }), fc.integer({ min: -4, max: 4 }), ([y1, x1], [y2, x2], dy, dx) => {
        const inside = (y: number, x: number) => y >= 0 && y < 4 && x >= 0 && x < 5;
        if (!inside(y1 + dy, x1 + dx) || !inside(y2 + dy, x2 + dx)) return;
        for (const h of [0, 1]) expect(at(h, (y1 + dy) * 5 + x1 + dx, (y2 + dy) * 5 + x2 + dx)).toBe(at(h, y1 * 5 + x1, y2 * 5 + x2));
      }),
      { seed: 9, numRuns: 200 },
    );
  });

  it('uses every table row once per offset, and BEiT class rows are the last three', () => {
    const idx = relativePositionIndex2d([2, 3]);
    expect(new Set(Array.from(idx)).size).toBe(3 * 5);
    const cls = relativePositionIndex2d([2, 3], true); // (7, 7)
    expect(cls[0]).toBe(17);
    expect(cls[1]).toBe(15);
    expect(cls[7]).toBe(16);
    expect(cls[8]).toBe(idx[0]);
  });

  it('timm names and init; gradcheck (float64) of the table', () => {
    const m = new RelativePositionBias2d({ windowSize: 3, numHeads: 2, clsToken: true, dtype: 'float64', generator: new Generator(2) });
    expect([...m.stateDict().keys()]).toEqual(['relative_position_bias_table']);
    expect(m.relativePositionBiasTable.shape).toEqual([28, 2]);
    const t = Array.from(m.relativePositionBiasTable.dataSync());
    const std = Math.sqrt(t.reduce((s, v) => s + v * v, 0) / t.length);
    expect(std).toBeGreaterThan(0.01); // N(0, 0.02^2), as timm's trunc_normal_(std=.02)
    expect(std).toBeLessThan(0.03);
    expectParamGradcheck(m, m.relativePositionBiasTable, () => weightedSum(m.call()));
  });

  it('rejects bad windows and head counts with named messages', () => {
    expect(() => new RelativePositionBias2d({ windowSize: [2, 0], numHeads: 1 })).toThrow(/opts.windowSize\[1\] to be an integer >= 1; got 0/);
    expect(() => new RelativePositionBias2d({ windowSize: 2, numHeads: 0 })).toThrow(/opts.numHeads to be an integer >= 1; got 0/);
  });
});
