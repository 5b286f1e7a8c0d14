import type { View } from '../../types.js';
import { decompose, f } from '../source.js';

/** The geometry of strided views walked together over one iteration shape (the output's). */
export interface StridedGeometry {
  /** The iteration shape after dropping extent-1 dims and merging dims every view walks contiguously. */
  readonly shape: readonly number[];
  /** Per view: its strides over `shape` and its offset. */
  readonly views: readonly { strides: readonly number[]; offset: number }[];
}

/**
 * Simplify the joint iteration of several views of the same logical shape: extent-1 dims go, and dims d, d+1
 * merge when every view steps over them as one (stride[d] = stride[d+1] * extent[d+1]), so a contiguous view of
 * any rank becomes one dim and the generated index math is as short as the layout allows.
 */
export function jointGeometry(shape: readonly number[], views: readonly View<unknown>[]): StridedGeometry {
  let dims: { n: number; s: number[] }[] = [];
  shape.forEach((n, d) => {
    if (n !== 1) dims.push({ n, s: views.map((v) => v.strides[d]) });
  });
  const merged: { n: number; s: number[] }[] = [];
  for (const dim of dims) {
    const last = merged[merged.length - 1];
    if (last && last.s.every((s, k) => s === dim.s[k] * dim.n)) {
      merged[merged.length - 1] = { n: last.n * dim.n, s: dim.s };
    } else {
      merged.push(dim);
    }
  }
  dims = merged;
  return {
    shape: dims.map((d) => d.n),
    views: views.map((v, k) => ({ strides: dims.map((d) => d.s[k]), offset: v.offset })),
  };
}

/** Statements splitting the thread index `i` into coordinates `c0..` of the geometry's shape. */
export function coordinates(g: StridedGeometry): string {
  return g.shape.length === 0 ? '' : decompose('i', g.shape, 'c');
}

/** The buffer-offset expression of view `k` at the coordinates `coordinates(g)` declared. */
export function offsetExpr(g: StridedGeometry, k: number): string {
  const { strides, offset } = g.views[k];
  const terms: string[] = [f(offset)];
  strides.forEach((s, d) => {
    if (s === 0) return;
    // A single dim of stride 1 is the thread index itself.
    terms.push(g.shape.length === 1 && s === 1 ? 'c0' : `c${d} * ${f(s)}`);
  });
  return terms.join(' + ');
}
