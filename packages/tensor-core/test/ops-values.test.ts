import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Generator, Tensor, add, amax, argmax, argmin, cat, chunk, clamp, complex, conv1d, conv2d, cumsum, div, dropout, embedding, eq,
  fft, gather, gelu, indexSelect, irfft, layerNorm, logSoftmax, logsumexp, matmul, maxDim, mean, mul, pad, randn, rfft, rmsNorm,
  roll, scatterAdd, softmax, softplus, split, stack, std, sum, tensor, tril, triu, variance, where, linear, relu, exp, linearRecurrence,
  sub, transpose, bmm, F,
} from '../src/index.js';

const ref = { backend: 'reference' as const };
const f64 = { backend: 'reference' as const, dtype: 'float64' as const };
const rn = (shape: number[], seed: number) => randn(shape, { ...f64, generator: new Generator(seed) });

function expectClose(a: ArrayLike<number>, b: ArrayLike<number>, rtol = 1e-10, atol = 1e-12): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) {
      throw new Error(`element ${i}: ${a[i]} vs ${b[i]}`);
    }
  }
}

describe('elementwise', () => {
  it('promotes dtypes like torch and divides ints into floats', () => {
    const i = tensor(new Int32Array([1, 2, 3]), ref);
    expect(add(i, 1).dtype).toBe('int32');
    expect(add(i, 0.5).tolist()).toEqual([1.5, 2.5, 3.5]);
    expect(div(i, 2).tolist()).toEqual([0.5, 1, 1.5]);
    expect(add(tensor([1], ref), tensor([1], f64)).dtype).toBe('float64');
    expect(eq(tensor([1, 2], ref), tensor([1, 3], ref)).tolist()).toEqual([1, 0]);
  });

  it('matches the defining formulas', () => {
    const xs = [-3, -0.5, 0, 0.7, 4];
    const x = tensor(xs, f64);
    const erf = (v: number) => {
      // erf through the series, enough terms for |v| <= 4
      let s = 0;
      let term = v;
      for (let n = 0; n < 80; n++) {
        s += term / (2 * n + 1);
        term *= (-v * v) / (n + 1);
      }
      return (2 / Math.sqrt(Math.PI)) * s;
    };
    expectClose(gelu(x).dataSync(), xs.map((v) => 0.5 * v * (1 + erf(v / Math.SQRT2))), 1e-9, 1e-12);
    expectClose(softplus(x, { beta: 2, threshold: 5 }).dataSync(), xs.map((v) => (2 * v > 5 ? v : Math.log1p(Math.exp(2 * v)) / 2)));
    expect(clamp(x, -1, 1).tolist()).toEqual([-1, -0.5, 0, 0.7, 1]);
    expect(where(tensor([1, 0, 1, 0, 1], ref), x, 9).tolist()).toEqual([-3, 9, 0, 9, 4]);
    expect(relu(x).tolist()).toEqual([0, 0, 0, 0.7, 4]);
  });

  it('never mutates its inputs', () => {
    const a = rn([3, 4], 1);
    const b = rn([4], 2);
    const before = [Array.from(a.dataSync()), Array.from(b.dataSync())];
    add(a, b);
    mul(a, b);
    matmul(a, rn([4, 2], 3));
    softmax(a, 1);
    layerNorm(a, 4, { weight: b });
    cat([a, a], 0);
    pad(a, [1, 1], { mode: 'reflect' });
    a.t().contiguous();
    const g = a.clone().requiresGrad_();
    sum(mul(g, b)).backward();
    expect([Array.from(a.dataSync()), Array.from(b.dataSync())]).toEqual(before);
  });
});

describe('reductions', () => {
  const x = tensor([[1, 5, 2], [4, 4, 0]], f64);
  it('sum, mean, var, std', () => {
    expect(sum(x).item()).toBe(16);
    expect(sum(x, 0).tolist()).toEqual([5, 9, 2]);
    expect(sum(x, { dim: 1, keepdim: true }).tolist()).toEqual([[8], [8]]);
    expect(mean(x, -1).tolist()).toEqual([8 / 3, 8 / 3]);
    // Row 0: deviations -5/3, 7/3, -2/3 -> squares sum 78/9.
    expectClose(variance(x, 1).dataSync(), [78 / 9 / 2, (16 / 9 + 16 / 9 + 64 / 9) / 2]);
    expectClose(variance(x, { dim: 1, correction: 0 }).dataSync(), [78 / 27, 96 / 27]);
    expectClose(std(x).dataSync(), [Math.sqrt((1 + 25 + 4 + 16 + 16 + 0 - 16 * 16 / 6) / 5)]);
    expect(() => mean(tensor(new Int32Array([1]), ref))).toThrow(/mean: expected input to have a float dtype/);
  });
  it('max/min with indices, argmax ties, amax', () => {
    const m = maxDim(x, 1);
    expect(m.values.tolist()).toEqual([5, 4]);
    expect(m.indices.tolist()).toEqual([1, 0]); // first index at ties, as torch
    expect(m.indices.dtype).toBe('int32');
    expect(argmax(x).item()).toBe(1);
    expect(argmin(x, 1, true).tolist()).toEqual([[0], [2]]);
    expect(amax(x, [0, 1]).item()).toBe(5);
    expect(() => amax(tensor([], ref))).toThrow(/non-empty/);
  });
  it('logsumexp is stable for large and -inf inputs', () => {
    const big = tensor([1000, 1000], f64);
    expectClose(logsumexp(big, 0).dataSync(), [1000 + Math.log(2)]);
    expect(logsumexp(tensor([-Infinity, -Infinity], f64), 0).item()).toBe(-Infinity);
  });
  it('property: softmax rows are positive and sum to 1; logSoftmax is its log', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 0, max: 999 }), (r, c, seed) => {
        const t = mul(rn([r, c], seed), 10);
        const s = softmax(t, 1);
        const sums = sum(s, 1).dataSync();
        for (const v of sums) expect(Math.abs(v - 1)).toBeLessThan(1e-12);
        expect(Array.from(s.dataSync()).every((v) => v >= 0)).toBe(true);
        expectClose(logSoftmax(t, 1).dataSync(), s.dataSync().map(Math.log), 1e-9, 1e-12);
      }),
      { seed: 42, numRuns: 40 },
    );
  });
});

describe('matmul', () => {
  function naive(a: Tensor, b: Tensor): number[] {
    const [m, k] = a.shape;
    const n = b.shape[1];
    const A = a.dataSync();
    const B = b.dataSync();
    const out: number[] = [];
    for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let q = 0; q < k; q++) s += A[i * k + q] * B[q * n + j];
      out.push(s);
    }
    return out;
  }
  it('property: equals the naive product, for transposed views too, and is associative within rounding', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 999 }), (m, k, n, seed) => {
        const a = rn([m, k], seed);
        const b = rn([k, n], seed + 1);
        const c = rn([n, 3], seed + 2);
        expectClose(matmul(a, b).dataSync(), naive(a, b), 1e-12, 1e-12);
        const at = transpose(rn([k, m], seed + 3), 0, 1);
        expectClose(matmul(at, b).dataSync(), naive(at.contiguous(), b), 1e-12, 1e-12);
        expectClose(matmul(matmul(a, b), c).dataSync(), matmul(a, matmul(b, c)).dataSync(), 1e-9, 1e-12);
      }),
      { seed: 42, numRuns: 40 },
    );
  });
  it('follows torch.matmul shape rules and errors clearly', () => {
    expect(matmul(rn([3], 1), rn([3], 2)).shape).toEqual([]);
    expect(matmul(rn([3], 1), rn([2, 3, 4], 2)).shape).toEqual([2, 4]);
    expect(matmul(rn([2, 1, 4, 3], 1), rn([5, 3, 2], 2)).shape).toEqual([2, 5, 4, 2]);
    const a = rn([2, 3, 4], 1);
    const b = rn([2, 4, 5], 2);
    const batched = bmm(a, b);
    expectClose(batched.dataSync().slice(15), matmul(a.select(0, 1), b.select(0, 1)).dataSync());
    expect(() => matmul(rn([2, 4], 1), rn([5, 3], 2))).toThrow('matmul: expected b.shape[-2] (=5) to equal a.shape[-1] (=4); got a [2,4], b [5,3]');
    expect(() => matmul(rn([2, 2, 4], 1), rn([3, 4, 1], 2))).toThrow(/not broadcastable/);
    expect(() => bmm(rn([2, 4], 1), rn([2, 4, 1], 2))).toThrow(/bmm: expected two 3-D tensors/);
    expect(() => linear(rn([2, 3], 1), rn([4, 5], 2))).toThrow(/linear: expected input.shape\[-1\] to equal weight.shape\[1\] \(=5\)/);
    expect(() => matmul(tensor(new Int32Array([1]), ref), tensor(new Int32Array([1]), ref))).toThrow(/matmul: expected a to have a float dtype/);
  });
});

describe('joining, indexing, scans', () => {
  it('cat/stack/split/chunk round-trip', () => {
    const a = rn([2, 3], 1);
    const b = rn([2, 2], 2);
    const c = cat([a, b], 1);
    const [a2, b2] = split(c, [3, 2], 1);
    expect(a2.tolist()).toEqual(a.tolist());
    expect(b2.tolist()).toEqual(b.tolist());
    expect(chunk(rn([7], 1), 3).map((t) => t.shape[0])).toEqual([3, 3, 1]);
    expect(stack([a, a], 1).shape).toEqual([2, 2, 3]);
    expect(() => cat([a, rn([3, 2], 3)], 1)).toThrow(/cat: expected tensors\[1\] to match tensors\[0\] \[2,3\] except in dim 1; got \[3,2\]/);
  });
  it('roll, pad, triu, tril, cumsum', () => {
    const t = tensor([0, 1, 2, 3, 4], ref);
    expect(roll(t, 2).tolist()).toEqual([3, 4, 0, 1, 2]);
    expect(roll(t, -1).tolist()).toEqual([1, 2, 3, 4, 0]);
    expect(pad(t, [2, 1], { mode: 'reflect' }).tolist()).toEqual([2, 1, 0, 1, 2, 3, 4, 3]);
    expect(pad(t, [2, 1], { mode: 'replicate' }).tolist()).toEqual([0, 0, 0, 1, 2, 3, 4, 4]);
    expect(pad(t, [2, 1], { mode: 'circular' }).tolist()).toEqual([3, 4, 0, 1, 2, 3, 4, 0]);
    expect(pad(t, [1, -2], { value: 9 }).tolist()).toEqual([9, 0, 1, 2]);
    expect(() => pad(t, [5, 0], { mode: 'reflect' })).toThrow(/reflect padding \(5, 0\) must be smaller than the size of dim 0 \(5\)/);
    const m = tensor([[1, 2, 3], [4, 5, 6], [7, 8, 9]], ref);
    expect(triu(m).tolist()).toEqual([[1, 2, 3], [0, 5, 6], [0, 0, 9]]);
    expect(tril(m, -1).tolist()).toEqual([[0, 0, 0], [4, 0, 0], [7, 8, 0]]);
    expect(cumsum(m, 1).tolist()).toEqual([[1, 3, 6], [4, 9, 15], [7, 15, 24]]);
    expect(triu(tensor([[-Infinity, 1]], ref)).tolist()).toEqual([[-Infinity, 1]]);
  });
  it('gather, scatterAdd, indexSelect, embedding, with range checks', () => {
    const x = tensor([[1, 2, 3], [4, 5, 6]], ref);
    const idx = tensor(new Int32Array([2, 0, 1, 1]), { ...ref, shape: [2, 2] });
    expect(gather(x, 1, idx).tolist()).toEqual([[3, 1], [5, 5]]);
    expect(scatterAdd(x, 1, tensor(new Int32Array([0, 0, 2, 1, 1, 1]), { ...ref, shape: [2, 3] }), tensor([[1, 1, 1], [1, 1, 1]], ref)).tolist()).toEqual([[3, 2, 4], [4, 8, 6]]);
    expect(indexSelect(x, 0, tensor(new Int32Array([1, 1, 0]), ref)).tolist()).toEqual([[4, 5, 6], [4, 5, 6], [1, 2, 3]]);
    const w = tensor([[0, 0], [1, 1], [2, 2]], { ...ref, requiresGrad: true });
    const e = embedding(tensor(new Int32Array([2, 0, 2]), ref), w, { paddingIdx: 2 });
    expect(e.tolist()).toEqual([[2, 2], [0, 0], [2, 2]]);
    sum(e).backward();
    expect(w.grad!.tolist()).toEqual([[1, 1], [0, 0], [0, 0]]); // the padding row gets no gradient
    expect(() => gather(x, 1, tensor(new Int32Array([3]), { ...ref, shape: [1, 1] }))).toThrow('gather: index 3 is out of bounds for dim 1 with size 3 (expected 0 <= index < 3)');
    expect(() => embedding(tensor(new Int32Array([-1]), ref), w)).toThrow(/embedding: index -1 is out of bounds/);
    expect(() => gather(x, 1, tensor([[0.0]], ref))).toThrow(/gather: expected index to have dtype int32; got float32/);
  });
  it('linearRecurrence matches the loop h[t] = a[t] h[t-1] + b[t]', () => {
    const a = rn([5, 2], 1);
    const b = rn([5, 2], 2);
    const h0 = rn([2], 3);
    const A = a.dataSync();
    const B = b.dataSync();
    const h = Array.from(h0.dataSync());
    const expected: number[] = [];
    for (let t = 0; t < 5; t++) for (let j = 0; j < 2; j++) {
      h[j] = A[t * 2 + j] * h[j] + B[t * 2 + j];
      expected.push(h[j]);
    }
    expectClose(linearRecurrence(a, b, { h0 }).dataSync(), expected);
  });
});

describe('normalisation, convolution, dropout', () => {
  it('layerNorm rows have mean 0 and biased variance 1; rmsNorm rows have rms 1', () => {
    const x = rn([3, 8], 4);
    const y = layerNorm(x, 8, { eps: 0 });
    for (const v of mean(y, 1).dataSync()) expect(Math.abs(v)).toBeLessThan(1e-12);
    for (const v of variance(y, { dim: 1, correction: 0 }).dataSync()) expect(Math.abs(v - 1)).toBeLessThan(1e-12);
    const r = rmsNorm(x, 8, { eps: 0 });
    for (const v of mean(mul(r, r), 1).dataSync()) expect(Math.abs(v - 1)).toBeLessThan(1e-12);
    expect(() => layerNorm(x, [4])).toThrow(/layerNorm: expected input with trailing shape \[4\] \(normalizedShape\); got \[3,8\]/);
  });

  it('property: conv2d equals the direct sum over the receptive field', () => {
    fc.assert(
      fc.property(
        fc.record({ groups: fc.constantFrom(1, 2), stride: fc.integer({ min: 1, max: 2 }), pad: fc.integer({ min: 0, max: 2 }), dil: fc.integer({ min: 1, max: 2 }), k: fc.integer({ min: 1, max: 3 }), seed: fc.integer({ min: 0, max: 99 }) }),
        ({ groups, stride, pad: p, dil, k, seed }) => {
          const cIn = 2 * groups;
          const cOut = 2 * groups;
          const x = rn([1, cIn, 6, 5], seed);
          const w = rn([cOut, cIn / groups, k, k], seed + 1);
          const y = conv2d(x, w, null, { stride, padding: p, dilation: dil, groups });
          const [, , ho, wo] = y.shape;
          const X = x.dataSync();
          const W = w.dataSync();
          const out: number[] = [];
          for (let co = 0; co < cOut; co++) for (let i = 0; i < ho; i++) for (let j = 0; j < wo; j++) {
            let s = 0;
            const g = Math.floor(co / (cOut / groups));
            for (let ci = 0; ci < cIn / groups; ci++) for (let u = 0; u < k; u++) for (let v = 0; v < k; v++) {
              const ih = i * stride - p + u * dil;
              const iw = j * stride - p + v * dil;
              if (ih < 0 || iw < 0 || ih >= 6 || iw >= 5) continue;
              s += X[(g * (cIn / groups) + ci) * 30 + ih * 5 + iw] * W[((co * (cIn / groups) + ci) * k + u) * k + v];
            }
            out.push(s);
          }
          expectClose(y.dataSync(), out, 1e-12, 1e-12);
        },
      ),
      { seed: 42, numRuns: 30 },
    );
  });

  it("conv1d equals conv2d with H = 1, and 'same' keeps the length", () => {
    const x = rn([2, 2, 9], 1);
    const w = rn([3, 2, 4], 2);
    const y1 = conv1d(x, w, null, { padding: 'same' });
    expect(y1.shape).toEqual([2, 3, 9]);
    const y2 = conv2d(x.unsqueeze(2), w.unsqueeze(2), null, { padding: 'same' }).squeeze(2);
    expectClose(y1.dataSync(), y2.dataSync());
    expect(() => conv2d(rn([1, 3, 4, 4], 1), rn([2, 2, 3, 3], 2))).toThrow(/conv2d: expected weight.shape\[1\] \(=2\) to equal in_channels \/ groups \(=3\)/);
    expect(() => conv2d(rn([1, 1, 2, 2], 1), rn([1, 1, 3, 3], 2))).toThrow(/smaller than the dilated kernel/);
    expect(() => conv2d(rn([1, 1, 4, 4], 1), rn([1, 1, 3, 3], 2), null, { padding: 'same', stride: 2 })).toThrow(/padding='same' is not supported for strided/);
  });

  it('dropout keeps about 1 - p, scales by 1/(1 - p), is reproducible and the identity in eval', () => {
    const x = tensor(new Float64Array(10000).fill(1), f64);
    const y = dropout(x, { p: 0.3, generator: new Generator(1) }).dataSync();
    const kept = Array.from(y).filter((v) => v !== 0);
    expect(kept.every((v) => Math.abs(v - 1 / 0.7) < 1e-12)).toBe(true);
    // Binomial(10000, 0.7): standard deviation 46.
    expect(Math.abs(kept.length - 7000)).toBeLessThan(250);
    expect(Array.from(dropout(x, { p: 0.3, generator: new Generator(1) }).dataSync())).toEqual(Array.from(y));
    expect(dropout(x, { p: 0.3, training: false })).toBe(x);
    expect(() => dropout(x, { p: 1.5 })).toThrow(/dropout: expected p in \[0, 1\]; got 1.5/);
  });
});

describe('fft and complex', () => {
  it('fft matches the DFT definition; irfft inverts rfft; Parseval holds', () => {
    const n = 6;
    const x = rn([n], 5);
    const X = fft(x);
    const xs = x.dataSync();
    const re: number[] = [];
    const im: number[] = [];
    for (let k = 0; k < n; k++) {
      let r = 0;
      let i = 0;
      for (let t = 0; t < n; t++) {
        r += xs[t] * Math.cos((-2 * Math.PI * t * k) / n);
        i += xs[t] * Math.sin((-2 * Math.PI * t * k) / n);
      }
      re.push(r);
      im.push(i);
    }
    expectClose(X.re.dataSync(), re, 1e-9, 1e-12);
    expectClose(X.im.dataSync(), im, 1e-9, 1e-12);
    for (const len of [7, 8]) {
      const s = rn([2, len], len);
      expectClose(irfft(rfft(s), { n: len }).dataSync(), s.dataSync(), 1e-9, 1e-12);
    }
    const energy = sum(mul(x, x)).item();
    expect(Math.abs(sum(X.absSquare()).item() / n - energy)).toBeLessThan(1e-9);
  });
  it('complex arithmetic follows the formulas', () => {
    const z = complex(tensor([1, 0], f64), tensor([2, 1], f64));
    const w = complex(tensor([3, 2], f64), tensor([-1, 0], f64));
    const p = z.mul(w);
    expect(p.re.tolist()).toEqual([5, 0]); // (1 + 2i)(3 - i) = 5 + 5i; i * 2 = 2i
    expect(p.im.tolist()).toEqual([5, 2]);
    const q = p.div(w);
    expectClose(q.re.dataSync(), [1, 0]);
    expectClose(q.im.dataSync(), [2, 1]);
    const unit = complex(tensor([0, 0], f64), tensor([0.3, 2], f64)).exp();
    expectClose(unit.abs().dataSync(), [1, 1]);
    expect(z.conj().im.tolist()).toEqual([-2, -1]);
  });
});

describe('F namespace', () => {
  it('groups the functional ops', () => {
    expect(F.relu).toBe(relu);
    expect(typeof F.conv2d).toBe('function');
    expect(typeof F.interpolate).toBe('function');
    expect(sub(exp(tensor([0], ref)), 1).item()).toBe(0);
  });
});

describe('elu', () => {
  it('alpha 1 (one kernel) equals the select form, small negative inputs relatively exact, -0 kept', async () => {
    const { elu, tensor, where, gt, expm1, minimum } = await import('../src/index.js');
    const xs = [-30, -2, -1e-7, -0, 0, 1e-7, 3, Number.NaN];
    const x = tensor(xs, { dtype: 'float64' });
    const got = Array.from(elu(x).dataSync());
    const want = Array.from(where(gt(x, 0), x, expm1(minimum(x, 0))).dataSync());
    expect(got).toEqual(want);
    expect(Object.is(got[3], -0)).toBe(true);
    expect(got[2]).toBeCloseTo(Math.expm1(-1e-7), 20);
    const x32 = tensor(Array.from({ length: 100 }, (_, i) => (i - 50) / 7), { dtype: 'float32' });
    const a = elu(x32).dataSync();
    for (let i = 0; i < 100; i++) {
      const v = (i - 50) / 7;
      expect(Math.abs(a[i] - (v > 0 ? Math.fround(v) : Math.expm1(Math.fround(v))))).toBeLessThan(4e-7);
    }
  });
});
