/**
 * Float64 central-difference gradient checks (eps 1e-6) for every differentiable op, on the reference backend.
 * One table: each row builds its inputs and the function of them to check.
 */
import { describe, expect, it } from 'vitest';
import {
  F, Generator, Tensor, abs, add, amax, amin, assertGradcheck, atan2, bmm, cat, chunk, clamp, clone, complex, conv1d, conv2d,
  cos, cumsum, div, dropout, elu, embedding, erf, exp, expand, expm1, fft, flatten, flip, gather, gelu, ifft, indexSelect,
  interpolate, irfft, layerNorm, leakyRelu, linear, linearRecurrence, log, log1p, logSigmoid, logSoftmax, logsumexp, maskedFill,
  matmul, maxDim, maximum, mean, minDim, minimum, movedim, mul, narrow, neg, norm, outer, pad, permute, pow, reciprocal, relu,
  repeat, reshape, rfft, rmsNorm, roll, rsqrt, scatterAdd, select, sigmoid, silu, sin, slice, softmax, softplus, split, sqrt,
  square, squeeze, stack, std, sub, sum, tanh, tensor, transpose, tril, triu, unsqueeze, variance, where, ComplexTensor,
} from '../src/index.js';

const gen = new Generator(7);
function r(shape: number[], opts: { positive?: boolean; awayFromZero?: boolean } = {}): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = gen.nextNormal();
    if (opts.positive) v = Math.abs(v) + 0.5;
    if (opts.awayFromZero) v = Math.sign(v || 1) * (Math.abs(v) + 0.2);
    data[i] = v;
  }
  return tensor(data, { shape, dtype: 'float64', backend: 'reference' });
}
function ints(values: number[], shape?: number[]): Tensor {
  return tensor(Int32Array.from(values), { shape: shape ?? [values.length], backend: 'reference' });
}
/** Distinct values (no ties), for max/min style ops. */
function distinct(shape: number[]): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const perm = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = gen.nextInt(0, i + 1);
    [perm[i], perm[j]] = [perm[j], perm[i]];
  }
  return tensor(Float64Array.from(perm, (v) => v * 0.37 - n * 0.1), { shape, dtype: 'float64', backend: 'reference' });
}

type Case = [string, (...xs: Tensor[]) => Tensor | Tensor[] | ComplexTensor, () => Tensor[]];
const cases: Case[] = [
  // elementwise binary with broadcasting
  ['add broadcast', (a, b) => add(a, b, { alpha: 0.5 }), () => [r([2, 3]), r([3])]],
  ['sub broadcast', (a, b) => sub(a, b), () => [r([2, 1, 3]), r([4, 1])]],
  ['mul broadcast', (a, b) => mul(a, b), () => [r([2, 3]), r([2, 1])]],
  ['mul scalar', (a) => mul(a, 3), () => [r([4])]],
  ['div broadcast', (a, b) => div(a, b), () => [r([2, 3]), r([3], { awayFromZero: true })]],
  ['pow tensor exponent', (a, b) => pow(a, b), () => [r([2, 3], { positive: true }), r([3])]],
  ['pow scalar exponent', (a) => pow(a, 3), () => [r([5])]],
  ['maximum', (a, b) => maximum(a, b), () => [r([3, 4]), r([4])]],
  ['minimum', (a, b) => minimum(a, b), () => [r([3, 4]), r([3, 1])]],
  ['atan2', (a, b) => atan2(a, b), () => [r([6]), r([6], { awayFromZero: true })]],
  // elementwise unary
  ['neg', (a) => neg(a), () => [r([3])]],
  ['abs', (a) => abs(a), () => [r([6], { awayFromZero: true })]],
  ['exp', (a) => exp(a), () => [r([2, 3])]],
  ['expm1', (a) => expm1(a), () => [r([5])]],
  ['log', (a) => log(a), () => [r([5], { positive: true })]],
  ['log1p', (a) => log1p(a), () => [r([5], { positive: true })]],
  ['sqrt', (a) => sqrt(a), () => [r([5], { positive: true })]],
  ['rsqrt', (a) => rsqrt(a), () => [r([5], { positive: true })]],
  ['reciprocal', (a) => reciprocal(a), () => [r([5], { awayFromZero: true })]],
  ['square', (a) => square(a), () => [r([5])]],
  ['sin', (a) => sin(a), () => [r([5])]],
  ['cos', (a) => cos(a), () => [r([5])]],
  ['tanh', (a) => tanh(a), () => [r([5])]],
  ['sigmoid', (a) => sigmoid(a), () => [r([5])]],
  ['erf', (a) => erf(a), () => [r([5])]],
  ['relu', (a) => relu(a), () => [r([8], { awayFromZero: true })]],
  ['gelu exact', (a) => gelu(a), () => [r([8])]],
  ['gelu tanh', (a) => gelu(a, { approximate: 'tanh' }), () => [r([8])]],
  ['silu', (a) => silu(a), () => [r([8])]],
  ['elu', (a) => elu(a, { alpha: 1.3 }), () => [r([8], { awayFromZero: true })]],
  ['elu (alpha 1, one kernel)', (a) => elu(a), () => [r([8], { awayFromZero: true })]],
  ['softplus beta 2', (a) => softplus(a, { beta: 2, threshold: 3 }), () => [tensor([-3, -0.5, 0.2, 1.0, 2.0], { dtype: 'float64', backend: 'reference' })]],
  ['leakyRelu', (a) => leakyRelu(a, { negativeSlope: 0.1 }), () => [r([8], { awayFromZero: true })]],
  ['logSigmoid', (a) => logSigmoid(a), () => [r([8])]],
  ['clamp', (a) => clamp(a, -0.5, 0.7), () => [tensor([-2, -0.3, 0.1, 0.6, 1.5], { dtype: 'float64', backend: 'reference' })]],
  ['where', (a, b) => where(ints([1, 0, 1], [3]), a, b), () => [r([2, 3]), r([3])]],
  ['maskedFill', (a) => maskedFill(a, ints([0, 1, 0], [3]), -1), () => [r([2, 3])]],
  // reductions
  ['sum all', (a) => sum(a), () => [r([2, 3])]],
  ['sum dims keepdim', (a) => sum(a, { dim: [0, 2], keepdim: true }), () => [r([2, 3, 4])]],
  ['mean dim', (a) => mean(a, 1), () => [r([2, 3, 4])]],
  ['var correction 0', (a) => variance(a, { dim: -1, correction: 0 }), () => [r([3, 5])]],
  ['var all unbiased', (a) => variance(a), () => [r([3, 5])]],
  ['std dim', (a) => std(a, 0, true), () => [r([4, 3])]],
  ['amax dim', (a) => amax(a, 1), () => [distinct([3, 4])]],
  ['amin all', (a) => amin(a), () => [distinct([3, 4])]],
  ['max with indices', (a) => maxDim(a, 0).values, () => [distinct([3, 4])]],
  ['min with indices keepdim', (a) => minDim(a, 1, true).values, () => [distinct([3, 4])]],
  ['logsumexp', (a) => logsumexp(a, [0, 1]), () => [r([2, 3, 2])]],
  ['norm p=2', (a) => norm(a, { dim: 1 }), () => [r([3, 4])]],
  ['norm p=3', (a) => norm(a, { p: 3 }), () => [r([5], { awayFromZero: true })]],
  ['norm p=inf', (a) => norm(a, { p: Infinity, dim: 0 }), () => [distinct([4, 2])]],
  // linear algebra
  ['matmul 2d', (a, b) => matmul(a, b), () => [r([3, 4]), r([4, 2])]],
  ['matmul dot', (a, b) => matmul(a, b), () => [r([4]), r([4])]],
  ['matmul vec-mat', (a, b) => matmul(a, b), () => [r([4]), r([2, 4, 3])]],
  ['matmul mat-vec', (a, b) => matmul(a, b), () => [r([2, 3, 4]), r([4])]],
  ['matmul batch broadcast', (a, b) => matmul(a, b), () => [r([2, 1, 3, 4]), r([3, 4, 2])]],
  ['matmul transposed views', (a, b) => matmul(transpose(a, -1, -2), transpose(b, -1, -2)), () => [r([2, 4, 3]), r([2, 5, 4])]],
  ['bmm', (a, b) => bmm(a, b), () => [r([2, 3, 4]), r([2, 4, 5])]],
  ['linear', (x, w, b) => linear(x, w, b), () => [r([2, 3, 4]), r([5, 4]), r([5])]],
  ['outer', (a, b) => outer(a, b), () => [r([3]), r([4])]],
  ['softmax', (a) => softmax(a, 1), () => [r([2, 4, 3])]],
  ['logSoftmax', (a) => logSoftmax(a, -1), () => [r([3, 5])]],
  // views
  ['reshape', (a) => reshape(a, [3, -1]), () => [r([2, 3, 2])]],
  ['reshape of a transposed view', (a) => reshape(transpose(a, 0, 1), [6]), () => [r([2, 3])]],
  ['permute', (a) => permute(a, [2, 0, 1]), () => [r([2, 3, 4])]],
  ['slice with step', (a) => slice(a, 1, 1, 6, 2), () => [r([2, 7])]],
  ['narrow', (a) => narrow(a, 0, 1, 2), () => [r([4, 2])]],
  ['select', (a) => select(a, 1, -1), () => [r([2, 3])]],
  ['expand', (a) => expand(a, [2, 3, 4]), () => [r([3, 1])]],
  ['unsqueeze/squeeze', (a) => squeeze(unsqueeze(a, 1)), () => [r([3, 1, 2])]],
  ['flatten', (a) => flatten(a, 1), () => [r([2, 3, 2])]],
  ['flip', (a) => flip(a, [0, 2]), () => [r([2, 3, 2])]],
  ['movedim', (a) => movedim(a, 0, 2), () => [r([2, 3, 2])]],
  ['clone', (a) => clone(a), () => [r([3])]],
  ['repeat', (a) => repeat(a, [2, 1, 3]), () => [r([2, 2])]],
  // joining
  ['cat', (a, b) => cat([a, b], 1), () => [r([2, 3]), r([2, 2])]],
  ['stack', (a, b) => stack([a, b], -1), () => [r([2, 3]), r([2, 3])]],
  ['split', (a) => split(a, [1, 3], 1)[1], () => [r([2, 4])]],
  ['chunk', (a) => chunk(a, 3, 0)[2], () => [r([7, 2])]],
  ['roll', (a) => roll(a, [1, -2], [0, 1]), () => [r([3, 4])]],
  ['roll flat', (a) => roll(a, 5), () => [r([3, 4])]],
  ['pad constant (with crop)', (a) => pad(a, [1, -1, 2, 0], { value: 0.5 }), () => [r([2, 3, 4])]],
  ['pad reflect', (a) => pad(a, [2, 1, 1, 2], { mode: 'reflect' }), () => [r([1, 3, 4])]],
  ['pad replicate', (a) => pad(a, [3, 1], { mode: 'replicate' }), () => [r([2, 3])]],
  ['pad circular', (a) => pad(a, [2, 3], { mode: 'circular' }), () => [r([2, 4])]],
  ['triu', (a) => triu(a, 1), () => [r([2, 3, 4])]],
  ['tril', (a) => tril(a, -1), () => [r([4, 3])]],
  // scans and indexing
  ['cumsum', (a) => cumsum(a, 1), () => [r([2, 4, 2])]],
  ['cumsum reverse', (a) => cumsum(a, 0, { reverse: true }), () => [r([4, 2])]],
  ['linearRecurrence', (a, b) => linearRecurrence(a, b, { dim: 1 }), () => [r([2, 5, 3]), r([2, 5, 3])]],
  ['linearRecurrence h0 reverse', (a, b, h) => linearRecurrence(a, b, { dim: 0, h0: h, reverse: true }), () => [r([4, 3]), r([4, 3]), r([3])]],
  ['gather', (a) => gather(a, 1, ints([2, 0, 0, 1, 1, 2], [2, 3])), () => [r([3, 4])]],
  ['scatterAdd', (a, s) => scatterAdd(a, 0, ints([0, 2, 2, 1, 0, 0], [2, 3]), s), () => [r([3, 3]), r([2, 3])]],
  ['indexSelect', (a) => indexSelect(a, 1, ints([3, 0, 3])), () => [r([2, 4])]],
  ['embedding', (w) => embedding(ints([1, 2, 0, 1], [2, 2]), w), () => [r([3, 4])]],
  // paddingIdx deliberately zeroes a true gradient (torch semantics), so only the other rows are checked here.
  ['embedding with paddingIdx', (w) => embedding(ints([1, 2, 2, 1], [2, 2]), w, { paddingIdx: 0 }), () => [r([3, 4])]],
  // normalisation
  ['layerNorm affine', (x, w, b) => layerNorm(x, [4], { weight: w, bias: b }), () => [r([3, 4]), r([4]), r([4])]],
  ['layerNorm 2-d shape, no affine', (x) => layerNorm(x, [2, 3]), () => [r([2, 2, 3])]],
  ['rmsNorm', (x, w) => rmsNorm(x, 4, { weight: w, eps: 1e-6 }), () => [r([3, 4]), r([4])]],
  // convolution
  ['conv2d', (x, w, b) => conv2d(x, w, b), () => [r([2, 2, 5, 4]), r([3, 2, 3, 2]), r([3])]],
  ['conv2d stride/pad/dilation', (x, w) => conv2d(x, w, null, { stride: [2, 1], padding: [1, 2], dilation: [1, 2] }), () => [r([1, 2, 6, 5]), r([2, 2, 3, 2])]],
  ['conv2d groups', (x, w) => conv2d(x, w, null, { groups: 2, padding: 1 }), () => [r([1, 4, 4, 4]), r([6, 2, 3, 3])]],
  ['conv2d same (even kernel)', (x, w) => conv2d(x, w, null, { padding: 'same' }), () => [r([1, 1, 4, 5]), r([2, 1, 2, 4])]],
  ['conv2d unbatched', (x, w) => conv2d(x, w), () => [r([2, 4, 4]), r([1, 2, 2, 2])]],
  ['conv1d', (x, w, b) => conv1d(x, w, b, { stride: 2, padding: 1, dilation: 2 }), () => [r([2, 2, 9]), r([3, 2, 3]), r([3])]],
  ['conv1d same groups', (x, w) => conv1d(x, w, null, { padding: 'same', groups: 2 }), () => [r([1, 4, 7]), r([4, 2, 4])]],
  // resampling, dropout
  ['interpolate bilinear', (x) => interpolate(x, { size: [5, 3], mode: 'bilinear' }), () => [r([1, 2, 3, 4])]],
  ['interpolate bicubic antialias', (x) => interpolate(x, { scaleFactor: 0.5, mode: 'bicubic', antialias: true }), () => [r([1, 1, 6, 8])]],
  ['interpolate nearest', (x) => interpolate(x, { scaleFactor: 2.5 }), () => [r([1, 2, 3])]],
  ['dropout (fixed generator)', (x) => dropout(x, { p: 0.3, generator: new Generator(3) }), () => [r([4, 5])]],
  // spectral and complex
  ['fft', (re, im) => fft(complex(re, im)), () => [r([2, 6]), r([2, 6])]],
  ['fft dim 0 with n', (x) => fft(x, { dim: 0, n: 5, norm: 'ortho' }), () => [r([4, 2])]],
  ['ifft', (re, im) => ifft(complex(re, im), { norm: 'forward' }), () => [r([8]), r([8])]],
  ['rfft', (x) => rfft(x), () => [r([2, 7])]],
  ['irfft even n', (re, im) => irfft(complex(re, im), { n: 8 }), () => [r([5]), r([5])]],
  ['irfft odd n', (re, im) => irfft(complex(re, im), { n: 7 }), () => [r([2, 4]), r([2, 4])]],
  ['complex mul/div/exp', (a, b, c, d) => complex(a, b).mul(complex(c, d)).div(complex(c, a)).exp(), () => [r([3]), r([3]), r([3], { awayFromZero: true }), r([3])]],
  ['complex abs, matmul', (a, b, c, d) => complex(a, b).matmul(complex(c, d)).abs(), () => [r([2, 3]), r([2, 3]), r([3, 2]), r([3, 2])]],
  ['composite: attention-like', (q, k, v) => matmul(softmax(div(matmul(q, transpose(k, -1, -2)), 2), -1), v), () => [r([2, 3, 4]), r([2, 5, 4]), r([2, 5, 4])]],
];

describe('gradcheck (float64, central differences) for every differentiable op', () => {
  for (const [name, fn, make] of cases) {
    it(name, () => {
      const res = assertGradcheck(fn as never, make());
      expect(res.ok).toBe(true);
    });
  }

  it('detects a wrong gradient', async () => {
    const { record1 } = await import('../src/index.js');
    const bad = (x: Tensor) => {
      const y = tensor(x.dataSync().map((v) => v * v), { shape: x.shape, dtype: 'float64', backend: 'reference' });
      return record1('Bad', [x], y, (g) => [mul(g, x)]); // true gradient is 2 x g
    };
    const { gradcheck } = await import('../src/index.js');
    const res = gradcheck(bad, [r([4])]);
    expect(res.ok).toBe(false);
    expect(res.maxAbsErr).toBeGreaterThan(1e-3);
    expect(() => assertGradcheck(bad, [r([4])])).toThrow(/gradcheck failed/);
  });

  it('every F entry that is differentiable appears in the table', () => {
    const names = cases.map((c) => c[0].toLowerCase()).join(' ');
    const skip = new Set(['matmul', 'split', 'chunk', 'where', 'scatteradd', 'flip', 'roll', 'repeat', 'tanh', 'sigmoid', 'relu', 'softmax']);
    for (const k of Object.keys(F)) {
      if (skip.has(k.toLowerCase())) continue;
      expect(names, `missing gradcheck for F.${k}`).toContain(k.toLowerCase());
    }
  });
});
