import type { AxisLayout, DType, ReduceOp, TypedArray } from '../types.js';
import { allocate, requireLength } from './dtype.js';

/**
 * Reduce the middle axis of (outer, size, inner) to (outer, inner).
 *
 * sum accumulates in float64 and rounds once into the output dtype, so the reference is the correctly rounded
 * sum a float32 backend approximates. max/min propagate NaN and argmax/argmin pick the first NaN if there is
 * one, else the first extreme (torch semantics); the indices are int32. An empty axis gives the op's identity:
 * 0 for sum, -Infinity/+Infinity for max/min (the int32 extremes for int32) and index 0 for argmax/argmin, which
 * the caller (torch raises there) rules out.
 */
export function reduce(op: ReduceOp, x: TypedArray, dtype: DType, layout: AxisLayout): TypedArray {
  const { outer, size, inner } = layout;
  requireLength('reduce', 'x', x, outer * size * inner);
  const isArg = op === 'argmax' || op === 'argmin';
  const out = allocate(isArg ? 'int32' : dtype, outer * inner);
  const wantMax = op === 'max' || op === 'argmax';
  if (op === 'sum' && inner > 1) {
    // Row by row into a float64 accumulator row: reads x in memory order (a column walk strides by `inner` and
    // misses the cache on every element once the rows are long).
    const acc = new Float64Array(inner);
    for (let o = 0; o < outer; o++) {
      acc.fill(0);
      for (let s = 0, at = o * size * inner; s < size; s++, at += inner) {
        for (let j = 0; j < inner; j++) acc[j] += x[at + j];
      }
      out.set(acc, o * inner);
    }
    return out;
  }
  for (let o = 0; o < outer; o++) {
    const base = o * size * inner;
    for (let j = 0; j < inner; j++) {
      const at = base + j;
      if (op === 'sum') {
        let acc = 0;
        for (let s = 0; s < size; s++) acc += x[at + s * inner];
        out[o * inner + j] = acc;
        continue;
      }
      let best = wantMax ? -Infinity : Infinity;
      if (dtype === 'int32') best = wantMax ? -2147483648 : 2147483647;
      let bestIndex = 0;
      for (let s = 0; s < size; s++) {
        const v = x[at + s * inner];
        if (Number.isNaN(v)) {
          best = v;
          bestIndex = s;
          break;
        }
        if (wantMax ? v > best : v < best) {
          best = v;
          bestIndex = s;
        }
      }
      out[o * inner + j] = isArg ? bestIndex : best;
    }
  }
  return out;
}
