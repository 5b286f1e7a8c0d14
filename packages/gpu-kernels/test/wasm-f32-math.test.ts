import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceBackend as R, type UnaryOp } from '@formers/gpu-kernels';
import { createWasmBackend } from '../src/wasm/index.js';

const W = createWasmBackend();
const view = (data: Float32Array | Float64Array, dtype: 'float32' | 'float64' = data instanceof Float32Array ? 'float32' : 'float64') => ({
  data,
  dtype,
  shape: [data.length],
  strides: [1],
  offset: 0,
});

/** Distance in float32 ulps between a float32 result and the float64 truth (subnormals count as one scale). */
function ulps(got: number, want: number): number {
  if (Number.isNaN(want)) return Number.isNaN(got) ? 0 : Infinity;
  if (got === want) return 0;
  if (!Number.isFinite(want) || !Number.isFinite(got)) return Infinity;
  const e = Math.max(Math.floor(Math.log2(Math.abs(want))), -126);
  return Math.abs(got - want) / 2 ** (e - 23);
}

/** The worst ulp error of the wasm float32 op over xs, against the float64 reference. */
function worst(op: UnaryOp, xs: Float32Array): { ulp: number; at: number } {
  const got = W.unary(op, view(xs), 'float32') as Float32Array;
  const want = R.unary(op, view(Float64Array.from(xs)), 'float64') as Float64Array;
  let ulp = 0;
  let at = 0;
  for (let i = 0; i < xs.length; i++) {
    const u = ulps(got[i], want[i]);
    if (u > ulp) [ulp, at] = [u, xs[i]];
  }
  return { ulp, at };
}

/** Relative error bound of float32 tanh-GELU at x: 4 ulp, plus the argument 2u's rounding (a few ulp of |2u|). */
const geluTanhBound = (x: number) => 2 * Math.sqrt(2 / Math.PI) * Math.abs(x + 0.044715 * x ** 3) * 2 ** -22 + 4 * 2 ** -24;
/** Relative bounds of the other ops, from the tests above. */
const BOUND = { exp: 2 * 2 ** -23, expm1: 3 * 2 ** -23, erf: 4 * 2 ** -23, sigmoid: 4 * 2 ** -23, silu: 4 * 2 ** -23, gelu: 1e-6 } as const;

const grid = (lo: number, hi: number, n: number) => Float32Array.from({ length: n }, (_, i) => lo + ((hi - lo) * i) / (n - 1));

describe('wasm float32 transcendental kernels', () => {
  it('exp is within 2 ulp over its whole range, Infinity above it and 0 below', () => {
    expect(worst('exp', grid(-87, 88.7, 200_003)).ulp).toBeLessThanOrEqual(2);
    const edge = new Float32Array([89, 1000, Infinity, -105, -1000, -Infinity, Number.NaN, 0, -0, 1e-30, ...new Array(30).fill(1)]);
    const got = W.unary('exp', view(edge), 'float32') as Float32Array;
    expect(Array.from(got.subarray(0, 9))).toEqual([Infinity, Infinity, Infinity, 0, 0, 0, Number.NaN, 1, 1]);
    expect(got[9]).toBe(1);
  });

  it('exp through the subnormal range stays within 1e-6 absolute of the truth, scaled to 2^-126', () => {
    const xs = grid(-103.9, -87.4, 4001);
    const got = W.unary('exp', view(xs), 'float32') as Float32Array;
    for (let i = 0; i < xs.length; i++) expect(Math.abs(got[i] - Math.exp(xs[i])) / 2 ** -126).toBeLessThan(1e-6 * 2 ** 23);
  });

  it('expm1 is within 3 ulp over its range, keeps small arguments relatively exact, and its edges', () => {
    expect(worst('expm1', grid(-90, 88.7, 200_003)).ulp).toBeLessThanOrEqual(3);
    const small = Float32Array.from({ length: 20_001 }, (_, i) => (i - 10_000) * 3.7e-5 * 10 ** ((i % 7) - 6));
    expect(worst('expm1', small).ulp).toBeLessThanOrEqual(3);
    const edge = new Float32Array(36).fill(0.25);
    edge.set([-0, 0, Infinity, -Infinity, Number.NaN, 89, -200]);
    const got = W.unary('expm1', view(edge), 'float32') as Float32Array;
    expect(Object.is(got[0], -0)).toBe(true);
    expect(Array.from(got.subarray(1, 7))).toEqual([0, Infinity, -1, Number.NaN, Infinity, -1]);
  });

  it('erf is within 4 ulp over [-6, 6], small arguments relatively exact, odd, and +-1 beyond', () => {
    expect(worst('erf', grid(-6, 6, 200_001)).ulp).toBeLessThanOrEqual(4);
    const small = Float32Array.from({ length: 20_001 }, (_, i) => (i - 10_000) * 5e-5 * 10 ** ((i % 7) - 6));
    expect(worst('erf', small).ulp).toBeLessThanOrEqual(3);
    const edge = new Float32Array(36).fill(0.5);
    edge.set([-0, 0, Infinity, -Infinity, Number.NaN, 12, -12, 0.5, -0.5]);
    const got = W.unary('erf', view(edge), 'float32') as Float32Array;
    expect(Object.is(got[0], -0)).toBe(true);
    expect(Array.from(got.subarray(1, 7))).toEqual([0, 1, -1, Number.NaN, 1, -1]);
    expect(got[8]).toBe(-got[7]);
  });

  it('sigmoid and SiLU are within 4 ulp over [-80, 80], down to the subnormals', () => {
    const xs = grid(-80, 80, 100_001);
    for (const op of ['sigmoid', 'silu'] as const) expect(worst(op, xs).ulp, op).toBeLessThanOrEqual(4);
  });

  it('tanh-GELU is within 4 ulp plus what rounding its float32 argument 2u carries in (|2u| 2^-22)', () => {
    const xs = grid(-10, 12, 100_001);
    const got = W.unary('gelu_tanh', view(xs), 'float32') as Float32Array;
    const want = R.unary('gelu_tanh', view(Float64Array.from(xs)), 'float64') as Float64Array;
    for (let i = 0; i < xs.length; i++) expect(Math.abs(got[i] - want[i]) / Math.abs(want[i])).toBeLessThan(geluTanhBound(xs[i]));
  });

  it('exact GELU is within 1e-6 relative (the erfc fit is 1.2e-7) down its negative tail to the subnormals', () => {
    const core = grid(-4, 12, 100_001);
    const tail = grid(-13, -4, 20_001);
    for (const [xs, bound] of [[core, 1e-6], [tail, 1e-6]] as const) {
      const got = W.unary('gelu', view(xs), 'float32') as Float32Array;
      const want = R.unary('gelu', view(Float64Array.from(xs)), 'float64') as Float64Array;
      for (let i = 0; i < xs.length; i++) {
        if (Math.abs(want[i]) < 1e-37) continue; // float32 subnormals
        expect(Math.abs(got[i] - want[i]) / Math.abs(want[i])).toBeLessThan(bound);
      }
    }
  });

  it('propagates NaN and treats infinities as torch does', () => {
    const xs = new Float32Array(40).fill(0.5);
    xs.set([Number.NaN, Infinity, -Infinity]);
    for (const op of ['sigmoid', 'gelu', 'gelu_tanh'] as const) {
      const got = W.unary(op, view(xs), 'float32') as Float32Array;
      const want = R.unary(op, view(xs), 'float32') as Float32Array;
      expect(Array.from(got.subarray(0, 3)), op).toEqual(Array.from(want.subarray(0, 3)));
    }
  });

  it('does not touch its input, and agrees with the reference on arbitrary values (property)', () => {
    fc.assert(
      fc.property(fc.float32Array({ minLength: 33, maxLength: 300, noDefaultInfinity: true, min: -50, max: 50 }), (xs) => {
        const copy = xs.slice();
        for (const op of ['exp', 'expm1', 'erf', 'sigmoid', 'silu', 'gelu', 'gelu_tanh'] as const) {
          const got = W.unary(op, view(xs), 'float32') as Float32Array;
          const want = R.unary(op, view(Float64Array.from(xs)), 'float64') as Float64Array;
          for (let i = 0; i < xs.length; i++) {
            const bound = op === 'gelu_tanh' ? geluTanhBound(xs[i]) : BOUND[op];
            if (Number.isNaN(want[i])) expect(got[i]).toBeNaN();
            else expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(bound * Math.abs(want[i]) + 1e-37);
          }
        }
        expect(xs).toEqual(copy);
      }),
      { numRuns: 100 },
    );
  });
});

describe('wasm float32 softmax', () => {
  const layout = (rows: number, cols: number) => ({ outer: rows, size: cols, inner: 1 });

  // exp's 2 ulp, the float32 sum's and the reciprocal's rounding (6e-7 in all), plus x - max rounded to float32
  // as torch's float32 softmax rounds it (half an ulp of |x - max|, absolute, in the exponent).
  it('matches the float64 reference within 6e-7 + |x - max| 2^-24 relative for row lengths 1..70, 197, 1027', () => {
    for (const cols of [...Array.from({ length: 70 }, (_, i) => i + 1), 197, 1027]) {
      const rows = Math.max(1, Math.ceil(64 / cols));
      const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 12.9898) * 30);
      const got = W.softmax(x, 'float32', layout(rows, cols), false) as Float32Array;
      const want = R.softmax(Float64Array.from(x), 'float64', layout(rows, cols), false) as Float64Array;
      for (let r = 0; r < rows; r++) {
        let max = -Infinity;
        for (let c = 0; c < cols; c++) max = Math.max(max, x[r * cols + c]);
        for (let c = 0; c < cols; c++) {
          const i = r * cols + c;
          const bound = (6e-7 + Math.abs(x[i] - max) * 2 ** -24) * want[i] + 1e-38;
          expect(Math.abs(got[i] - want[i]), `cols ${cols}`).toBeLessThanOrEqual(bound);
        }
      }
      // Each row sums to one.
      for (let r = 0; r < rows; r++) {
        let s = 0;
        for (let c = 0; c < cols; c++) s += got[r * cols + c];
        expect(Math.abs(s - 1)).toBeLessThan(1e-5);
      }
    }
  });

  it('handles -Infinity (masked) entries, fully masked rows (NaN, as torch) and NaN', () => {
    const cols = 6;
    const x = new Float32Array(8 * cols).fill(1);
    x.set([-Infinity, 0, 0, -Infinity, 0, 0], 0); // partly masked
    x.fill(-Infinity, cols, 2 * cols); // fully masked: NaN
    x[2 * cols + 3] = Number.NaN; // a NaN spreads over its row
    x[3 * cols] = 1e30; // a huge logit takes all the weight
    const got = W.softmax(x, 'float32', layout(8, cols), false) as Float32Array;
    const want = R.softmax(x, 'float32', layout(8, cols), false) as Float32Array;
    expect(Array.from(got)).toEqual(Array.from(want).map((v, i) => (Number.isNaN(v) ? Number.NaN : got[i])));
    expect(Array.from(got.subarray(0, cols))).toEqual([0, 0.25, 0.25, 0, 0.25, 0.25]);
    expect(got.subarray(cols, 2 * cols).every(Number.isNaN)).toBe(true);
    expect(got.subarray(2 * cols, 3 * cols).every(Number.isNaN)).toBe(true);
    expect(got[3 * cols]).toBe(1);
  });

  it('rejects a too-short input with a clear error', () => {
    expect(() => W.softmax(new Float32Array(40), 'float32', layout(8, 6), false)).toThrow(/softmax.*x/);
  });
});

describe('wasm float32 binary ops', () => {
  /** A float32 view of `shape` expanded along the dims in `bcast` (stride 0), optionally transposed. */
  const f32View = (shape: number[], bcast: boolean[], transpose: boolean, seed: number) => {
    const own = shape.map((d, i) => (bcast[i] ? 1 : d));
    const n = own.reduce((p, d) => p * d, 1);
    const data = Float32Array.from({ length: n + 3 }, (_, i) => (i % 17 === 5 ? 0 : Math.sin((i + 1) * 7.3 + seed) * 100));
    const order = own.map((_, d) => d);
    if (transpose && own.length >= 2) order.reverse();
    const strides = new Array<number>(own.length).fill(0);
    let s = 1;
    for (let k = order.length - 1; k >= 0; k--) {
      const d = order[k];
      strides[d] = bcast[d] ? 0 : s;
      s *= own[d];
    }
    return { data, dtype: 'float32' as const, shape, strides, offset: 3 };
  };

  it('equals the reference bit for bit over broadcast and transposed layouts (property)', () => {
    const ops = ['add', 'sub', 'mul', 'div', 'maximum', 'minimum', 'eq', 'ne', 'lt', 'le', 'gt', 'ge'] as const;
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 4 }).chain((shape) =>
          fc.tuple(
            fc.constant(shape),
            fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
            fc.array(fc.boolean(), { minLength: shape.length, maxLength: shape.length }),
            fc.boolean(),
            fc.constantFrom(...ops),
          ),
        ),
        ([shape, ba, bb, ta, op]) => {
          const a = f32View(shape, ba, ta, 1);
          const b = f32View(shape, bb, false, 2);
          const copyA = a.data.slice();
          const got = W.binary(op, a, b, shape, 'float32') as Float32Array;
          const want = R.binary(op, a, b, shape, 'float32') as Float32Array;
          expect(Array.from(got)).toEqual(Array.from(want));
          expect(a.data).toEqual(copyA);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('takes the fast path for a bias row, a per-row scale and a scalar, NaN included (comparisons too)', () => {
    const rows = 37;
    const cols = 19;
    const x = { data: Float32Array.from({ length: rows * cols }, (_, i) => i - 300), dtype: 'float32' as const, shape: [rows, cols], strides: [cols, 1], offset: 0 };
    const bias = { data: Float32Array.from({ length: cols }, (_, i) => (i === 4 ? Number.NaN : i * 0.5)), dtype: 'float32' as const, shape: [rows, cols], strides: [0, 1], offset: 0 };
    const scale = { data: Float32Array.from({ length: rows }, (_, i) => i + 1), dtype: 'float32' as const, shape: [rows, cols], strides: [1, 0], offset: 0 };
    const scalar = { data: new Float32Array([3]), dtype: 'float32' as const, shape: [rows, cols], strides: [0, 0], offset: 0 };
    for (const [op, b] of [['add', bias], ['mul', scale], ['div', scalar], ['maximum', bias], ['gt', bias], ['ne', bias], ['eq', scalar], ['le', scale]] as const) {
      const got = W.binary(op, x, b, [rows, cols], 'float32') as Float32Array;
      const want = R.binary(op, x, b, [rows, cols], 'float32') as Float32Array;
      expect(Array.from(got), op).toEqual(Array.from(want));
    }
  });

  it('rejects operands that are not expanded to the output shape', () => {
    const a = { data: new Float32Array(64), dtype: 'float32' as const, shape: [8, 8], strides: [8, 1], offset: 0 };
    const b = { data: new Float32Array(8), dtype: 'float32' as const, shape: [8], strides: [1], offset: 0 };
    expect(() => W.binary('add', a, b, [8, 8], 'float32')).toThrow(/b\.shape/);
    expect(() => W.binary('add', a, { ...a, data: new Float32Array(10) }, [8, 8], 'float32')).toThrow(/b/);
  });
});

describe('wasm float32 exact unary ops', () => {
  it('neg, abs, relu, square, sqrt and reciprocal equal the reference bit for bit, specials included', () => {
    const xs = Float32Array.from({ length: 1003 }, (_, i) => Math.sin(i * 3.1) * 10 ** ((i % 13) - 6));
    xs.set([0, -0, Infinity, -Infinity, Number.NaN, 1e-45, -1e-45, 3.4e38, -3.4e38]);
    for (const op of ['neg', 'abs', 'relu', 'square', 'sqrt', 'reciprocal'] as const) {
      const got = W.unary(op, view(xs), 'float32') as Float32Array;
      const want = R.unary(op, view(xs), 'float32') as Float32Array;
      expect(Array.from(got).map((v) => (Object.is(v, -0) ? '-0' : v)), op).toEqual(Array.from(want).map((v) => (Object.is(v, -0) ? '-0' : v)));
    }
  });
});

describe('wasm float32 layer norm and RMS norm', () => {
  it('match the float64 reference (output, mean, rstd) for row lengths 4..70 and 768, with and without affine', () => {
    for (const cols of [...Array.from({ length: 67 }, (_, i) => i + 4), 192, 768]) {
      const rows = Math.max(2, Math.ceil(200 / cols));
      const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) * 3 + 5 * Math.cos(i * 0.011));
      const w = Float32Array.from({ length: cols }, (_, i) => 1 + 0.1 * Math.sin(i));
      const b = Float32Array.from({ length: cols }, (_, i) => 0.05 * i);
      const p = { rows, cols, eps: 1e-6 };
      for (const [wt, bs] of [[w, b], [null, null], [w, null]] as const) {
        const got = W.layerNorm(x, wt, bs, 'float32', p) as { out: Float32Array; mean: Float32Array; rstd: Float32Array };
        const want = R.layerNorm(Float64Array.from(x), wt && Float64Array.from(wt), bs && Float64Array.from(bs), 'float64', p) as { out: Float64Array; mean: Float64Array; rstd: Float64Array };
        // float32 sums over a row: a few ulp of the row's scale (|x| <= 8 here, rstd ~ 1/4).
        for (let i = 0; i < x.length; i++) expect(Math.abs(got.out[i] - want.out[i]), `cols ${cols}`).toBeLessThan(1e-5);
        for (let r = 0; r < rows; r++) {
          expect(Math.abs(got.mean[r] - want.mean[r])).toBeLessThan(4e-6);
          expect(Math.abs(got.rstd[r] - want.rstd[r]) / want.rstd[r]).toBeLessThan(2e-6);
        }
      }
      const gotR = W.rmsNorm(x, w, 'float32', p) as { out: Float32Array; rstd: Float32Array; mean?: Float32Array };
      const wantR = R.rmsNorm(Float64Array.from(x), Float64Array.from(w), 'float64', p) as { out: Float64Array; rstd: Float64Array };
      expect(gotR.mean).toBeUndefined();
      for (let i = 0; i < x.length; i++) expect(Math.abs(gotR.out[i] - wantR.out[i])).toBeLessThan(1e-5);
      for (let r = 0; r < rows; r++) expect(Math.abs(gotR.rstd[r] - wantR.rstd[r]) / wantR.rstd[r]).toBeLessThan(2e-6);
    }
  });

  it('rejects short buffers naming the argument, and leaves its inputs alone', () => {
    const x = new Float32Array(64).fill(2);
    expect(() => W.layerNorm(x, new Float32Array(3), null, 'float32', { rows: 4, cols: 16, eps: 1e-5 })).toThrow(/weight/);
    expect(() => W.rmsNorm(new Float32Array(40), null, 'float32', { rows: 4, cols: 16, eps: 1e-5 })).toThrow(/x/);
    const copy = x.slice();
    W.layerNorm(x, null, null, 'float32', { rows: 4, cols: 16, eps: 1e-5 });
    expect(x).toEqual(copy);
  });
});

describe('wasm float32 where', () => {
  it('equals the reference for every mix of contiguous, broadcast and scalar operands, NaN and -0 conditions included', () => {
    const rows = 9;
    const cols = 13;
    const full = (seed: number) => Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 1.3 + seed) * 5);
    const cond = full(0).map((v, i) => (i % 7 === 0 ? Number.NaN : i % 11 === 0 ? -0 : v > 0 ? 1 : 0));
    const layouts = (data: Float32Array) => [
      { data, dtype: 'float32' as const, shape: [rows, cols], strides: [cols, 1], offset: 0 }, // contiguous
      { data, dtype: 'float32' as const, shape: [rows, cols], strides: [0, 1], offset: 2 }, // a row broadcast down
      { data, dtype: 'float32' as const, shape: [rows, cols], strides: [1, 0], offset: 1 }, // a column across
      { data, dtype: 'float32' as const, shape: [rows, cols], strides: [0, 0], offset: 3 }, // a scalar
    ];
    for (const c of layouts(cond)) {
      for (const a of layouts(full(1))) {
        for (const b of layouts(full(2))) {
          const got = W.where(c, a, b, [rows, cols], 'float32') as Float32Array;
          const want = R.where(c, a, b, [rows, cols], 'float32') as Float32Array;
          expect(Array.from(got)).toEqual(Array.from(want));
        }
      }
    }
  });
});

describe('wasm float32 depthwise convolution', () => {
  const out = (size: number, k: number, pad: number, dil: number) => size + 2 * pad - dil * (k - 1);
  it('matches the float64 reference for kernel sizes, paddings, dilations and batches (conv2d and conv1d)', () => {
    for (const [n, c, h, w, kH, kW, padH, padW, dH, dW] of [
      [1, 3, 14, 14, 3, 3, 1, 1, 1, 1], // a PEG
      [2, 5, 7, 9, 3, 5, 0, 2, 1, 1],
      [1, 4, 8, 8, 3, 3, 2, 2, 2, 2],
      [2, 2, 1, 33, 1, 4, 0, 3, 1, 1], // Mamba's causal conv1d as conv2d
      [1, 1, 5, 6, 5, 6, 4, 5, 1, 1],
    ] as const) {
      const hOut = out(h, kH, padH, dH);
      const wOut = out(w, kW, padW, dW);
      const x = Float32Array.from({ length: n * c * h * w }, (_, i) => Math.sin(i * 0.7) * 2);
      const wt = Float32Array.from({ length: c * kH * kW }, (_, i) => Math.cos(i * 1.1));
      const p = { n, cIn: c, h, w, cOut: c, kH, kW, strideH: 1, strideW: 1, padH, padW, dilationH: dH, dilationW: dW, groups: c, hOut, wOut };
      const got = W.conv2d(x, wt, 'float32', p) as Float32Array;
      const want = R.conv2d(Float64Array.from(x), Float64Array.from(wt), 'float64', p) as Float64Array;
      expect(got.length).toBe(want.length);
      // A sum of kH * kW float32 products: a few ulp of the sum of |terms|.
      for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThan(4e-6 * kH * kW);
    }
    const p1 = { n: 2, cIn: 3, l: 20, cOut: 3, k: 4, stride: 1, pad: 3, dilation: 1, groups: 3, lOut: 23 };
    const x1 = Float32Array.from({ length: 2 * 3 * 20 }, (_, i) => Math.sin(i));
    const w1 = Float32Array.from({ length: 3 * 4 }, (_, i) => i / 7 - 0.5);
    const got1 = W.conv1d(x1, w1, 'float32', p1) as Float32Array;
    const want1 = R.conv1d(Float64Array.from(x1), Float64Array.from(w1), 'float64', p1) as Float64Array;
    for (let i = 0; i < got1.length; i++) expect(Math.abs(got1[i] - want1[i])).toBeLessThan(2e-5);
  });

  it('rejects short buffers naming the argument', () => {
    const p = { n: 1, cIn: 2, h: 4, w: 4, cOut: 2, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 2, hOut: 4, wOut: 4 };
    expect(() => W.conv2d(new Float32Array(31), new Float32Array(18), 'float32', p)).toThrow(/x/);
    expect(() => W.conv2d(new Float32Array(32), new Float32Array(17), 'float32', p)).toThrow(/weight/);
  });
});

describe('wasm float32 kernels on two threads', () => {
  it('give bit-identical results to one thread for calls large enough to be split', () => {
    const two = createWasmBackend({ threads: 2 });
    const one = createWasmBackend({ threads: 1 });
    const rows = 600;
    const cols = 197; // not a multiple of 4: padded rows and scalar tails on both threads
    const n = rows * cols;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37) * 6);
    const v = { data: x, dtype: 'float32' as const, shape: [rows, cols], strides: [cols, 1], offset: 0 };
    const bias = { data: Float32Array.from({ length: cols }, (_, i) => i / 50), dtype: 'float32' as const, shape: [rows, cols], strides: [0, 1], offset: 0 };
    const same = (a: ArrayLike<number>, b: ArrayLike<number>) => expect(Array.from(a)).toEqual(Array.from(b));
    for (const op of ['exp', 'gelu', 'erf', 'silu'] as const) same(two.unary(op, v, 'float32') as Float32Array, one.unary(op, v, 'float32') as Float32Array);
    same(two.binary('add', v, bias, [rows, cols], 'float32') as Float32Array, one.binary('add', v, bias, [rows, cols], 'float32') as Float32Array);
    same(two.where(v, bias, v, [rows, cols], 'float32') as Float32Array, one.where(v, bias, v, [rows, cols], 'float32') as Float32Array);
    const layout = { outer: rows, size: cols, inner: 1 };
    same(two.softmax(x, 'float32', layout, false) as Float32Array, one.softmax(x, 'float32', layout, false) as Float32Array);
    const p = { rows, cols, eps: 1e-5 };
    const [n2, n1] = [two.layerNorm(x, null, null, 'float32', p), one.layerNorm(x, null, null, 'float32', p)];
    same(n2.out as Float32Array, n1.out as Float32Array);
    same(n2.rstd as Float32Array, n1.rstd as Float32Array);
    const cp = { n: 1, cIn: 64, h: 40, w: 40, cOut: 64, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 1, padW: 1, dilationH: 1, dilationW: 1, groups: 64, hOut: 40, wOut: 40 };
    const cx = x.subarray(0, 64 * 1600);
    const cw = x.subarray(0, 64 * 9);
    same(two.conv2d(cx, cw, 'float32', cp) as Float32Array, one.conv2d(cx, cw, 'float32', cp) as Float32Array);
    expect(two.fallbacks.size).toBe(0);
    two.terminate();
    one.terminate();
  });
});

describe('wasm float32 scans', () => {
  it('linearRecurrence and cumsum match the float64 reference to float32 rounding, forward and reverse, with h0', () => {
    for (const [outer, size, inner] of [[3, 50, 1], [2, 40, 3], [4, 33, 4], [2, 64, 16], [1, 20, 301]] as const) {
      const n = outer * size * inner;
      const a = Float32Array.from({ length: n }, (_, i) => 0.5 + 0.49 * Math.sin(i * 0.7));
      const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 1.3));
      const h0 = Float32Array.from({ length: outer * inner }, (_, i) => i / 10 - 1);
      const abs = (x: Float32Array) => Float64Array.from(x, Math.abs);
      for (const reverse of [false, true]) {
        const p = { outer, size, inner, reverse };
        const got = W.linearRecurrence(a, b, h0, 'float32', p) as Float32Array;
        const want = R.linearRecurrence(Float64Array.from(a), Float64Array.from(b), Float64Array.from(h0), 'float64', p) as Float64Array;
        // Each step rounds twice: bound the error by a few ulp of the same recurrence run on magnitudes.
        const scale = R.linearRecurrence(abs(a), abs(b), abs(h0), 'float64', p) as Float64Array;
        for (let i = 0; i < n; i++) expect(Math.abs(got[i] - want[i]), `${outer}x${size}x${inner}`).toBeLessThanOrEqual(4 * 2 ** -24 * scale[i] * (1 + Math.log2(size)) + 1e-30);
        const cs = W.cumsum(b, 'float32', p) as Float32Array;
        const csWant = R.cumsum(Float64Array.from(b), 'float64', p) as Float64Array;
        const csScale = R.cumsum(abs(b), 'float64', p) as Float64Array;
        for (let i = 0; i < n; i++) expect(Math.abs(cs[i] - csWant[i])).toBeLessThanOrEqual(2 ** -24 * size * csScale[i] + 1e-30);
      }
    }
  });

  it('splits large scans over threads with the same results, and rejects short buffers', () => {
    const two = createWasmBackend({ threads: 2 });
    const one = createWasmBackend({ threads: 1 });
    const p = { outer: 512, size: 64, inner: 16, reverse: false };
    const n = 512 * 64 * 16;
    const a = Float32Array.from({ length: n }, (_, i) => 0.9 + 0.09 * Math.sin(i));
    const b = Float32Array.from({ length: n }, (_, i) => Math.cos(i));
    expect(Array.from(two.linearRecurrence(a, b, null, 'float32', p) as Float32Array)).toEqual(Array.from(one.linearRecurrence(a, b, null, 'float32', p) as Float32Array));
    expect(() => W.linearRecurrence(a.subarray(1), b, null, 'float32', p)).toThrow(/a/);
    expect(() => W.cumsum(b.subarray(1), 'float32', p)).toThrow(/x/);
    two.terminate();
    one.terminate();
  });
});

describe('wasm float32 map kernels: every length', () => {
  it('give each element the same value whatever the length (two vectors an iteration, the odd one, the padded tail)', () => {
    const all = Float32Array.from({ length: 300 }, (_, i) => Math.sin(i * 0.37) * 6);
    const whole = { data: all, dtype: 'float32' as const, shape: [all.length], strides: [1], offset: 0 };
    for (const op of ['exp', 'gelu', 'silu', 'elu', 'sigmoid', 'relu'] as const) {
      const ref = Array.from(W.unary(op, whole, 'float32') as Float32Array);
      for (let n = 32; n <= 300; n += 7) {
        const part = { data: all.subarray(0, n), dtype: 'float32' as const, shape: [n], strides: [1], offset: 0 };
        expect(Array.from(W.unary(op, part, 'float32') as Float32Array), `${op} n=${n}`).toEqual(ref.slice(0, n));
      }
    }
  });
});

describe('wasm float32 reductions', () => {
  it('sum (float64 accumulation), max and min equal the reference over last, middle and first axes, NaN included', () => {
    for (const [outer, size, inner] of [[7, 33, 1], [3, 50, 4], [2, 17, 13], [1, 300, 3], [5, 4, 64]] as const) {
      const n = outer * size * inner;
      const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.77) * 10 ** ((i % 5) - 2));
      const layout = { outer, size, inner };
      for (const op of ['sum', 'max', 'min'] as const) {
        const got = W.reduce(op, x, 'float32', layout) as Float32Array;
        const want = R.reduce(op, x, 'float32', layout) as Float32Array;
        // The same float64 sum up to its order, rounded once: equal, or one float32 ulp apart at worst.
        for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i]), `${op} ${outer}x${size}x${inner}`).toBeLessThanOrEqual(Math.abs(want[i]) * 2 ** -23);
      }
      const withNaN = x.slice();
      withNaN[Math.floor(n / 2)] = Number.NaN;
      for (const op of ['sum', 'max', 'min'] as const) {
        const got = W.reduce(op, withNaN, 'float32', layout) as Float32Array;
        const want = R.reduce(op, withNaN, 'float32', layout) as Float32Array;
        expect(Array.from(got, Number.isNaN)).toEqual(Array.from(want, Number.isNaN));
      }
    }
  });

  it('max and min along rows equal the reference for any row length, with NaN and signed zeros', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 9 }),
        fc.integer({ min: 1, max: 300 }),
        fc.array(fc.constantFrom(0, -0, 1, -1, Number.NaN, 2.5, -7), { minLength: 1, maxLength: 40 }),
        fc.nat(),
        (outer, size, specials, seed) => {
          const n = outer * size;
          if (n < 32) return; // smaller reductions stay the reference kernel
          const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * 3);
          specials.forEach((v, j) => (x[(seed + j * 7919) % n] = v));
          for (const op of ['max', 'min'] as const) {
            const got = Array.from(W.reduce(op, x, 'float32', { outer, size, inner: 1 }) as Float32Array);
            const want = Array.from(R.reduce(op, x, 'float32', { outer, size, inner: 1 }) as Float32Array);
            // Equal values (a tie of -0 and +0 may give either zero: the reference keeps the first seen, the IEEE
            // max/min of f32x4 prefers +0 for max and -0 for min; torch does not define it either), NaN for NaN.
            expect(got.map((v, i) => v === want[i] || (Number.isNaN(v) && Number.isNaN(want[i])))).toEqual(got.map(() => true));
          }
        },
      ),
      { numRuns: 200 },
    );
  });

  it('rejects a short input naming it; argmax stays the reference kernel', () => {
    expect(() => W.reduce('sum', new Float32Array(40), 'float32', { outer: 7, size: 6, inner: 1 })).toThrow(/x/);
    const x = Float32Array.from({ length: 64 }, (_, i) => (i * 37) % 64);
    expect(Array.from(W.reduce('argmax', x, 'float32', { outer: 1, size: 64, inner: 1 }) as Int32Array)).toEqual([Array.from(x).indexOf(63)]);
  });
});

describe('wasm float32 block kernels on tensors larger than one memory block', () => {
  it('stream rows and column chunks and equal the reference bit for bit', () => {
    const n = 1_500_003;
    const x = Float32Array.from({ length: n }, (_, i) => Math.sin(i * 0.01) * 3);
    const y = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.013));
    const flat = (data: Float32Array) => ({ data, dtype: 'float32' as const, shape: [n], strides: [1], offset: 0 });
    expect(Array.from(W.binary('mul', flat(x), flat(y), [n], 'float32') as Float32Array)).toEqual(Array.from(R.binary('mul', flat(x), flat(y), [n], 'float32') as Float32Array));
    const [rows, cols] = [4999, 300];
    const m = { data: x, dtype: 'float32' as const, shape: [rows, cols], strides: [cols, 1], offset: 3 };
    const bias = { data: y, dtype: 'float32' as const, shape: [rows, cols], strides: [0, 1], offset: 7 };
    const scale = { data: y, dtype: 'float32' as const, shape: [rows, cols], strides: [1, 0], offset: 11 };
    expect(Array.from(W.binary('add', m, bias, [rows, cols], 'float32') as Float32Array)).toEqual(Array.from(R.binary('add', m, bias, [rows, cols], 'float32') as Float32Array));
    expect(Array.from(W.where(scale, m, bias, [rows, cols], 'float32') as Float32Array)).toEqual(Array.from(R.where(scale, m, bias, [rows, cols], 'float32') as Float32Array));
  });
});

describe('wasm float32 block kernels on operands whose rows lie far apart', () => {
  it('gather just the elements they use (a column of a wide tensor), with results equal to the reference', () => {
    const [D, L, N] = [64, 5000, 16];
    const dt = Float32Array.from({ length: D * L }, (_, i) => Math.sin(i) + 2);
    const A = Float32Array.from({ length: D * N }, (_, i) => -1 - (i % N));
    // dt[:, t] (a column of a (D, L) tensor, rows L apart) broadcast along N, times A (D, N).
    const column = { data: dt, dtype: 'float32' as const, shape: [D, N], strides: [L, 0], offset: 1234 };
    const wide = { data: dt, dtype: 'float32' as const, shape: [D, N], strides: [L, 1], offset: 77 }; // 16 of each row of L
    const a = { data: A, dtype: 'float32' as const, shape: [D, N], strides: [N, 1], offset: 0 };
    for (const x of [column, wide]) {
      expect(Array.from(W.binary('mul', x, a, [D, N], 'float32') as Float32Array)).toEqual(Array.from(R.binary('mul', x, a, [D, N], 'float32') as Float32Array));
      expect(Array.from(W.where(a, x, a, [D, N], 'float32') as Float32Array)).toEqual(Array.from(R.where(a, x, a, [D, N], 'float32') as Float32Array));
    }
  });
});

describe('wasm float32 transcendental kernels on strided views', () => {
  it('gather a transposed or sliced view first and agree with the reference', () => {
    const [rows, cols] = [37, 50];
    const data = Float32Array.from({ length: rows * cols * 2 }, (_, i) => Math.sin(i * 0.3) * 4);
    const transposed = { data, dtype: 'float32' as const, shape: [cols, rows], strides: [1, cols], offset: 0 };
    const half = { data, dtype: 'float32' as const, shape: [rows, cols], strides: [2 * cols, 1], offset: cols }; // x[..., cols:]
    for (const v of [transposed, half]) {
      for (const op of ['silu', 'exp', 'gelu'] as const) {
        const got = W.unary(op, v, 'float32') as Float32Array;
        const want = R.unary(op, { ...v, data: Float64Array.from(data), dtype: 'float64' as const }, 'float64') as Float64Array;
        for (let i = 0; i < got.length; i++) expect(Math.abs(got[i] - want[i])).toBeLessThanOrEqual(1e-6 * Math.abs(want[i]) + 1e-30);
      }
    }
  });
});

describe('wasm float32 selective scan (fused, outside the kernel set)', () => {
  // L = 3000 at N = 32 runs in time chunks of 1024 steps (the last one partial), each continuing from the state.
  it.each([[300, 8], [3000, 32]])('matches the float64 recurrence h = exp(dt A) h + dt u B, y = C . h, with and without h0, on 1 and 2 threads (L = %i, N = %i)', (L, N) => {
    const [nb, D] = [2, 5];
    const rnd = (n: number, f: (i: number) => number) => Float32Array.from({ length: n }, (_, i) => f(i));
    const u = rnd(nb * D * L, (i) => Math.sin(i * 0.7));
    const dt = rnd(nb * D * L, (i) => 0.01 + 0.05 * (1 + Math.cos(i * 1.3)));
    const A = rnd(D * N, (i) => -1 - (i % N) * 0.5);
    const B = rnd(nb * L * N, (i) => Math.cos(i * 0.11)); // step-major (nb, L, N)
    const C = rnd(nb * L * N, (i) => Math.sin(i * 0.17));
    const h0 = rnd(nb * D * N, (i) => (i % 7) / 7);
    for (const init of [null, h0]) {
      // float64 reference, same layouts
      const y = new Float64Array(nb * D * L);
      const last = new Float64Array(nb * D * N);
      let scale = 0;
      for (let b = 0; b < nb; b++) for (let d = 0; d < D; d++) {
        const bd = b * D + d;
        const h = Array.from({ length: N }, (_, n) => (init ? init[bd * N + n] : 0));
        for (let t = 0; t < L; t++) {
          const e = dt[bd * L + t];
          let acc = 0;
          for (let n = 0; n < N; n++) {
            h[n] = Math.exp(e * A[d * N + n]) * h[n] + e * u[bd * L + t] * B[(b * L + t) * N + n];
            acc += h[n] * C[(b * L + t) * N + n];
            scale = Math.max(scale, Math.abs(h[n]));
          }
          y[bd * L + t] = acc;
        }
        for (let n = 0; n < N; n++) last[bd * N + n] = h[n];
      }
      for (const threads of [1, 2]) {
        const be = createWasmBackend({ threads });
        const r = be.selectiveScanF32(u, dt, A, B, C, init, nb, D, L, N)!;
        for (let i = 0; i < y.length; i++) expect(Math.abs(r.y[i] - y[i])).toBeLessThan(2e-5 * N * scale);
        for (let i = 0; i < last.length; i++) expect(Math.abs(r.last[i] - last[i])).toBeLessThan(2e-5 * scale);
        be.terminate();
      }
    }
    expect(W.selectiveScanF32(u, dt, A, B, C, null, nb, D, L, 6)).toBeNull(); // N not a multiple of 4
    // L = 0: no steps; the last state is h0 (or zeros), as the recurrence defines it.
    const empty = new Float32Array(0);
    const none = W.selectiveScanF32(empty, empty, A, empty, empty, h0, nb, D, 0, N)!;
    expect(none.y.length).toBe(0);
    expect(Array.from(none.last)).toEqual(Array.from(h0));
    expect(Array.from(W.selectiveScanF32(empty, empty, A, empty, empty, null, nb, D, 0, N)!.last)).toEqual(new Array(nb * D * N).fill(0));
    expect(() => W.selectiveScanF32(u.subarray(1), dt, A, B, C, null, nb, D, L, N)).toThrow(/u/);
  });
});

describe('wasm depthwise convolution with inconsistent geometry', () => {
  it('goes to the reference kernel instead of reading past the padded plane', () => {
    const p = { n: 1, cIn: 2, h: 4, w: 4, cOut: 2, kH: 3, kW: 3, strideH: 1, strideW: 1, padH: 0, padW: 0, dilationH: 1, dilationW: 1, groups: 2, hOut: 4, wOut: 4 };
    const x = Float32Array.from({ length: 32 }, (_, i) => i);
    const w = new Float32Array(18).fill(1);
    expect(Array.from(W.conv2d(x, w, 'float32', p) as Float32Array)).toEqual(Array.from(R.conv2d(x, w, 'float32', p) as Float32Array));
  });
});
