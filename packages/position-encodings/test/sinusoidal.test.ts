import fc from 'fast-check';
import { gradcheck, randn, tensor, Generator } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import {
  sinCos2dPositionEncoding,
  sinusoidalPositionEncoding,
  sinusoidalTableHost,
  SinusoidalPositionalEncoding,
} from '../src/index.js';
import { expectClose, golden, goldenConfig } from './helpers.js';

const SIN_CASES = ['sin_16_50_10000', 'sin_6_9_10000', 'sin_32_20_500'];
const SINCOS2D_CASES = ['sincos2d_16_4x4_1', 'sincos2d_8_3x5_0', 'sincos2d_32_2x7_1'];

describe('sinusoidal position encoding (Vaswani et al. 2017)', () => {
  for (const name of SIN_CASES) {
    it(`matches the PyTorch tables in both layouts: ${name}`, () => {
      const c = goldenConfig<{ dim: number; num_positions: number; base: number }>(name);
      for (const layout of ['interleaved', 'concat'] as const) {
        const field = layout === 'interleaved' ? 'interleaved' : 'concat';
        const g = golden(`${name}.${field}`);
        expectClose(sinusoidalTableHost(c.num_positions, c.dim, { layout, base: c.base }), g.data, { rtol: 1e-12, atol: 1e-12 }, layout);
        const t = sinusoidalPositionEncoding(c.num_positions, c.dim, { layout, base: c.base });
        expect(t.shape).toEqual(g.shape);
        expect(t.dtype).toBe('float32');
        expectClose(t.dataSync(), g.data, {}, `${layout} float32`);
      }
    });
  }

  it('concat is interleaved with the columns permuted (evens first, then odds)', () => {
    const n = 7;
    const d = 10;
    const a = sinusoidalTableHost(n, d, { layout: 'interleaved' });
    const b = sinusoidalTableHost(n, d, { layout: 'concat' });
    for (let p = 0; p < n; p++) {
      for (let i = 0; i < d / 2; i++) {
        expect(b[p * d + i]).toBe(a[p * d + 2 * i]);
        expect(b[p * d + d / 2 + i]).toBe(a[p * d + 2 * i + 1]);
      }
    }
  });

  it('PE(k + delta) is a fixed linear map (a block rotation) of PE(k)', () => {
    const d = 12;
    const base = 10000;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 200 }), fc.integer({ min: 0, max: 50 }), (k, delta) => {
        const table = sinusoidalTableHost(k + delta + 1, d);
        for (let i = 0; i < d / 2; i++) {
          const w = base ** (-(2 * i) / d);
          const [s, c] = [table[k * d + 2 * i], table[k * d + 2 * i + 1]];
          // [sin; cos](k + delta) = [[cos dw, sin dw], [-sin dw, cos dw]] [sin; cos](k), independent of k
          const expectedSin = Math.cos(delta * w) * s + Math.sin(delta * w) * c;
          const expectedCos = -Math.sin(delta * w) * s + Math.cos(delta * w) * c;
          expect(table[(k + delta) * d + 2 * i]).toBeCloseTo(expectedSin, 9);
          expect(table[(k + delta) * d + 2 * i + 1]).toBeCloseTo(expectedCos, 9);
        }
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('the module adds the table at an offset, has no parameters and passes gradients to x', () => {
    const m = new SinusoidalPositionalEncoding({ dim: 6, maxLen: 20, dtype: 'float64' });
    expect(m.parameters()).toEqual([]);
    expect([...m.stateDict().keys()]).toEqual([]);
    const x = randn([2, 4, 6], { generator: new Generator(1), dtype: 'float64' });
    const y = m.call(x, { offset: 3 });
    const table = sinusoidalTableHost(7, 6);
    const xs = x.dataSync();
    const ys = y.dataSync();
    for (let b = 0; b < 2; b++) {
      for (let t = 0; t < 4; t++) {
        for (let j = 0; j < 6; j++) {
          const k = (b * 4 + t) * 6 + j;
          expect(ys[k]).toBeCloseTo(xs[k] + table[(t + 3) * 6 + j], 12);
        }
      }
    }
    const r = gradcheck((xx) => m.call(xx, { offset: 3 }), [x]);
    expect(r.failures).toEqual([]);
    expect(r.ok).toBe(true);
  });

  it('rejects bad arguments with named messages', () => {
    expect(() => sinusoidalTableHost(4, 5)).toThrow(/dim to be even .*got 5/);
    expect(() => sinusoidalTableHost(4, 4, { layout: 'pairs' as never })).toThrow(/opts.layout to be one of 'interleaved', 'concat'; got "pairs"/);
    expect(() => sinusoidalTableHost(4, 4, { base: -1 })).toThrow(/opts.base to be a finite number > 0; got -1/);
    const m = new SinusoidalPositionalEncoding({ dim: 4, maxLen: 5 });
    expect(() => m.call(tensor(new Float32Array(24), { shape: [1, 6, 4] }))).toThrow(/offset \+ T \(=0 \+ 6\) <= maxLen \(=5\)/);
    expect(() => m.call(tensor(new Float32Array(6), { shape: [1, 2, 3] }))).toThrow(/expected x of shape \(\.\.\., T, 4\); got \[1, 2, 3\]/);
  });
});

describe('2-D sin-cos table (MAE, He et al. 2022)', () => {
  for (const name of SINCOS2D_CASES) {
    it(`matches MAE's get_2d_sincos_pos_embed: ${name}`, () => {
      const c = goldenConfig<{ dim: number; grid: [number, number]; cls_token: boolean }>(name);
      const g = golden(`${name}.table`);
      const t = sinCos2dPositionEncoding(c.dim, c.grid, { clsToken: c.cls_token, dtype: 'float64' });
      expect(t.shape).toEqual(g.shape);
      expectClose(t.dataSync(), g.data, { rtol: 1e-12, atol: 1e-12 });
    });
  }

  it('a square grid can be given as one number', () => {
    expect(Array.from(sinCos2dPositionEncoding(8, 3).dataSync())).toEqual(Array.from(sinCos2dPositionEncoding(8, [3, 3]).dataSync()));
  });

  it('rejects a dim not divisible by 4 and a malformed grid', () => {
    expect(() => sinCos2dPositionEncoding(6, 4)).toThrow(/dim to be divisible by 4 .*got 6/);
    expect(() => sinCos2dPositionEncoding(8, [4, 0])).toThrow(/gridSize\[1\] to be an integer >= 1; got 0/);
  });
});
