/** Layer checks: float64 gradchecks, DropPath and LayerScale semantics, and the errors at the public boundary. */
import { assertGradcheck, functionalCall, Generator, randn, tensor, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { Block, DropPath, LayerScale, PatchEmbed, VisionTransformer } from '../src/index.js';

const f64 = { dtype: 'float64', backend: 'reference' } as const;

describe('float64 gradcheck', () => {
  it('PatchEmbed: input, conv weight and bias', () => {
    const pe = new PatchEmbed({ patchSize: 2, inChans: 2, embedDim: 3, ...f64, generator: new Generator(1) });
    const x = randn([1, 2, 4, 6], { ...f64, generator: new Generator(2) });
    assertGradcheck((x: Tensor, w: Tensor, b: Tensor) => functionalCall(pe, { 'proj.weight': w, 'proj.bias': b }, x).tokens, [x, pe.proj.weight, pe.proj.bias!], { seed: 1 });
  });

  it('PatchEmbed with dynamicImgPad (the zero padding is differentiable too)', () => {
    const pe = new PatchEmbed({ patchSize: 2, inChans: 1, embedDim: 2, dynamicImgPad: true, ...f64, generator: new Generator(3) });
    const x = randn([1, 1, 3, 5], { ...f64, generator: new Generator(4) });
    assertGradcheck((x: Tensor) => pe.forward(x).tokens, [x], { seed: 2 });
  });

  it('one Block (pre-norm MHSA + GELU MLP + LayerScale): input and every parameter', () => {
    const blk = new Block({ dim: 8, numHeads: 2, mlpRatio: 2, initValues: 0.3, ...f64, generator: new Generator(5) });
    const x = randn([2, 5, 8], { ...f64, generator: new Generator(6) });
    const names = blk.namedParameters().map(([n]) => n);
    const params = blk.namedParameters().map(([, p]) => p);
    assertGradcheck(
      (x: Tensor, ...ps: Tensor[]) => functionalCall(blk, Object.fromEntries(names.map((n, i) => [n, ps[i]])), x, { gridSize: [2, 2], numPrefixTokens: 1 }),
      [x, ...params],
      { seed: 3 },
    );
  });
});

describe('DropPath and LayerScale', () => {
  it('DropPath zeroes whole samples with probability p, scales the rest by 1/(1-p), and is the identity in eval', () => {
    const dp = new DropPath({ p: 0.5, generator: new Generator(7) });
    const x = randn([64, 3, 2], { generator: new Generator(8) });
    const y = dp.call(x).dataSync();
    const xs = x.dataSync();
    let dropped = 0;
    for (let b = 0; b < 64; b++) {
      const ratios = new Set<number>();
      for (let i = 0; i < 6; i++) ratios.add(Math.round((y[b * 6 + i] / xs[b * 6 + i]) * 1e4) / 1e4);
      expect(ratios.size).toBe(1); // one decision per sample
      const r = [...ratios][0];
      expect([0, 2]).toContain(r);
      if (r === 0) dropped++;
    }
    expect(dropped).toBeGreaterThan(16);
    expect(dropped).toBeLessThan(48);
    dp.eval();
    expect(Array.from(dp.call(x).dataSync())).toEqual(Array.from(xs));
  });

  it('LayerScale multiplies by gamma (init 1e-5 by default)', () => {
    const ls = new LayerScale({ dim: 3 });
    expect(Array.from(ls.gamma.dataSync()).map((v) => v.toPrecision(3))).toEqual(['0.00001', '0.00001', '0.00001'].map((s) => Number(s).toPrecision(3)));
    const x = tensor([[1, 2, 3]]);
    expect(Array.from(new LayerScale({ dim: 3, initValues: 2 }).call(x).dataSync())).toEqual([2, 4, 6]);
  });
});

describe('errors at the public boundary', () => {
  const base = { imgSize: 16, patchSize: 4, embedDim: 16, depth: 2, numHeads: 2, numClasses: 3 } as const;

  it('rejects an image whose size the patch does not divide, naming both', () => {
    const m = new VisionTransformer(base);
    expect(() => m.call(randn([1, 3, 18, 16]))).toThrow(/divisible by the patch size 4; got 18 x 16/);
  });

  it('rejects wrong ranks and channel counts', () => {
    const m = new VisionTransformer(base);
    expect(() => m.call(randn([3, 16, 16]))).toThrow(/expected x of shape \(B, C, H, W\); got \[3, 16, 16\]/);
    expect(() => m.call(randn([1, 1, 16, 16]))).toThrow(/expected x of shape \(B, C = 3, H, W\); got \[1, 1, 16, 16\]/);
  });

  it('rejects inconsistent options', () => {
    expect(() => new VisionTransformer({ ...base, numHeads: 3 })).toThrow(/embedDim \(16\) to be divisible by opts.numHeads \(3\)/);
    expect(() => new VisionTransformer({ ...base, classToken: false })).toThrow(/globalPool 'token' needs a class token/);
    expect(() => new VisionTransformer({ ...base, posEncoding: 'alibi' as never })).toThrow(/posEncoding.type to be one of 'none', 'learned'.*got "alibi"/);
    expect(() => new VisionTransformer({ ...base, posEncoding: { type: 'peg', positions: [2] } })).toThrow(/positions\[0\] < depth \(2\); got 2/);
    expect(() => new VisionTransformer({ ...base, posEncoding: { type: 'peg', positions: [] } })).toThrow(/non-empty array/);
    expect(() => new VisionTransformer({ ...base, globalPool: 'mean' as never })).toThrow(/globalPool to be one of/);
    expect(() => new VisionTransformer({ ...base, imgSize: 18 })).toThrow(/divisible by the patch size 4/);
    expect(() => new VisionTransformer({ ...base, dropPathRate: 1.5 })).toThrow(/dropPathRate/);
    expect(() => new VisionTransformer({ ...base, attention: 42 as never })).toThrow(/opts.attention/);
    expect(() => new VisionTransformer({ ...base, attention: { type: 'nope' } as never })).toThrow(/config.type one of/);
  });

  it('sincos2d and rope2d need a head dim / width divisible by 4 and say so', () => {
    expect(() => new VisionTransformer({ ...base, embedDim: 18, numHeads: 3, posEncoding: 'rope2d' })).toThrow(/divisible by 4/);
    expect(() => new VisionTransformer({ ...base, embedDim: 18, numHeads: 2, posEncoding: 'sincos2d' })).toThrow(/'sincos2d' needs opts.embedDim divisible by 4 .*; got 18/);
  });
});

describe('PatchEmbed', () => {
  it('equals the conv with kernel = stride = P (torch nn.Conv2d semantics), values and gradients', () => {
    const pe = new PatchEmbed({ patchSize: 4, inChans: 3, embedDim: 5, ...f64, generator: new Generator(20) });
    const x = randn([2, 3, 8, 12], { ...f64, generator: new Generator(21) }).requiresGrad_(true);
    const { tokens, gridSize } = pe.forward(x);
    expect(gridSize).toEqual([2, 3]);
    const viaConv = pe.proj.call(x).flatten(2).transpose(1, 2); // (B, N, D)
    const a = tokens.dataSync();
    const b = viaConv.contiguous().dataSync();
    for (let i = 0; i < b.length; i++) expect(a[i]).toBeCloseTo(b[i], 12);
  });
});
