import type { DType, TypedArray } from '../types.js';
import { allocate, requireLength } from './dtype.js';

/** Concatenate contiguous (outer, sizes[i], inner) buffers along the middle axis into (outer, sum(sizes), inner). */
export function concat(
  xs: readonly TypedArray[],
  dtype: DType,
  outer: number,
  sizes: readonly number[],
  inner: number,
): TypedArray {
  if (xs.length !== sizes.length) {
    throw new Error(`reference.concat: expected one size per input (${xs.length}); got ${sizes.length} sizes`);
  }
  xs.forEach((x, i) => requireLength('concat', `xs[${i}]`, x, outer * sizes[i] * inner));
  const total = sizes.reduce((s, d) => s + d, 0);
  const out = allocate(dtype, outer * total * inner);
  for (let o = 0, at = 0; o < outer; o++) {
    for (let i = 0; i < xs.length; i++) {
      const block = sizes[i] * inner;
      const start = o * block;
      if (xs[i].constructor === out.constructor) {
        out.set(xs[i].subarray(start, start + block), at);
      } else {
        for (let t = 0; t < block; t++) out[at + t] = xs[i][start + t];
      }
      at += block;
    }
  }
  return out;
}
