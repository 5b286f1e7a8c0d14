import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceBackend as R } from '@formers/gpu-kernels';
import { collapseDims } from '../src/reference/blocked-walk.js';

/** A random strided view: per dim a stride that may be 0 (expand), negative (flip) or permuted, over a buffer. */
const stridedView = (shape: number[]) =>
  fc.tuple(fc.array(fc.integer({ min: -3, max: 3 }), { minLength: shape.length, maxLength: shape.length }), fc.boolean()).map(([mult, permute]) => {
    // Distinct magnitudes so that most views are one-to-one, as tensor-core's are; zeros expand.
    let scale = 1;
    const order = shape.map((_, d) => d);
    if (permute) order.reverse();
    const strides = new Array<number>(shape.length).fill(0);
    for (let i = order.length - 1; i >= 0; i--) {
      const d = order[i];
      strides[d] = mult[d] === 0 ? 0 : Math.sign(mult[d]) * scale;
      scale *= shape[d] + (Math.abs(mult[d]) > 1 ? 1 : 0); // a gap between rows when |mult| > 1 (a slice)
    }
    let offset = 0;
    for (let d = 0; d < shape.length; d++) if (strides[d] < 0) offset -= strides[d] * (shape[d] - 1);
    const data = Float64Array.from({ length: scale + offset + 1 }, (_, i) => Math.sin(i * 1.7) * 10);
    return { data, dtype: 'float64' as const, shape, strides, offset };
  });

const shapes = fc.array(fc.integer({ min: 1, max: 4 }), { minLength: 0, maxLength: 5 });

/** view element at a row-major flat index, computed the slow, obvious way. */
function at(v: { data: Float64Array; shape: number[]; strides: number[]; offset: number }, flat: number): number {
  let off = v.offset;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    off += (flat % v.shape[d]) * v.strides[d];
    flat = Math.floor(flat / v.shape[d]);
  }
  return v.data[off];
}

describe('blocked strided walk', () => {
  it('unary, binary and where over arbitrary strides equal per-element indexing', () => {
    fc.assert(
      fc.property(
        shapes.chain((s) => fc.tuple(fc.constant(s), stridedView(s), stridedView(s), stridedView(s))),
        ([shape, a, b, c]) => {
          const n = shape.reduce((p, d) => p * d, 1);
          const u = R.unary('neg', a, 'float64') as Float64Array;
          const s = R.binary('sub', a, b, shape, 'float64') as Float64Array;
          const w = R.where(c, a, b, shape, 'float64') as Float64Array;
          for (let i = 0; i < n; i++) {
            expect(u[i]).toBe(-at(a, i));
            expect(s[i]).toBe(at(a, i) - at(b, i));
            expect(w[i]).toBe(at(c, i) !== 0 ? at(a, i) : at(b, i));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('merges dims contiguous across their boundary and drops size-1 dims', () => {
    // (B, T, D) + (D,) bias: T and B merge for both operands; D stays apart (stride 1 against the bias's 1).
    const c = collapseDims([2, 3, 4], [{ strides: [12, 4, 1], offset: 0 }, { strides: [0, 0, 1], offset: 5 }]);
    expect(c.shape).toEqual([6, 4]);
    expect(c.strides).toEqual([[4, 1], [0, 1]]);
    expect(c.offsets).toEqual([0, 5]);
    expect(collapseDims([1, 5, 1], [{ strides: [9, 2, 7], offset: 0 }]).shape).toEqual([5]);
    expect(collapseDims([], [{ strides: [], offset: 3 }]).shape).toEqual([]);
  });
});
