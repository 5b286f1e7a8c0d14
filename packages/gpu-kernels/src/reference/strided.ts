import type { View } from '../types.js';
import { requireLength } from './dtype.js';

/** Number of elements of a shape (1 for a scalar, 0 when any extent is 0). */
export function sizeOf(shape: readonly number[]): number {
  let size = 1;
  for (const d of shape) size *= d;
  return size;
}

/**
 * Check that every element a strided view addresses lies inside its buffer. Strides may be zero (expand) or
 * negative (flip), so the extreme offsets are offset + sum of (extent - 1) * stride over the negative or positive
 * strides respectively.
 */
export function checkView(kernel: string, arg: string, view: View<ArrayLike<number>>): void {
  if (sizeOf(view.shape) === 0) return;
  if (view.strides.length !== view.shape.length) {
    throw new Error(
      `reference.${kernel}: expected ${arg}.strides to have ${view.shape.length} entries (one per dim); ` +
        `got ${view.strides.length}`,
    );
  }
  let lo = view.offset;
  let hi = view.offset;
  for (let d = 0; d < view.shape.length; d++) {
    const reach = (view.shape[d] - 1) * view.strides[d];
    if (reach < 0) lo += reach;
    else hi += reach;
  }
  if (lo < 0 || !Number.isInteger(lo) || !Number.isInteger(hi)) {
    throw new Error(`reference.${kernel}: ${arg} addresses element ${lo}, before the start of its buffer`);
  }
  requireLength(kernel, arg, view.data, hi + 1);
}

/**
 * The buffer offset of every element of a strided view, in row-major order of its shape. Walking the shape as an
 * odometer keeps the per-element cost to one add, whatever the strides.
 */
export function viewOffsets(view: View<unknown>): Int32Array {
  const { shape, strides } = view;
  const size = sizeOf(shape);
  const out = new Int32Array(size);
  if (size === 0) return out;
  const rank = shape.length;
  if (rank === 0) {
    out[0] = view.offset;
    return out;
  }
  const index = new Array<number>(rank).fill(0);
  const last = rank - 1;
  const lastExtent = shape[last];
  const lastStride = strides[last];
  let base = view.offset;
  let i = 0;
  while (i < size) {
    // The innermost dim runs as a plain loop; the odometer only carries across the outer dims.
    let off = base;
    for (let j = 0; j < lastExtent; j++, off += lastStride) out[i++] = off;
    let d = last - 1;
    while (d >= 0) {
      index[d]++;
      base += strides[d];
      if (index[d] < shape[d]) break;
      base -= strides[d] * shape[d];
      index[d] = 0;
      d--;
    }
    if (d < 0) break;
  }
  return out;
}

/** True when a view is the plain row-major layout of its shape, so its elements can be read in place. */
export function isContiguous(view: View<unknown>): boolean {
  let expected = 1;
  for (let d = view.shape.length - 1; d >= 0; d--) {
    if (view.shape[d] !== 1 && view.strides[d] !== expected) return false;
    expected *= view.shape[d];
  }
  return true;
}
