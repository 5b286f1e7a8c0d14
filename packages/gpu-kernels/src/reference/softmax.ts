import type { AxisLayout, DType, TypedArray } from '../types.js';
import { allocate, requireFloat, requireLength } from './dtype.js';

/**
 * softmax (or log_softmax when `log`) along the middle axis of (outer, size, inner).
 *
 * Shifts by the running max so exp never overflows, and sums exp in float64. A line that is all -Infinity has no
 * defined softmax: it gives NaN, exactly as torch.softmax does, so fully masked attention rows stay visible.
 */
export function softmax(x: TypedArray, dtype: DType, layout: AxisLayout, log: boolean): TypedArray {
  requireFloat('softmax', dtype);
  const { outer, size, inner } = layout;
  requireLength('softmax', 'x', x, outer * size * inner);
  const out = allocate(dtype, outer * size * inner);
  const e = new Float64Array(size);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const at = o * size * inner + j;
      let max = -Infinity;
      for (let s = 0; s < size; s++) {
        const v = x[at + s * inner];
        if (v > max || Number.isNaN(v)) max = v;
      }
      let sum = 0;
      for (let s = 0; s < size; s++) {
        e[s] = Math.exp(x[at + s * inner] - max);
        sum += e[s];
      }
      if (log) {
        const lse = Math.log(sum);
        for (let s = 0; s < size; s++) out[at + s * inner] = x[at + s * inner] - max - lse;
      } else {
        for (let s = 0; s < size; s++) out[at + s * inner] = e[s] / sum;
      }
    }
  }
  return out;
}
