import fc from 'fast-check';
import type { AxisLayout, DType } from '@formers/gpu-kernels';
import type { ConformanceCase, ViewSpec } from './case-types.js';
import { viewOf } from './case-types.js';
import { makeLayout, type LayoutKind } from './layouts.js';
import { createRng, intData, realData, type Rng } from './rng.js';

interface IndexCase {
  readonly label: string;
  readonly tags: readonly string[];
  readonly layout: AxisLayout;
  /** Length of the gathered (or scattered-from) axis. */
  readonly other: number;
  readonly kind: LayoutKind;
  readonly outOfRange: boolean;
}

function indexCases(seed: number): IndexCase[] {
  const random = fc.sample(
    fc.record({
      outer: fc.integer({ min: 1, max: 4 }),
      size: fc.integer({ min: 1, max: 12 }),
      inner: fc.integer({ min: 1, max: 4 }),
      other: fc.integer({ min: 1, max: 12 }),
    }),
    { seed, numRuns: 3 },
  );
  const kinds: LayoutKind[] = ['contiguous', 'transposed', 'sliced'];
  return [
    ...random.map(({ outer, size, inner, other }, i) => ({
      label: `random-${i}-${kinds[i]}`,
      tags: ['random', ...(i > 0 ? ['strided'] : [])],
      layout: { outer, size, inner },
      other,
      kind: kinds[i],
      outOfRange: false,
    })),
    // The same index for every inner position, as index.expand(...) gives (take_along_dim over one axis).
    { label: 'expanded', tags: ['strided', 'expanded'], layout: { outer: 3, size: 5, inner: 4 }, other: 6, kind: 'expanded', outOfRange: false },
    { label: 'flipped', tags: ['strided', 'flipped'], layout: { outer: 2, size: 5, inner: 3 }, other: 4, kind: 'flipped', outOfRange: false },
    { label: 'size-1', tags: ['edge'], layout: { outer: 1, size: 1, inner: 1 }, other: 1, kind: 'contiguous', outOfRange: false },
    { label: 'empty', tags: ['edge', 'empty'], layout: { outer: 2, size: 4, inner: 3 }, other: 0, kind: 'contiguous', outOfRange: false },
    { label: 'out-of-range', tags: ['out-of-range'], layout: { outer: 2, size: 4, inner: 3 }, other: 7, kind: 'contiguous', outOfRange: true },
    { label: 'large', tags: ['large'], layout: { outer: 100, size: 30, inner: 30 }, other: 40, kind: 'contiguous', outOfRange: false },
  ];
}

/** An int32 index view of shape (outer, other, inner) in the case's layout, values in [0, size) or beyond. */
function indexView(rng: Rng, c: IndexCase, size: number): { data: Int32Array; spec: ViewSpec } {
  const shape = [c.layout.outer, c.other, c.layout.inner];
  // 'expanded' broadcasts along inner (the last dim), whatever the extents.
  const layout = c.kind === 'expanded' ? makeLayout('contiguous', shape, [2]) : makeLayout(c.kind, shape);
  const lo = c.outOfRange ? -3 : 0;
  const hi = c.outOfRange ? size + 2 : size - 1;
  const data = intData(rng, 'int32', layout.baseSize, lo, hi) as Int32Array;
  return { data, spec: { ...layout, shape, dtype: 'int32' } };
}

function fill(rng: Rng, dtype: DType, n: number) {
  return dtype === 'int32' ? intData(rng, dtype, n, -100, 100) : realData(rng, dtype, n);
}

export function gatherCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 70);
  for (const dtype of dtypes) {
    for (const c of indexCases(seed + 71)) {
      const { outer, size, inner } = c.layout;
      const x = fill(rng, dtype, outer * size * inner);
      const index = indexView(rng, c, size);
      const outSize = c.other;
      cases.push({
        id: `gather/${dtype}/${c.label}`,
        kernel: 'gather',
        dtype,
        tags: c.tags,
        inputs: [{ data: x, dtype }, { data: index.data, dtype: 'int32', keep: true }],
        outputs: [{ dtype, size: outer * outSize * inner }],
        scale: 'none',
        invoke: async (b, [hx, hi]) => [await b.gather(hx, dtype, c.layout, viewOf(hi, index.spec), outSize)],
      });
      const src = fill(rng, dtype, outer * c.other * inner);
      const srcSize = c.other;
      cases.push({
        id: `scatterAdd/${dtype}/${c.label}`,
        kernel: 'scatterAdd',
        dtype,
        tags: c.tags,
        inputs: [{ data: src, dtype }, { data: index.data, dtype: 'int32', keep: true }],
        outputs: [{ dtype, size: outer * size * inner }],
        scale: dtype === 'int32' ? 'none' : 'abs',
        invoke: async (b, [hs, hi]) => [await b.scatterAdd(hs, dtype, viewOf(hi, index.spec), c.layout, srcSize)],
      });
    }
  }
  return cases;
}

export function concatCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 80);
  const random = fc.sample(
    fc.record({
      outer: fc.integer({ min: 1, max: 4 }),
      inner: fc.integer({ min: 1, max: 4 }),
      sizes: fc.array(fc.integer({ min: 0, max: 5 }), { minLength: 1, maxLength: 4 }),
    }),
    { seed: seed + 81, numRuns: 3 },
  );
  const all = [
    ...random.map((value, i) => ({ label: `random-${i}`, tags: ['random'], value })),
    { label: 'single', tags: ['edge'], value: { outer: 1, inner: 1, sizes: [1] } },
    { label: 'empty-piece', tags: ['edge', 'empty'], value: { outer: 2, inner: 3, sizes: [2, 0, 1] } },
    { label: 'all-empty', tags: ['edge', 'empty'], value: { outer: 0, inner: 3, sizes: [2, 1] } },
    { label: 'large', tags: ['large'], value: { outer: 100, inner: 100, sizes: [3, 4, 3] } },
  ];
  for (const dtype of dtypes) {
    for (const { label, tags, value } of all) {
      const { outer, inner, sizes } = value;
      const xs = sizes.map((s) => fill(rng, dtype, outer * s * inner));
      const totalSize = sizes.reduce((a, b) => a + b, 0);
      cases.push({
        id: `concat/${dtype}/${label}`,
        kernel: 'concat',
        dtype,
        tags,
        inputs: xs.map((data) => ({ data, dtype })),
        outputs: [{ dtype, size: outer * totalSize * inner }],
        scale: 'none',
        invoke: async (b, hs) => [await b.concat(hs, dtype, outer, sizes, inner)],
      });
    }
  }
  return cases;
}
