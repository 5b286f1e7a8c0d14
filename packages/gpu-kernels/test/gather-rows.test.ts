import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { referenceBackend as R } from '@formers/gpu-kernels';

/** The (outer, k, inner) expanded view of a 1-D index, as index_select makes it, and the same index materialised. */
function views(idx: number[], outer: number, inner: number, stride: number) {
  const k = idx.length;
  const spaced = new Int32Array(k * stride + 1);
  idx.forEach((v, i) => (spaced[1 + i * stride] = v));
  const expanded = { data: spaced, dtype: 'int32' as const, shape: [outer, k, inner], strides: [0, stride, 0], offset: 1 };
  const full = Int32Array.from({ length: outer * k * inner }, (_, t) => idx[Math.floor(t / inner) % k]);
  const materialised = { data: full, dtype: 'int32' as const, shape: [outer * k * inner], strides: [1], offset: 0 };
  return { expanded, materialised };
}

describe('gather / scatterAdd with a broadcast 1-D index (the row fast path)', () => {
  it('equal the per-element path, out-of-range indices included (clamped by gather, skipped by scatterAdd)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 1, max: 3 }),
        fc.array(fc.integer({ min: -2, max: 7 }), { minLength: 1, maxLength: 7 }),
        (outer, size, inner, stride, idx) => {
          const k = idx.length;
          const { expanded, materialised } = views(idx, outer, inner, stride);
          const x = Float64Array.from({ length: outer * size * inner }, (_, i) => Math.sin(i) * 3);
          const layout = { outer, size, inner };
          expect(Array.from(R.gather(x, 'float64', layout, expanded, k) as Float64Array)).toEqual(
            Array.from(R.gather(x, 'float64', layout, materialised, k) as Float64Array),
          );
          const src = Float32Array.from({ length: outer * k * inner }, (_, i) => Math.cos(i) * 2);
          expect(Array.from(R.scatterAdd(src, 'float32', expanded, layout, k) as Float32Array)).toEqual(
            Array.from(R.scatterAdd(src, 'float32', materialised, layout, k) as Float32Array),
          );
        },
      ),
      { numRuns: 300 },
    );
  });
});
