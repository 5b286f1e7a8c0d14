/** Shape and stride arithmetic shared by every op. Pure functions over plain number arrays. */

/** Number of elements of a shape (1 for a scalar, 0 when any extent is 0). */
export function numelOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Row-major strides of a shape, in elements. */
export function contiguousStrides(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    strides[d] = s;
    s *= shape[d];
  }
  return strides;
}

/** `[2,3]` for messages. */
export function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

/** True when a shape is a list of non-negative integers. */
export function checkShape(op: string, arg: string, shape: unknown): number[] {
  if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) {
    throw new Error(`${op}: expected ${arg} to be an array of non-negative integers; got ${JSON.stringify(shape)}`);
  }
  return [...shape];
}

/** Map a possibly negative dim into [0, ndim); `ndim` 0 accepts dims -1 and 0 as torch does for scalars. */
export function normDim(op: string, dim: number, ndim: number, arg = 'dim'): number {
  const n = Math.max(ndim, 1);
  if (!Number.isInteger(dim) || dim < -n || dim >= n) {
    throw new Error(`${op}: expected ${arg} in [${-n}, ${n - 1}] for a ${ndim}-d tensor; got ${dim}`);
  }
  return dim < 0 ? dim + n : dim;
}

/**
 * The broadcast shape of two shapes under PyTorch (NumPy) rules: align trailing dims; each pair must be equal or
 * contain a 1.
 */
export function broadcastShapes(op: string, a: readonly number[], b: readonly number[]): number[] {
  const n = Math.max(a.length, b.length);
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) {
    const da = a.length - n + i >= 0 ? a[a.length - n + i] : 1;
    const db = b.length - n + i >= 0 ? b[b.length - n + i] : 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new Error(
        `${op}: shapes ${fmt(a)} and ${fmt(b)} are not broadcastable: ` +
          `dim ${i - n} has sizes ${da} and ${db} (each pair must be equal or contain a 1)`,
      );
    }
    out[i] = da === 1 ? db : da;
  }
  return out;
}

/** Broadcast any number of shapes. */
export function broadcastAll(op: string, shapes: readonly (readonly number[])[]): number[] {
  return shapes.reduce<number[]>((acc, s) => broadcastShapes(op, acc, s), []);
}

/**
 * Strides for viewing a tensor of `shape`/`strides` as `target` without copying (torch's `computeStride`), or
 * null when the memory layout does not allow it (the caller then copies first).
 */
export function viewStrides(
  shape: readonly number[],
  strides: readonly number[],
  target: readonly number[],
): number[] | null {
  const numel = numelOf(shape);
  if (numel <= 1) return contiguousStrides(target);
  const out = new Array<number>(target.length);
  let viewD = target.length - 1;
  let chunkBase = strides.length > 0 ? strides[strides.length - 1] : 1;
  let tensorNumel = 1;
  let viewNumel = 1;
  for (let d = shape.length - 1; d >= 0; d--) {
    tensorNumel *= shape[d];
    // A chunk of dims that are mutually contiguous ends here when the next dim out is not.
    if (d === 0 || (shape[d - 1] !== 1 && strides[d - 1] !== tensorNumel * chunkBase)) {
      while (viewD >= 0 && (viewNumel < tensorNumel || target[viewD] === 1)) {
        out[viewD] = viewNumel * chunkBase;
        viewNumel *= target[viewD];
        viewD--;
      }
      if (viewNumel !== tensorNumel) return null;
      if (d > 0) {
        chunkBase = strides[d - 1];
        tensorNumel = 1;
        viewNumel = 1;
      }
    }
  }
  if (viewD !== -1) return null;
  return out;
}

/** Resolve a `-1` entry of a reshape target against `numel`. */
export function inferShape(op: string, target: readonly number[], numel: number, from: readonly number[]): number[] {
  let infer = -1;
  let known = 1;
  target.forEach((d, i) => {
    if (d === -1) {
      if (infer >= 0) throw new Error(`${op}: only one dimension can be -1; got shape ${fmt(target)}`);
      infer = i;
    } else if (!Number.isInteger(d) || d < 0) {
      throw new Error(`${op}: expected shape entries to be non-negative integers or -1; got ${fmt(target)}`);
    } else {
      known *= d;
    }
  });
  const out = [...target];
  if (infer >= 0) {
    if (known === 0 || numel % known !== 0) {
      throw new Error(`${op}: shape ${fmt(target)} is invalid for input of size ${numel} (shape ${fmt(from)})`);
    }
    out[infer] = numel / known;
  } else if (known !== numel) {
    throw new Error(`${op}: shape ${fmt(target)} is invalid for input of size ${numel} (shape ${fmt(from)})`);
  }
  return out;
}

/** (outer, size, inner) around `dim` of a contiguous shape. */
export function axisLayout(shape: readonly number[], dim: number): { outer: number; size: number; inner: number } {
  let outer = 1;
  let inner = 1;
  for (let d = 0; d < dim; d++) outer *= shape[d];
  for (let d = dim + 1; d < shape.length; d++) inner *= shape[d];
  return { outer, size: shape.length === 0 ? 1 : shape[dim], inner };
}
