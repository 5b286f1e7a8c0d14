import fc from 'fast-check';
import { Generator, loadStateDictFromSafetensors, noGrad, randn, tensor, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { PositionEncodingGenerator, PositionEncodingGenerator1d } from '../src/index.js';
import { expectClose, expectParamGradcheck, golden, goldenBytes, goldenConfig, goldenTensor, weightedSum } from './helpers.js';

function loadParams(conv: { weight: Tensor; bias: Tensor | null }, name: string): void {
  noGrad(() => {
    conv.weight.copy_(goldenTensor(`${name}.weight`));
    conv.bias!.copy_(goldenTensor(`${name}.bias`));
  });
}

function checkGolden(name: string, out: Tensor, x: Tensor, conv: { weight: Tensor; bias: Tensor | null }): void {
  expect(out.shape).toEqual(golden(`${name}.output`).shape);
  expectClose(out.dataSync(), golden(`${name}.output`).data);
  out.mul(goldenTensor(`${name}.cotangent`)).sum().backward();
  expectClose(x.grad!.dataSync(), golden(`${name}.grad_x`).data, {}, 'grad x');
  expectClose(conv.weight.grad!.dataSync(), golden(`${name}.grad_weight`).data, {}, 'grad weight');
  expectClose(conv.bias!.grad!.dataSync(), golden(`${name}.grad_bias`).data, {}, 'grad bias');
}

describe('PositionEncodingGenerator (CPVT PEG, 2-D)', () => {
  for (const name of ['peg2d_k3_cls', 'peg2d_k5']) {
    it(`forward and gradients match PyTorch: ${name}`, () => {
      const c = goldenConfig<{ dim: number; kernel_size: number; grid: [number, number]; num_prefix_tokens: number }>(name);
      const peg = new PositionEncodingGenerator({ dim: c.dim, kernelSize: c.kernel_size, numPrefixTokens: c.num_prefix_tokens });
      loadParams(peg.conv, name);
      const x = goldenTensor(`${name}.x`, { requiresGrad: true });
      checkGolden(name, peg.call(x, { gridSize: c.grid }), x, peg.conv);
    });
  }

  it('loads a CPVT-style state dict (proj.0.weight, proj.0.bias) unchanged', () => {
    const c = goldenConfig<{ dim: number; kernel_size: number; grid: [number, number]; num_prefix_tokens: number }>('peg2d_k3_cls');
    const peg = new PositionEncodingGenerator({ dim: c.dim, numPrefixTokens: 1 });
    expect([...peg.stateDict().keys()]).toEqual(['proj.0.weight', 'proj.0.bias']);
    const r = loadStateDictFromSafetensors(peg, goldenBytes('peg-state-dict.safetensors'));
    expect([r.missingKeys, r.unexpectedKeys]).toEqual([[], []]);
    expectClose(peg.call(goldenTensor('peg2d_k3_cls.x'), { gridSize: c.grid }).dataSync(), golden('peg2d_k3_cls.output').data);
  });

  it('is translation-equivariant away from the borders and runs at unseen resolutions', () => {
    const dim = 2;
    const peg = new PositionEncodingGenerator({ dim, kernelSize: 3, dtype: 'float64', generator: new Generator(1) });
    fc.assert(
      fc.property(fc.integer({ min: 4, max: 9 }), fc.integer({ min: 4, max: 9 }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 2 }), (h, w, dy, dx) => {
        const x = randn([1, h * w, dim], { generator: new Generator(h * 31 + w), dtype: 'float64' });
        const xs = x.dataSync();
        // shifted[r, c] = x[r - dy, c - dx] (zeros where undefined)
        const shifted = new Float64Array(h * w * dim);
        for (let r = dy; r < h; r++) for (let c = dx; c < w; c++) for (let k = 0; k < dim; k++) shifted[(r * w + c) * dim + k] = xs[((r - dy) * w + c - dx) * dim + k];
        const y = peg.call(x, { gridSize: [h, w] }).dataSync();
        const yShift = peg.call(tensor(shifted, { shape: [1, h * w, dim], dtype: 'float64' }), { gridSize: [h, w] }).dataSync();
        // interior: the 3x3 window of (r, c) lies inside the grid in both inputs
        for (let r = dy + 1; r < h - 1; r++) {
          for (let c = dx + 1; c < w - 1; c++) {
            for (let k = 0; k < dim; k++) expect(yShift[(r * w + c) * dim + k]).toBeCloseTo(y[((r - dy) * w + c - dx) * dim + k], 12);
          }
        }
      }),
      { seed: 42, numRuns: 30 },
    );
  });

  it('gradcheck (float64) of the conv weight and bias', () => {
    const peg = new PositionEncodingGenerator({ dim: 2, numPrefixTokens: 1, dtype: 'float64', generator: new Generator(3) });
    const x = randn([2, 1 + 12, 2], { generator: new Generator(4), dtype: 'float64' });
    expectParamGradcheck(peg, peg.conv.weight, () => weightedSum(peg.call(x, { gridSize: [3, 4] })));
    expectParamGradcheck(peg, peg.conv.bias!, () => weightedSum(peg.call(x, { gridSize: [3, 4] })));
  });

  it('passes prefix tokens through unchanged', () => {
    const peg = new PositionEncodingGenerator({ dim: 3, numPrefixTokens: 2 });
    const x = randn([1, 2 + 9, 3], { generator: new Generator(8) });
    const y = peg.call(x, { gridSize: 3 });
    expect(Array.from(y.narrow(1, 0, 2).contiguous().dataSync())).toEqual(Array.from(x.narrow(1, 0, 2).contiguous().dataSync()));
  });

  it('rejects token counts that are not prefix + H x W and even kernels', () => {
    const peg = new PositionEncodingGenerator({ dim: 3, numPrefixTokens: 1 });
    expect(() => peg.call(randn([1, 10, 3]), { gridSize: [3, 4] })).toThrow(
      /x of shape \(B, numPrefixTokens \+ H\*W = 1 \+ 3\*4 = 13, C = 3\); got \[1, 10, 3\]/,
    );
    expect(() => new PositionEncodingGenerator({ dim: 3, kernelSize: 4 })).toThrow(/opts.kernelSize to be odd .*got 4/);
    expect(() => new PositionEncodingGenerator({ dim: 3, kernelSize: 1 })).toThrow(/opts.kernelSize to be an integer >= 3; got 1/);
  });
});

describe('PositionEncodingGenerator1d', () => {
  for (const name of ['peg1d_sym', 'peg1d_causal']) {
    it(`forward and gradients match PyTorch: ${name}`, () => {
      const c = goldenConfig<{ dim: number; kernel_size: number; causal: boolean; num_prefix_tokens: number }>(name);
      const peg = new PositionEncodingGenerator1d({ dim: c.dim, kernelSize: c.kernel_size, causal: c.causal, numPrefixTokens: c.num_prefix_tokens });
      const conv = peg.proj.children()[0] as unknown as { weight: Tensor; bias: Tensor | null };
      loadParams(conv, name);
      const x = goldenTensor(`${name}.x`, { requiresGrad: true });
      checkGolden(name, peg.call(x), x, conv);
    });
  }

  it('causal padding never lets a token see the future', () => {
    const peg = new PositionEncodingGenerator1d({ dim: 2, kernelSize: 3, causal: true, dtype: 'float64', generator: new Generator(2) });
    const x = randn([1, 8, 2], { generator: new Generator(5), dtype: 'float64' });
    const y = peg.call(x).dataSync();
    // change only the last 3 tokens: outputs of the first 5 must not move
    const x2 = x.add(randn([1, 8, 2], { generator: new Generator(6), dtype: 'float64' }).mul(maskAfter(5, 8, 2, x)));
    const y2 = peg.call(x2).dataSync();
    for (let i = 0; i < 5 * 2; i++) expect(y2[i]).toBe(y[i]);
    expect(Array.from(y2.slice(10))).not.toEqual(Array.from(y.slice(10)));
  });

  it('rejects even kernels without causal padding', () => {
    expect(() => new PositionEncodingGenerator1d({ dim: 2, kernelSize: 4 })).toThrow(/odd opts.kernelSize .*got 4/);
  });
});

function maskAfter(start: number, t: number, c: number, like: Tensor): Tensor {
  const m = new Float64Array(t * c);
  for (let i = start * c; i < t * c; i++) m[i] = 1;
  return tensor(m, { shape: [1, t, c], dtype: 'float64', backend: like.backend });
}
