/**
 * Views: ops that share the input's storage and only change shape, strides and offset (reshape of compatible
 * layouts, permute, transpose, slice, select, expand, unsqueeze, squeeze, flatten, flip), plus contiguous/clone.
 * Each records a backward that maps the gradient back to the input's shape.
 */
import { record1 } from '../autograd.js';
import { fmt, inferShape, normDim, shapesEqual, viewStrides } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { unaryRaw } from './elementwise.js';
import { scatterSlice } from './indexing.js';
import { sumToShape } from './reduce.js';

function viewOp(name: string, x: Tensor, shape: readonly number[], strides: readonly number[], offset: number, back: (g: Tensor) => Tensor): Tensor {
  const y = x.makeView(shape, strides, offset);
  return record1(name, [x], y, (g) => [back(g)], []);
}

/** A contiguous copy (the tensor itself when already contiguous, as torch). */
export function contiguous(x: Tensor): Tensor {
  if (x.isContiguous()) return x;
  return clone(x);
}

/** A contiguous copy that never shares storage with `x`. */
export function clone(x: Tensor): Tensor {
  const y = unaryRaw('identity', x);
  return record1('CloneBackward', [x], y, (g) => [g], []);
}

/** A view with a new shape (one entry may be -1); throws when the layout needs a copy (use reshape). */
export function view(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape('view', shape, x.numel, x.shape);
  const strides = viewStrides(x.shape, x.strides, target);
  if (!strides) {
    throw new Error(
      `view: size ${fmt(target)} is not compatible with input ${fmt(x.shape)} strides ${fmt(x.strides)} ` +
        '(at least one dimension spans two contiguous subspaces); use reshape(...) instead',
    );
  }
  return viewOp('ViewBackward', x, target, strides, x.offset, (g) => reshape(g, x.shape));
}

/** A tensor with a new shape: a view when the layout allows, else a contiguous copy. */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const target = inferShape('reshape', shape, x.numel, x.shape);
  if (shapesEqual(target, x.shape)) return x;
  const strides = viewStrides(x.shape, x.strides, target);
  if (strides) return viewOp('ViewBackward', x, target, strides, x.offset, (g) => reshape(g, x.shape));
  return view(clone(x), target);
}

/** Reorder dims: out.shape[i] = x.shape[dims[i]]. */
export function permute(x: Tensor, dims: readonly number[]): Tensor {
  if (dims.length !== x.ndim) {
    throw new Error(`permute: expected ${x.ndim} dims (one per input dim) for shape ${fmt(x.shape)}; got ${fmt(dims)}`);
  }
  const d = dims.map((v) => normDim('permute', v, x.ndim));
  if (new Set(d).size !== d.length) throw new Error(`permute: expected each dim once; got ${fmt(dims)}`);
  const inverse = new Array<number>(d.length);
  d.forEach((v, i) => (inverse[v] = i));
  return viewOp(
    'PermuteBackward',
    x,
    d.map((v) => x.shape[v]),
    d.map((v) => x.strides[v]),
    x.offset,
    (g) => permute(g, inverse),
  );
}

export function transpose(x: Tensor, dim0: number, dim1: number): Tensor {
  const a = normDim('transpose', dim0, x.ndim, 'dim0');
  const b = normDim('transpose', dim1, x.ndim, 'dim1');
  if (x.ndim < 2 || a === b) return x;
  const dims = x.shape.map((_, i) => i);
  dims[a] = b;
  dims[b] = a;
  return permute(x, dims);
}

/** Matrix transpose; 0-d and 1-d tensors are returned unchanged, as torch.t. */
export function t(x: Tensor): Tensor {
  if (x.ndim > 2) throw new Error(`t: expected a tensor with at most 2 dims; got shape ${fmt(x.shape)} (use transpose)`);
  return x.ndim < 2 ? x : transpose(x, 0, 1);
}

/** Move one dim to another position. */
export function movedim(x: Tensor, source: number, destination: number): Tensor {
  const s = normDim('movedim', source, x.ndim, 'source');
  const d = normDim('movedim', destination, x.ndim, 'destination');
  const order = x.shape.map((_, i) => i).filter((i) => i !== s);
  order.splice(d, 0, s);
  return permute(x, order);
}

/**
 * Elements start, start + step, ... below end along `dim` (x[..., start:end:step]). Negative start/end count from
 * the end; out-of-range bounds are clamped, as Python slicing. `step` must be positive (use flip to reverse).
 */
export function slice(x: Tensor, dim: number, start?: number | null, end?: number | null, step = 1): Tensor {
  const d = normDim('slice', dim, x.ndim);
  if (!Number.isInteger(step) || step <= 0) throw new Error(`slice: expected step to be a positive integer; got ${step}`);
  const n = x.shape[d];
  const norm = (v: number | null | undefined, dflt: number, arg: string) => {
    if (v === null || v === undefined) return dflt;
    if (!Number.isInteger(v)) throw new Error(`slice: expected ${arg} to be an integer; got ${v}`);
    const w = v < 0 ? v + n : v;
    return Math.min(Math.max(w, 0), n);
  };
  const s = norm(start, 0, 'start');
  const e = Math.max(norm(end, n, 'end'), s);
  const len = Math.ceil((e - s) / step);
  if (s === 0 && len === n && step === 1) return x;
  const shape = [...x.shape];
  shape[d] = len;
  const strides = [...x.strides];
  strides[d] = x.strides[d] * step;
  const offset = x.offset + (len > 0 ? s * x.strides[d] : 0);
  return viewOp('SliceBackward', x, shape, strides, offset, (g) => scatterSlice(g, d, n, s, step));
}

/** `length` elements from `start` along `dim` (start may be negative). */
export function narrow(x: Tensor, dim: number, start: number, length: number): Tensor {
  const d = normDim('narrow', dim, x.ndim);
  const n = x.shape[d];
  const s = start < 0 ? start + n : start;
  if (!Number.isInteger(s) || s < 0 || s > n) throw new Error(`narrow: expected start in [${-n}, ${n}]; got ${start}`);
  if (!Number.isInteger(length) || length < 0 || s + length > n) {
    throw new Error(`narrow: expected start + length <= ${n} (size of dim ${d}); got start ${s}, length ${length}`);
  }
  return slice(x, d, s, s + length);
}

/** The sub-tensor at `index` along `dim`, with that dim removed (x[..., index, ...]). */
export function select(x: Tensor, dim: number, index: number): Tensor {
  const d = normDim('select', dim, x.ndim);
  const n = x.shape[d];
  if (!Number.isInteger(index) || index < -n || index >= n) {
    throw new Error(`select: expected index in [${-n}, ${n - 1}] for dim ${d} of size ${n}; got ${index}`);
  }
  const i = index < 0 ? index + n : index;
  return squeeze(slice(x, d, i, i + 1), d);
}

/**
 * Broadcast to `shape` without copying (stride 0). New dims are prepended; -1 keeps a dim; only size-1 dims
 * expand.
 */
export function expand(x: Tensor, shape: readonly number[]): Tensor {
  if (shape.length < x.ndim) {
    throw new Error(`expand: the number of sizes (${shape.length}) must be at least the tensor's dims (${x.ndim}); got ${fmt(shape)} for ${fmt(x.shape)}`);
  }
  const lead = shape.length - x.ndim;
  const out: number[] = [];
  const strides: number[] = [];
  shape.forEach((s, i) => {
    const j = i - lead;
    const have = j >= 0 ? x.shape[j] : 1;
    const size = s === -1 ? have : s;
    if (s === -1 && j < 0) throw new Error(`expand: -1 is not allowed for a new leading dim (dim ${i}); got ${fmt(shape)}`);
    if (!Number.isInteger(size) || size < 0) throw new Error(`expand: expected sizes to be non-negative integers; got ${fmt(shape)}`);
    if (have !== size && have !== 1) {
      throw new Error(
        `expand: the expanded size (${size}) must match the existing size (${have}) at non-singleton dim ${i}; ` +
          `target ${fmt(shape)}, tensor ${fmt(x.shape)}`,
      );
    }
    out.push(size);
    strides.push(j < 0 || (have === 1 && size !== 1) ? 0 : x.strides[j]);
  });
  if (shapesEqual(out, x.shape)) return x;
  return viewOp('ExpandBackward', x, out, strides, x.offset, (g) => sumToShape(g, x.shape));
}

/** Insert a size-1 dim at `dim` (in [-ndim-1, ndim]). */
export function unsqueeze(x: Tensor, dim: number): Tensor {
  const d = normDim('unsqueeze', dim, x.ndim + 1);
  const shape = [...x.shape];
  const strides = [...x.strides];
  shape.splice(d, 0, 1);
  strides.splice(d, 0, d < x.ndim ? x.strides[d] * x.shape[d] : 1);
  return viewOp('UnsqueezeBackward', x, shape, strides, x.offset, (g) => reshape(g, x.shape));
}

/** Remove size-1 dims (all, or the given ones; a given dim whose size is not 1 is left alone, as torch). */
export function squeeze(x: Tensor, dim?: number | readonly number[]): Tensor {
  const dims =
    dim === undefined
      ? x.shape.map((_, i) => i)
      : (typeof dim === 'number' ? [dim] : dim).map((v) => normDim('squeeze', v, x.ndim));
  const drop = new Set(dims.filter((d) => x.shape[d] === 1));
  if (drop.size === 0) return x;
  const shape = x.shape.filter((_, i) => !drop.has(i));
  const strides = x.strides.filter((_, i) => !drop.has(i));
  return viewOp('SqueezeBackward', x, shape, strides, x.offset, (g) => reshape(g, x.shape));
}

/** Merge dims startDim..endDim into one. */
export function flatten(x: Tensor, startDim = 0, endDim = -1): Tensor {
  if (x.ndim === 0) return reshape(x, [1]);
  const s = normDim('flatten', startDim, x.ndim, 'startDim');
  const e = normDim('flatten', endDim, x.ndim, 'endDim');
  if (s > e) throw new Error(`flatten: expected startDim <= endDim; got ${startDim} > ${endDim}`);
  const merged = x.shape.slice(s, e + 1).reduce((a, b) => a * b, 1);
  return reshape(x, [...x.shape.slice(0, s), merged, ...x.shape.slice(e + 1)]);
}

/** Split dim `dim` into `sizes` (one entry may be -1). */
export function unflatten(x: Tensor, dim: number, sizes: readonly number[]): Tensor {
  const d = normDim('unflatten', dim, x.ndim);
  const inner = inferShape('unflatten', sizes, x.shape[d], [x.shape[d]]);
  return reshape(x, [...x.shape.slice(0, d), ...inner, ...x.shape.slice(d + 1)]);
}

/** Reverse the order of elements along `dims` (a view with negative strides). */
export function flip(x: Tensor, dims: number | readonly number[]): Tensor {
  const ds = (typeof dims === 'number' ? [dims] : dims).map((v) => normDim('flip', v, x.ndim));
  if (new Set(ds).size !== ds.length) throw new Error(`flip: expected each dim once; got ${fmt(ds)}`);
  const strides = [...x.strides];
  let offset = x.offset;
  for (const d of ds) {
    if (x.shape[d] > 1) offset += (x.shape[d] - 1) * x.strides[d];
    strides[d] = -x.strides[d];
  }
  return viewOp('FlipBackward', x, x.shape, strides, offset, (g) => flip(g, ds));
}

/** Broadcast `x` to `shape` for an op named `op` (error message names the op). @internal */
export function expandTo(op: string, x: Tensor, shape: readonly number[]): Tensor {
  try {
    return expand(x, shape);
  } catch {
    throw new Error(`${op}: expected a tensor broadcastable to ${fmt(shape)}; got ${fmt(x.shape)}`);
  }
}
