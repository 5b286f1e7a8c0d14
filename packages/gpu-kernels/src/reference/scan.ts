import type { DType, ScanParams, TypedArray } from '../types.js';
import { allocate, requireFloat, requireLength } from './dtype.js';

/**
 * Scans walk one column (one inner index) through all steps while a step's row is short and stays in L1; from
 * this many inner elements on they walk step by step over whole rows of running states instead, which reads
 * memory in order (a column walk over rows of 4096 misses the cache on every element: 4x slower).
 */
const ROW_WALK_MIN_INNER = 256;

/**
 * Inclusive cumulative sum along the middle axis of (outer, size, inner), from the end when `reverse`. The running
 * sum is float64 and each output is rounded from it, so float32 error does not compound along the axis; int32
 * wraps as int32 hardware does (exactly, while the true sum stays below 2^53).
 */
export function cumsum(x: TypedArray, dtype: DType, p: ScanParams): TypedArray {
  const { outer, size, inner, reverse } = p;
  requireLength('cumsum', 'x', x, outer * size * inner);
  const out = allocate(dtype, outer * size * inner);
  if (inner < ROW_WALK_MIN_INNER) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const at = o * size * inner + j;
        let sum = 0;
        for (let step = 0; step < size; step++) {
          const s = reverse ? size - 1 - step : step;
          sum += x[at + s * inner];
          out[at + s * inner] = sum;
        }
      }
    }
    return out;
  }
  // Step by step over whole rows of `inner` running sums (float64), so x and out are read in memory order.
  const acc = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    acc.fill(0);
    for (let step = 0; step < size; step++) {
      const s = reverse ? size - 1 - step : step;
      const at = (o * size + s) * inner;
      for (let j = 0; j < inner; j++) {
        acc[j] += x[at + j];
        out[at + j] = acc[j];
      }
    }
  }
  return out;
}

/**
 * h[t] = a[t] * h[t-1] + b[t] along the middle axis of (outer, T, inner), with h[-1] = h0 (or 0); with `reverse`,
 * t runs from T-1 down to 0 and h[T] = h0. This is the first-order linear scan behind SSMs (S4/Mamba recurrent
 * mode) and causal linear attention. The state is carried in float64 and each h[t] is rounded once on output.
 */
export function linearRecurrence(
  a: TypedArray,
  b: TypedArray,
  h0: TypedArray | null,
  dtype: DType,
  p: ScanParams,
): TypedArray {
  requireFloat('linearRecurrence', dtype);
  const { outer, size, inner, reverse } = p;
  requireLength('linearRecurrence', 'a', a, outer * size * inner);
  requireLength('linearRecurrence', 'b', b, outer * size * inner);
  if (h0) requireLength('linearRecurrence', 'h0', h0, outer * inner);
  const out = allocate(dtype, outer * size * inner);
  if (inner < ROW_WALK_MIN_INNER) {
    for (let o = 0; o < outer; o++) {
      for (let j = 0; j < inner; j++) {
        const at = o * size * inner + j;
        let state = h0 ? h0[o * inner + j] : 0;
        for (let step = 0; step < size; step++) {
          const t = reverse ? size - 1 - step : step;
          state = a[at + t * inner] * state + b[at + t * inner];
          out[at + t * inner] = state;
        }
      }
    }
    return out;
  }
  // Step by step over a row of `inner` states (float64), so a, b and out are read in memory order.
  const h = new Float64Array(inner);
  for (let o = 0; o < outer; o++) {
    if (h0) for (let j = 0; j < inner; j++) h[j] = h0[o * inner + j];
    else h.fill(0);
    for (let step = 0; step < size; step++) {
      const t = reverse ? size - 1 - step : step;
      const at = (o * size + t) * inner;
      for (let j = 0; j < inner; j++) {
        const v = a[at + j] * h[j] + b[at + j];
        h[j] = v;
        out[at + j] = v;
      }
    }
  }
  return out;
}
