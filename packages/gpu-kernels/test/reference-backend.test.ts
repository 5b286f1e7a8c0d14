import { describe, expect, it } from 'vitest';
import { createReferenceBackend, referenceBackend as R, type TypedArray } from '@formers/gpu-kernels';

const view = (data: TypedArray, shape: number[], strides?: number[], offset = 0) => ({
  data,
  dtype: (data instanceof Float32Array ? 'float32' : data instanceof Float64Array ? 'float64' : 'int32') as
    | 'float32'
    | 'float64'
    | 'int32',
  shape,
  strides: strides ?? shape.map((_, d) => shape.slice(d + 1).reduce((s, e) => s * e, 1)),
  offset,
});

describe('reference backend semantics', () => {
  it('rounds half to even, as torch.round', () => {
    const x = new Float64Array([0.5, 1.5, 2.5, -0.5, -1.5, -2.5, 2.4, -2.6]);
    expect(Array.from(R.unary('round', view(x, [8]), 'float64') as Float64Array)).toEqual([0, 2, 2, -0, -2, -2, 2, -3]);
  });

  it('rounds float32 results to float32 (computes in float64, stores once)', () => {
    const x = new Float32Array([0.1, 0.7]);
    const y = R.unary('exp', view(x, [2]), 'float32');
    expect(y).toBeInstanceOf(Float32Array);
    expect(y[0]).toBe(Math.fround(Math.exp(Math.fround(0.1))));
  });

  it('reads flipped and expanded views', () => {
    const x = new Float32Array([1, 2, 3]);
    // x.flip(0) then expand to (2, 3)
    const y = R.unary('identity', view(x, [2, 3], [0, -1], 2), 'float32');
    expect(Array.from(y)).toEqual([3, 2, 1, 3, 2, 1]);
  });

  it('casts float to int32 by truncation toward zero', () => {
    const y = R.unary('identity', view(new Float64Array([2.7, -2.7, 0.2]), [3]), 'int32');
    expect(Array.from(y)).toEqual([2, -2, 0]);
  });

  it('wraps int32 products like int32 hardware', () => {
    const a = new Int32Array([65536, 3]);
    const y = R.binary('mul', view(a, [2]), view(a, [2]), [2], 'int32');
    expect(Array.from(y)).toEqual([0, 9]); // 2^32 wraps to 0
  });

  it('gives NaN for an all -Infinity softmax row, as torch does, and finite values elsewhere', () => {
    const x = new Float32Array([-Infinity, -Infinity, 0, 0]);
    const y = R.softmax(x, 'float32', { outer: 2, size: 2, inner: 1 }, false);
    expect(Number.isNaN(y[0]) && Number.isNaN(y[1])).toBe(true);
    expect(Array.from(y.subarray(2))).toEqual([0.5, 0.5]);
  });

  it('clamps gather indices and skips out-of-range scatterAdd indices', () => {
    const x = new Float32Array([10, 20, 30]);
    const index = new Int32Array([-5, 1, 99]);
    const layout = { outer: 1, size: 3, inner: 1 };
    expect(Array.from(R.gather(x, 'float32', layout, view(index, [1, 3, 1]), 3))).toEqual([10, 20, 30]);
    const y = R.scatterAdd(new Float32Array([1, 2, 4]), 'float32', view(index, [1, 3, 1]), layout, 3);
    expect(Array.from(y)).toEqual([0, 2, 0]);
  });

  it('argmax takes the first of equal maxima and the first NaN', () => {
    const x = new Float32Array([1, 3, 3, 0, NaN, 5]);
    expect(Array.from(R.reduce('argmax', x, 'float32', { outer: 1, size: 6, inner: 1 }))).toEqual([4]);
    expect(Array.from(R.reduce('argmax', x.subarray(0, 4), 'float32', { outer: 1, size: 4, inner: 1 }))).toEqual([1]);
  });

  it('fft then inverse fft is the identity for powers of two and for Bluestein lengths', () => {
    for (const n of [16, 15, 97]) {
      const re = Float64Array.from({ length: 2 * n }, (_, i) => Math.sin(i * 1.3));
      const im = Float64Array.from({ length: 2 * n }, (_, i) => Math.cos(i * 0.7));
      const f = R.fft(re, im, 'float64', 2, n, false) as { re: Float64Array; im: Float64Array };
      const g = R.fft(f.re, f.im, 'float64', 2, n, true) as { re: Float64Array; im: Float64Array };
      for (let i = 0; i < 2 * n; i++) {
        expect(Math.abs(g.re[i] - re[i])).toBeLessThan(1e-12);
        expect(Math.abs(g.im[i] - im[i])).toBeLessThan(1e-12);
      }
    }
  });

  it('never retains or mutates caller arrays', () => {
    const b = createReferenceBackend();
    const host = new Float32Array([1, 2, 3]);
    const h = b.upload(host, 'float32');
    host[0] = 100;
    const read = b.readSync(h, 'float32', 3);
    expect(Array.from(read)).toEqual([1, 2, 3]);
    read[1] = -1;
    expect(Array.from(b.readSync(h, 'float32', 3))).toEqual([1, 2, 3]);
    expect(b.fallbacks.size).toBe(0);
  });

  it('rejects buffers too short for the layout instead of reading out of bounds', () => {
    expect(() => R.reduce('sum', new Float32Array(3), 'float32', { outer: 2, size: 2, inner: 1 })).toThrow(
      'reference.reduce: expected x to hold at least 4 elements; got 3',
    );
    expect(() => R.unary('exp', view(new Float32Array(3), [2, 2], [2, 1]), 'float32')).toThrow(/reference\.unary/);
    expect(() => R.matmul(new Int32Array(4), new Int32Array(4), 'int32', { batch: 1, m: 2, n: 2, k: 2, transA: false, transB: false, strideA: 4, strideB: 4 })).toThrow(
      'reference.matmul: expected dtype float32 or float64; got int32',
    );
  });
});

describe('reference scans over long rows (the row-by-row walk)', () => {
  it('cumsum and linearRecurrence equal the per-column definition, forward and reverse, with h0', () => {
    const [outer, size, inner] = [2, 5, 300];
    const n = outer * size * inner;
    const a = Float64Array.from({ length: n }, (_, i) => Math.cos(i) * 0.9);
    const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i * 1.3));
    const h0 = Float64Array.from({ length: outer * inner }, (_, i) => i / 100);
    for (const reverse of [false, true]) {
      const p = { outer, size, inner, reverse };
      const cs = R.cumsum(b, 'float64', p) as Float64Array;
      const lr = R.linearRecurrence(a, b, h0, 'float64', p) as Float64Array;
      for (let o = 0; o < outer; o++) {
        for (let j = 0; j < inner; j++) {
          let sum = 0;
          let h = h0[o * inner + j];
          for (let step = 0; step < size; step++) {
            const t = reverse ? size - 1 - step : step;
            const at = (o * size + t) * inner + j;
            sum += b[at];
            h = a[at] * h + b[at];
            expect(cs[at]).toBe(sum);
            expect(lr[at]).toBe(h);
          }
        }
      }
    }
  });
});
