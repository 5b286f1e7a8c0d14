import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { full, rand, randn, tensor, zeros } from '../src/creation.js';
import { assertGradcheck } from '../src/gradcheck.js';
import { Generator } from '../src/random.js';
import {
  BCEWithLogitsLoss,
  binaryCrossEntropyWithLogits,
  crossEntropy,
  CrossEntropyLoss,
  MSELoss,
  mseLoss,
} from '../src/losses/index.js';

const gen = (s: number) => new Generator(s);

// gradcheck evaluates on the reference backend in float64, so tensors closed over by the checked functions live there.
describe('float64 gradient checks of the losses', () => {
  it('crossEntropy with weights, ignoreIndex and label smoothing, every reduction', () => {
    const target = tensor([0, 3, -100, 2, 1], { dtype: 'int32', backend: 'reference' });
    const weight = tensor([0.5, 1.5, 1, 2], { dtype: 'float64', backend: 'reference' });
    for (const reduction of ['mean', 'sum', 'none'] as const) {
      assertGradcheck((x, w) => crossEntropy(x, target, { weight: w, labelSmoothing: 0.1, reduction }), [randn([5, 4], { generator: gen(1), dtype: 'float64' }), weight]);
    }
  });
  it('crossEntropy, spatial and with probability targets', () => {
    const t = tensor([[[0, 2], [1, 1]]], { dtype: 'int32', backend: 'reference' });
    assertGradcheck((x) => crossEntropy(x, t, { labelSmoothing: 0.3 }), [randn([1, 3, 2, 2], { generator: gen(2), dtype: 'float64' })]);
    const p = randn([3, 4], { generator: gen(3), dtype: 'float64', backend: 'reference' }).softmax(1);
    assertGradcheck((x, q) => crossEntropy(x, q, { labelSmoothing: 0.2 }), [randn([3, 4], { generator: gen(4), dtype: 'float64' }), p]);
  });
  it('binaryCrossEntropyWithLogits with posWeight and weight', () => {
    const y = rand([3, 4], { generator: gen(5), dtype: 'float64', backend: 'reference' });
    const pw = tensor([0.5, 1, 2, 3], { dtype: 'float64', backend: 'reference' });
    assertGradcheck((x, t, p) => binaryCrossEntropyWithLogits(x, t, { posWeight: p, reduction: 'sum' }), [randn([3, 4], { generator: gen(6), dtype: 'float64' }).mul(3), y, pw]);
    assertGradcheck((x) => binaryCrossEntropyWithLogits(x, y, { weight: tensor([[1], [2], [0.5]], { dtype: 'float64', backend: 'reference' }) }), [randn([3, 4], { generator: gen(7), dtype: 'float64' })]);
  });
  it('mseLoss', () => {
    assertGradcheck((x, t) => mseLoss(x, t, { reduction: 'none' }), [randn([2, 3], { generator: gen(8), dtype: 'float64' }), randn([2, 3], { generator: gen(9), dtype: 'float64' })]);
  });
});

describe('loss properties', () => {
  it('crossEntropy of equal logits is log C, whatever the target and smoothing', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 12 }), fc.integer({ min: 1, max: 5 }), fc.double({ min: -50, max: 50, noNaN: true }), fc.double({ min: 0, max: 1, noNaN: true }), (C, N, v, s) => {
        const logits = full([N, C], v, { dtype: 'float64' });
        const target = tensor(Array.from({ length: N }, (_, i) => i % C), { dtype: 'int32' });
        expect(crossEntropy(logits, target, { labelSmoothing: s }).item()).toBeCloseTo(Math.log(C), 12);
      }),
      { seed: 42, numRuns: 60 },
    );
  });

  it('index targets equal their one-hot probability form (with smoothing and weights)', () => {
    const x = randn([6, 5], { generator: gen(10), dtype: 'float64' });
    const idx = [4, 0, 2, 2, 1, 3];
    const oneHot = tensor(idx.map((c) => Array.from({ length: 5 }, (_, j) => (j === c ? 1 : 0))), { dtype: 'float64' });
    const t = tensor(idx, { dtype: 'int32' });
    for (const reduction of ['sum', 'none'] as const) {
      const a = crossEntropy(x, t, { labelSmoothing: 0.1, reduction }).dataSync();
      const b = crossEntropy(x, oneHot, { labelSmoothing: 0.1, reduction }).dataSync();
      Array.from(a).forEach((v, i) => expect(v).toBeCloseTo(b[i], 12));
    }
  });

  it('a batch with every target ignored gives 0 and zero gradients (torch gives NaN)', () => {
    const x = randn([3, 4], { generator: gen(11), requiresGrad: true });
    const loss = crossEntropy(x, tensor([-100, -100, -100], { dtype: 'int32' }), { labelSmoothing: 0.1 });
    expect(loss.item()).toBe(0);
    loss.backward();
    expect(Array.from(x.grad!.dataSync()).every((v) => v === 0)).toBe(true);
  });

  it('BCE with logits stays finite and exact at |x| = 100 and beyond, in float32', () => {
    const x = tensor([100, -100, 1000, -1000, 0], { requiresGrad: true });
    const y = tensor([1, 0, 0, 1, 0.5]);
    const loss = binaryCrossEntropyWithLogits(x, y, { reduction: 'none', posWeight: tensor([2]) });
    const v = Array.from(loss.dataSync());
    // Exact: 0, 0, 1000, 2 * 1000, log 2 * (1 + 0.5 * (2 - 1)) ... per element l = 1 + (pw - 1) y.
    expect(v[0]).toBeCloseTo(0, 30);
    expect(v[1]).toBeCloseTo(0, 30);
    expect(v[2]).toBe(1000);
    expect(v[3]).toBe(2000);
    expect(v[4]).toBeCloseTo(0.5 * 0 + 1.5 * Math.log(2), 6);
    loss.sum().backward();
    const g = Array.from(x.grad!.dataSync());
    expect(g.every(Number.isFinite)).toBe(true);
    // d/dx = (1 - y) - l sigmoid(-x): at x = 1000, y = 0 -> 1; at x = -1000, y = 1 -> -2.
    expect(g[2]).toBe(1);
    expect(g[3]).toBe(-2);
  });

  it('Module forms equal the functions and keep torch buffer names', () => {
    const x = randn([4, 3], { generator: gen(12) });
    const t = tensor([0, 2, 1, -100], { dtype: 'int32' });
    const w = tensor([1, 2, 3]);
    const ce = new CrossEntropyLoss({ weight: w, labelSmoothing: 0.1 });
    expect(ce.call(x, t).item()).toBe(crossEntropy(x, t, { weight: w, labelSmoothing: 0.1 }).item());
    expect([...ce.stateDict().keys()]).toEqual(['weight']);
    const y = rand([4, 3], { generator: gen(13) });
    const bce = new BCEWithLogitsLoss({ posWeight: tensor([1, 2, 3]) });
    expect(bce.call(x, y).item()).toBe(binaryCrossEntropyWithLogits(x, y, { posWeight: tensor([1, 2, 3]) }).item());
    expect([...bce.stateDict().keys()]).toEqual(['pos_weight']);
    expect(new MSELoss({ reduction: 'sum' }).call(x, y).item()).toBe(mseLoss(x, y, { reduction: 'sum' }).item());
  });
});

describe('loss input errors', () => {
  it('crossEntropy', () => {
    const x = zeros([2, 3]);
    expect(() => crossEntropy(x, tensor([0, 3], { dtype: 'int32' }))).toThrow('crossEntropy: target 3 is out of bounds: expected class indices in [0, 2] or ignoreIndex (-100)');
    expect(() => crossEntropy(x, tensor([0, 1, 2], { dtype: 'int32' }))).toThrow('crossEntropy: expected class-index target of shape [2] for input [2,3]; got [3]');
    expect(() => crossEntropy(x, zeros([2, 4]))).toThrow("crossEntropy: expected probability targets of the input's shape [2,3]; got [2,4]");
    expect(() => crossEntropy(x, tensor([0, 1], { dtype: 'int32' }), { weight: zeros([2]) })).toThrow('crossEntropy: expected opts.weight of shape [3] (one per class); got [2]');
    expect(() => crossEntropy(x, tensor([0, 1], { dtype: 'int32' }), { labelSmoothing: 1.5 })).toThrow('crossEntropy: expected opts.labelSmoothing in [0, 1]; got 1.5');
    expect(() => crossEntropy(x, tensor([0, 1], { dtype: 'int32' }), { reduction: 'avg' as never })).toThrow(`crossEntropy: expected opts.reduction 'mean', 'sum' or 'none'; got "avg"`);
    expect(() => crossEntropy(zeros([2, 3], { dtype: 'int32' }), tensor([0, 1], { dtype: 'int32' }))).toThrow(/float dtype/);
  });
  it('BCE and MSE', () => {
    expect(() => binaryCrossEntropyWithLogits(zeros([2, 3]), zeros([3, 2]))).toThrow("binaryCrossEntropyWithLogits: expected target of the input's shape [2,3]; got [3,2]");
    expect(() => binaryCrossEntropyWithLogits(zeros([2, 3]), zeros([2, 3]), { posWeight: zeros([2]) })).toThrow(/not broadcastable/);
    expect(() => mseLoss(zeros([4, 1]), zeros([4]))).toThrow("mseLoss: expected target of the input's shape [4,1]; got [4]");
  });
});
