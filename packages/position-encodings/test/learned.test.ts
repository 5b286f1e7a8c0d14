import { Generator, gradcheck, noGrad, randn, tensor, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { LearnedPositionalEmbedding, LearnedPositionalEmbedding2d, resampleAbsPosEmbed } from '../src/index.js';
import { expectClose, expectParamGradcheck, golden, goldenConfig, goldenTensor, weightedSum } from './helpers.js';

describe('LearnedPositionalEmbedding (1-D)', () => {
  it('forward and gradients match PyTorch (x + weight[offset : offset + T])', () => {
    const c = goldenConfig<{ num_positions: number; dim: number; offset: number }>('learned1d');
    const m = new LearnedPositionalEmbedding({ numPositions: c.num_positions, dim: c.dim });
    noGrad(() => m.weight.copy_(goldenTensor('learned1d.weight')));
    const x = goldenTensor('learned1d.x', { requiresGrad: true });
    const out = m.call(x, { offset: c.offset });
    expectClose(out.dataSync(), golden('learned1d.output').data);
    out.mul(goldenTensor('learned1d.cotangent')).sum().backward();
    expectClose(x.grad!.dataSync(), golden('learned1d.grad_x').data, {}, 'grad x');
    expectClose(m.weight.grad!.dataSync(), golden('learned1d.grad_weight').data, {}, 'grad weight');
  });

  it('is trainable: state dict key, truncated-normal init, float64 gradcheck', () => {
    const m = new LearnedPositionalEmbedding({ numPositions: 6, dim: 3, dtype: 'float64', generator: new Generator(2) });
    expect([...m.stateDict().keys()]).toEqual(['weight']);
    const w = m.weight.dataSync();
    for (const v of w) expect(Math.abs(v)).toBeLessThanOrEqual(2); // timm truncates at absolute [-2, 2]
    expect(Math.max(...Array.from(w, Math.abs))).toBeGreaterThan(0);
    const x = randn([2, 4, 3], { generator: new Generator(3), dtype: 'float64' });
    expectParamGradcheck(m, m.weight, () => weightedSum(m.call(x, { offset: 1 })));
  });

  it('rejects sequences past the table and wrong feature sizes', () => {
    const m = new LearnedPositionalEmbedding({ numPositions: 4, dim: 2 });
    expect(() => m.call(tensor(new Float32Array(10), { shape: [1, 5, 2] }))).toThrow(
      /offset \+ T \(=0 \+ 5\) <= numPositions \(=4\); a learned table cannot extrapolate/,
    );
    expect(() => m.call(tensor(new Float32Array(6), { shape: [1, 2, 3] }))).toThrow(/expected x of shape \(\.\.\., T, 2\); got \[1, 2, 3\]/);
  });
});

describe('resampleAbsPosEmbed (timm) and LearnedPositionalEmbedding2d (ViT)', () => {
  for (const name of ['up_aa', 'up_plain', 'down_aa', 'down_plain']) {
    it(`bicubic resampling and its gradient match torch interpolate: ${name}`, () => {
      const c = goldenConfig<{ old_size: [number, number]; new_size: [number, number]; num_prefix_tokens: number; antialias: boolean }>(
        `resample_${name}`,
      );
      const pe = goldenTensor(`resample_${name}.pos_embed`, { requiresGrad: true });
      const out = resampleAbsPosEmbed(pe, { oldSize: c.old_size, newSize: c.new_size, numPrefixTokens: c.num_prefix_tokens, antialias: c.antialias });
      expect(out.shape).toEqual(golden(`resample_${name}.output`).shape);
      expectClose(out.dataSync(), golden(`resample_${name}.output`).data);
      out.mul(goldenTensor(`resample_${name}.cotangent`)).sum().backward();
      expectClose(pe.grad!.dataSync(), golden(`resample_${name}.grad_pos_embed`).data, {}, 'grad pos_embed');
    });
  }

  it('is the identity when the sizes match, and leaves prefix tokens untouched', () => {
    const pe = randn([1, 2 + 12, 4], { generator: new Generator(9) });
    expect(resampleAbsPosEmbed(pe, { oldSize: [3, 4], newSize: [3, 4], numPrefixTokens: 2 })).toBe(pe);
    const up = resampleAbsPosEmbed(pe, { oldSize: [3, 4], newSize: [5, 5], numPrefixTokens: 2 });
    expect(up.shape).toEqual([1, 27, 4]);
    expect(Array.from(up.narrow(1, 0, 2).contiguous().dataSync())).toEqual(Array.from(pe.narrow(1, 0, 2).contiguous().dataSync()));
  });

  it('gradcheck (float64) of resampling, with and without antialias', () => {
    const pe = randn([1, 1 + 6, 2], { generator: new Generator(4), dtype: 'float64' });
    for (const antialias of [true, false]) {
      const r = gradcheck((p: Tensor) => resampleAbsPosEmbed(p, { oldSize: [2, 3], newSize: [3, 2], antialias }), [pe]);
      expect(r.failures).toEqual([]);
      expect(r.ok).toBe(true);
    }
  });

  it('the 2-D module uses timm names, adds its table, resamples on request and is trainable', () => {
    const m = new LearnedPositionalEmbedding2d({ gridSize: [2, 3], dim: 4, dtype: 'float64', generator: new Generator(1) });
    expect([...m.stateDict().keys()]).toEqual(['pos_embed']);
    expect(m.posEmbed.shape).toEqual([1, 7, 4]);
    const x = randn([2, 7, 4], { generator: new Generator(2), dtype: 'float64' });
    const y = m.call(x);
    const xs = x.dataSync();
    const ps = m.posEmbed.dataSync();
    y.dataSync().forEach((v, i) => expect(v).toBeCloseTo(xs[i] + ps[i % 28], 12));
    const x2 = randn([1, 1 + 12, 4], { generator: new Generator(3), dtype: 'float64' });
    expect(m.call(x2, { gridSize: [3, 4] }).shape).toEqual([1, 13, 4]);
    expectParamGradcheck(m, m.posEmbed, () => weightedSum(m.call(x2, { gridSize: [3, 4] })));
  });

  it('rejects a token count that is not prefix + H x W, with a hint to pass the grid', () => {
    const m = new LearnedPositionalEmbedding2d({ gridSize: 2, dim: 4 });
    expect(() => m.call(tensor(new Float32Array(40), { shape: [1, 10, 4] }))).toThrow(
      /numPrefixTokens \+ H\*W = 1 \+ 2\*2 = 5, 4\); got \[1, 10, 4\]; pass opts.gridSize/,
    );
    expect(() => resampleAbsPosEmbed(tensor(new Float32Array(8), { shape: [1, 4, 2] }), { oldSize: 2, newSize: 3 })).toThrow(
      /posEmbed of shape \(1, numPrefixTokens \+ H\*W = 1 \+ 2\*2, D\); got \[1, 4, 2\]/,
    );
  });
});
