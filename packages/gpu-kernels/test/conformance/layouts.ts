/**
 * Strided layouts for a logical shape, as tensor-core's views produce them: contiguous, transposed (permuted
 * strides), sliced (an offset into a larger buffer), expanded (stride 0) and flipped (negative stride).
 */
export type LayoutKind = 'contiguous' | 'transposed' | 'sliced' | 'expanded' | 'flipped';

export const LAYOUT_KINDS: readonly LayoutKind[] = ['contiguous', 'transposed', 'sliced', 'expanded', 'flipped'];

export interface Layout {
  /** Elements the underlying buffer needs. */
  readonly baseSize: number;
  readonly strides: number[];
  readonly offset: number;
}

export function sizeOfShape(shape: readonly number[]): number {
  return shape.reduce((s, d) => s * d, 1);
}

export function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1] * shape[d + 1];
  return strides;
}

/**
 * A layout of `kind` for `shape`; dims listed in `broadcast` get stride 0 (PyTorch expand), whatever the kind.
 */
export function makeLayout(kind: LayoutKind, shape: readonly number[], broadcast: readonly number[] = []): Layout {
  const rank = shape.length;
  const own = shape.map((d, i) => (broadcast.includes(i) ? 1 : d));
  if (kind === 'expanded') {
    // Expand the first dim longer than 1 that is not already broadcast.
    const d = own.findIndex((e) => e > 1);
    if (d >= 0) return makeLayout('contiguous', shape, [...broadcast, d]);
  }
  let strides: number[];
  let offset = 0;
  let baseSize = sizeOfShape(own);
  switch (kind) {
    case 'transposed': {
      // Stored with the dims reversed, read through permuted strides (x.T / x.permute(...)).
      const baseStrides = rowMajorStrides([...own].reverse());
      strides = own.map((_, d) => baseStrides[rank - 1 - d]);
      break;
    }
    case 'sliced': {
      // x[1:-1, 1:-1, ...] of a buffer two longer in every dim.
      const baseShape = own.map((d) => d + 2);
      strides = rowMajorStrides(baseShape);
      offset = strides.reduce((s, st) => s + st, 0);
      baseSize = sizeOfShape(baseShape);
      break;
    }
    case 'flipped': {
      // x.flip(0, -1): negative strides starting from the last element of those dims.
      strides = rowMajorStrides(own);
      if (baseSize > 0) {
        for (const d of new Set([0, rank - 1])) {
          if (d < 0 || d >= rank) continue;
          offset += (own[d] - 1) * strides[d];
          strides[d] = -strides[d];
        }
      }
      break;
    }
    default:
      strides = rowMajorStrides(own);
  }
  for (const d of broadcast) strides[d] = 0;
  if (sizeOfShape(shape) === 0) offset = 0;
  return { baseSize, strides, offset };
}
