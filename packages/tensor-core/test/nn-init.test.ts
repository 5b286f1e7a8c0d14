import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { zeros } from '../src/creation.js';
import { Generator } from '../src/random.js';
import { init } from '../src/nn/index.js';

const { calculateFanInAndFanOut, calculateGain, constant_, erf, erfinv, kaimingNormal_, kaimingUniform_, normal_, ones_, truncNormal_, uniform_, xavierNormal_, xavierUniform_, zeros_ } = init;

function stats(d: ArrayLike<number>): { mean: number; std: number; min: number; max: number } {
  const a = Array.from(d);
  const mean = a.reduce((s, v) => s + v, 0) / a.length;
  const std = Math.sqrt(a.reduce((s, v) => s + (v - mean) ** 2, 0) / a.length);
  return { mean, std, min: Math.min(...a), max: Math.max(...a) };
}

describe('host special functions', () => {
  it('erf matches known values', () => {
    // Values from Abramowitz & Stegun table 7.1 / high-precision references.
    expect(erf(0)).toBe(0);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf(-2)).toBeCloseTo(-0.9953222650189527, 15);
    expect(erf(3.5)).toBeCloseTo(0.9999992569016276, 15);
    expect(erf(5)).toBeCloseTo(1 - 1.5374597944280349e-12, 15);
  });
  it('erfinv inverts erf', () => {
    fc.assert(
      fc.property(fc.double({ min: -0.999999, max: 0.999999, noNaN: true }), (y) => {
        expect(erf(erfinv(y))).toBeCloseTo(y, 12);
      }),
      { seed: 42, numRuns: 300 },
    );
    expect(erfinv(1)).toBe(Infinity);
    expect(erfinv(2)).toBeNaN();
  });
});

describe('fans and gains (torch.nn.init)', () => {
  it('calculateFanInAndFanOut', () => {
    expect(calculateFanInAndFanOut([3, 4])).toEqual({ fanIn: 4, fanOut: 3 });
    expect(calculateFanInAndFanOut(zeros([8, 2, 3, 5]))).toEqual({ fanIn: 30, fanOut: 120 });
    expect(() => calculateFanInAndFanOut([5])).toThrow(/fewer than 2 dims; got shape \[5\]/);
  });
  it('calculateGain', () => {
    expect(calculateGain('linear')).toBe(1);
    expect(calculateGain('conv2d')).toBe(1);
    expect(calculateGain('sigmoid')).toBe(1);
    expect(calculateGain('tanh')).toBe(5 / 3);
    expect(calculateGain('relu')).toBe(Math.SQRT2);
    expect(calculateGain('leaky_relu')).toBeCloseTo(Math.sqrt(2 / (1 + 0.0001)), 15);
    expect(calculateGain('leaky_relu', Math.sqrt(5))).toBeCloseTo(Math.sqrt(1 / 3), 15);
    expect(calculateGain('selu')).toBe(0.75);
    expect(() => calculateGain('swish' as never)).toThrow(/unsupported nonlinearity "swish"/);
  });
});

describe('initialisers', () => {
  it('same seed, same numbers; in place, returning the tensor', () => {
    const a = zeros([50]);
    const b = zeros([50]);
    expect(normal_(a, { generator: new Generator(3) })).toBe(a);
    normal_(b, { generator: new Generator(3) });
    expect(a.dataSync()).toEqual(b.dataSync());
    normal_(b, { generator: new Generator(4) });
    expect(a.dataSync()).not.toEqual(b.dataSync());
  });

  it('initialises parameters that require grad, keeping them leaves', () => {
    const p = zeros([3, 3], { requiresGrad: true });
    kaimingUniform_(p, { generator: new Generator(1) });
    expect(p.isLeaf).toBe(true);
    expect(p.requiresGrad).toBe(true);
    expect(Array.from(p.dataSync()).some((v) => v !== 0)).toBe(true);
  });

  it('uniform_, normal_, constant_, zeros_, ones_', () => {
    const t = zeros([20000], { dtype: 'float64' });
    const u = stats(uniform_(t, { a: -2, b: 3, generator: new Generator(1) }).dataSync());
    expect(u.min).toBeGreaterThanOrEqual(-2);
    expect(u.max).toBeLessThan(3);
    expect(u.mean).toBeCloseTo(0.5, 1);
    expect(u.std).toBeCloseTo(5 / Math.sqrt(12), 1);
    const n = stats(normal_(t, { mean: 1, std: 0.5, generator: new Generator(2) }).dataSync());
    expect(n.mean).toBeCloseTo(1, 1);
    expect(n.std).toBeCloseTo(0.5, 1);
    expect(Array.from(constant_(t, 0.25).dataSync()).every((v) => v === 0.25)).toBe(true);
    expect(Array.from(zeros_(t).dataSync()).every((v) => v === 0)).toBe(true);
    expect(Array.from(ones_(t).dataSync()).every((v) => v === 1)).toBe(true);
    expect(() => uniform_(t, { a: 2, b: 1 })).toThrow('uniform_: expected a <= b; got a 2, b 1');
    expect(() => normal_(t, { std: -1 })).toThrow('normal_: expected std >= 0; got -1');
    expect(() => uniform_(zeros([2], { dtype: 'int32' }))).toThrow(/float tensor/);
  });

  it('truncNormal_ stays in [a, b] (absolute) and has the truncated moments', () => {
    fc.assert(
      fc.property(fc.double({ min: -1, max: 1, noNaN: true }), fc.double({ min: 0.05, max: 2, noNaN: true }), fc.double({ min: 0.1, max: 2, noNaN: true }), (mean, std, half) => {
        const t = zeros([500]);
        truncNormal_(t, { mean, std, a: mean - half, b: mean + half, generator: new Generator(7) });
        const s = stats(t.dataSync());
        expect(s.min).toBeGreaterThanOrEqual(Math.fround(mean - half) - 1e-6);
        expect(s.max).toBeLessThanOrEqual(Math.fround(mean + half) + 1e-6);
      }),
      { seed: 42, numRuns: 25 },
    );
    // Defaults: N(0, 1) truncated to [-2, 2]; its std is 0.8796 (closed form of the truncated normal).
    const t = truncNormal_(zeros([40000], { dtype: 'float64' }), { generator: new Generator(9) });
    const s = stats(t.dataSync());
    expect(s.min).toBeGreaterThanOrEqual(-2);
    expect(s.max).toBeLessThanOrEqual(2);
    expect(s.min).toBeLessThan(-1.99);
    expect(s.mean).toBeCloseTo(0, 1);
    expect(s.std).toBeCloseTo(0.8796, 2);
    // timm's typical ViT use: std 0.02 with the default absolute bounds [-2, 2] means no visible truncation.
    const v = stats(truncNormal_(zeros([20000], { dtype: 'float64' }), { std: 0.02, generator: new Generator(10) }).dataSync());
    expect(v.std).toBeCloseTo(0.02, 3);
    expect(() => truncNormal_(zeros([2]), { a: 1, b: 1 })).toThrow('truncNormal_: expected a < b; got a 1, b 1');
  });

  it('xavier and kaiming use the torch formulas', () => {
    const w = zeros([200, 300], { dtype: 'float64' });
    const xu = stats(xavierUniform_(w, { gain: 2, generator: new Generator(1) }).dataSync());
    const bound = 2 * Math.sqrt(6 / 500);
    expect(xu.max).toBeLessThanOrEqual(bound);
    expect(xu.max).toBeGreaterThan(0.99 * bound);
    expect(stats(xavierNormal_(w, { generator: new Generator(2) }).dataSync()).std).toBeCloseTo(Math.sqrt(2 / 500), 3);
    // kaiming_uniform_ defaults: a = 0, fan_in, leaky_relu -> gain sqrt 2, bound sqrt(6 / fan_in).
    const ku = stats(kaimingUniform_(w, { generator: new Generator(3) }).dataSync());
    expect(ku.max).toBeLessThanOrEqual(Math.sqrt(6 / 300));
    expect(ku.max).toBeGreaterThan(0.99 * Math.sqrt(6 / 300));
    const kn = stats(kaimingNormal_(w, { mode: 'fan_out', nonlinearity: 'relu', generator: new Generator(4) }).dataSync());
    expect(kn.std).toBeCloseTo(Math.sqrt(2 / 200), 3);
    expect(() => kaimingNormal_(w, { mode: 'fan_avg' as never })).toThrow(/expected mode 'fan_in' or 'fan_out'; got "fan_avg"/);
  });
});
