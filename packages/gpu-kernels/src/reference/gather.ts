import type { AxisLayout, DType, TypedArray, View } from '../types.js';
import { allocate, requireLength } from './dtype.js';
import { checkView, sizeOf, viewOffsets } from './strided.js';

/**
 * The index stride along the axis when the index is the (outer, k, inner) view of one 1-D index (strides
 * [0, s, 0], as index_select and slice's backward make it), else null: then each (o, i) reads one index value and
 * moves a contiguous run of `inner` elements, with no per-element offset table.
 */
function rowIndexStride(index: View<TypedArray>): number | null {
  const { shape, strides } = index;
  if (shape.length !== 3) return null;
  return (strides[0] === 0 || shape[0] === 1) && (strides[2] === 0 || shape[2] === 1) ? strides[1] : null;
}

function checkIndex(kernel: string, index: View<TypedArray>, expected: number): void {
  const size = sizeOf(index.shape);
  if (size !== expected) {
    throw new Error(
      `reference.${kernel}: expected index to have ${expected} elements (outer x axis x inner); ` +
        `got shape [${index.shape.join(',')}]`,
    );
  }
  checkView(kernel, 'index', index);
}

/**
 * torch.gather along the middle axis: out[o, i, j] = x[o, index[o, i, j], j], out (outer, outSize, inner). The
 * index view is read in row-major order of its own shape (any shape with outer * outSize * inner elements, strided
 * or expanded). An index outside [0, size) is clamped into range so the kernel never reads out of bounds.
 */
export function gather(
  x: TypedArray,
  dtype: DType,
  layout: AxisLayout,
  index: View<TypedArray>,
  outSize: number,
): TypedArray {
  const { outer, size, inner } = layout;
  requireLength('gather', 'x', x, outer * size * inner);
  checkIndex('gather', index, outer * outSize * inner);
  const out = allocate(dtype, outer * outSize * inner);
  if (out.length === 0) return out;
  if (size === 0) return out; // nothing to read; the caller rules this out (torch raises)
  const idx = index.data;
  const rowStride = rowIndexStride(index);
  if (rowStride !== null) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < outSize; i++) {
        const s = Math.min(Math.max(idx[index.offset + i * rowStride] | 0, 0), size - 1);
        const from = (o * size + s) * inner;
        out.set(x.subarray(from, from + inner), (o * outSize + i) * inner);
      }
    }
    return out;
  }
  const offsets = viewOffsets(index);
  for (let o = 0, t = 0; o < outer; o++) {
    for (let i = 0; i < outSize; i++) {
      for (let j = 0; j < inner; j++, t++) {
        const s = Math.min(Math.max(idx[offsets[t]] | 0, 0), size - 1); // `| 0` also maps a stray NaN to 0
        out[t] = x[(o * size + s) * inner + j];
      }
    }
  }
  return out;
}

/**
 * The adjoint of gather (torch.Tensor.scatter_add_ on zeros): out (outer, size, inner), and
 * out[o, index[o, i, j], j] += src[o, i, j] for i < srcSize. Sums accumulate in float64 (int32 wraps) and are
 * rounded once. An index outside [0, size) is skipped, never written.
 */
export function scatterAdd(
  src: TypedArray,
  dtype: DType,
  index: View<TypedArray>,
  layout: AxisLayout,
  srcSize: number,
): TypedArray {
  const { outer, size, inner } = layout;
  requireLength('scatterAdd', 'src', src, outer * srcSize * inner);
  checkIndex('scatterAdd', index, outer * srcSize * inner);
  const acc = new Float64Array(outer * size * inner);
  const idx = index.data;
  const rowStride = rowIndexStride(index);
  if (rowStride !== null) {
    for (let o = 0; o < outer; o++) {
      for (let i = 0; i < srcSize; i++) {
        const s = idx[index.offset + i * rowStride];
        if (!(s >= 0 && s < size)) continue;
        const to = (o * size + Math.trunc(s)) * inner;
        const from = (o * srcSize + i) * inner;
        for (let j = 0; j < inner; j++) acc[to + j] += src[from + j];
      }
    }
  } else {
    scatterAddStrided(src, index, layout, srcSize, acc);
  }
  const out = allocate(dtype, acc.length);
  out.set(acc); // rounds once to float32; int32 stores wrap as ToInt32 does
  return out;
}

function scatterAddStrided(src: TypedArray, index: View<TypedArray>, layout: AxisLayout, srcSize: number, acc: Float64Array): void {
  const { outer, size, inner } = layout;
  const offsets = viewOffsets(index);
  const idx = index.data;
  for (let o = 0, t = 0; o < outer; o++) {
    for (let i = 0; i < srcSize; i++) {
      for (let j = 0; j < inner; j++, t++) {
        const s = idx[offsets[t]];
        if (!(s >= 0 && s < size)) continue;
        acc[(o * size + Math.trunc(s)) * inner + j] += src[t];
      }
    }
  }
}
