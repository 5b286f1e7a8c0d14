/**
 * Joining and splitting: cat, stack, split, chunk, plus the ops composed from them or from index gathers: roll,
 * repeat, pad (constant, reflect, replicate, circular), triu and tril.
 */
import { record1 } from '../autograd.js';
import { fromHost, full } from '../creation.js';
import { promoteTypes, run } from '../kernel.js';
import { fmt, normDim, numelOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { cast, sameBackend, where } from './elementwise.js';
import { indexAlong } from './indexing.js';
import { expand, flatten, narrow, reshape, slice, unsqueeze, contiguous } from './views.js';

/** Concatenate along `dim`; shapes must match elsewhere. 1-D empty tensors are skipped, as torch does. */
export function cat(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('cat: expected a non-empty array of tensors');
  const xs = tensors.filter((t) => !(t.ndim === 1 && t.shape[0] === 0));
  if (xs.length === 0) return tensors[0];
  sameBackend('cat', ...xs);
  const ref = xs[0];
  const d = normDim('cat', dim, ref.ndim);
  if (ref.ndim === 0) throw new Error('cat: zero-dimensional tensors cannot be concatenated');
  xs.forEach((t: Tensor, i: number) => {
    const ok = t.ndim === ref.ndim && t.shape.every((s: number, j: number) => j === d || s === ref.shape[j]);
    if (!ok) {
      throw new Error(`cat: expected tensors[${i}] to match tensors[0] ${fmt(ref.shape)} except in dim ${d}; got ${fmt(t.shape)}`);
    }
  });
  const dtype = xs.map((t) => t.dtype).reduce(promoteTypes);
  const cs = xs.map((t) => cast(t, dtype));
  if (cs.length === 1) return cs[0];
  const sizes = cs.map((t) => t.shape[d]);
  const outer = numelOf(ref.shape.slice(0, d));
  const inner = numelOf(ref.shape.slice(d + 1));
  const be = ref.backend;
  const data = run(be, cs, (hs) => be.concat(hs as never[], dtype, outer, sizes, inner));
  const shape = [...ref.shape];
  shape[d] = sizes.reduce((a, b) => a + b, 0);
  const y = Tensor.fromData(be, dtype, shape, data);
  return record1('CatBackward', cs, y, (g, need) => {
    let at = 0;
    return sizes.map((s, i) => {
      const part = need[i] ? narrow(g, d, at, s) : null;
      at += s;
      return part;
    });
  }, []);
}

/** Stack equally shaped tensors along a new dim. */
export function stack(tensors: readonly Tensor[], dim = 0): Tensor {
  if (!Array.isArray(tensors) || tensors.length === 0) throw new Error('stack: expected a non-empty array of tensors');
  const ref = tensors[0];
  tensors.forEach((t: Tensor, i: number) => {
    if (t.ndim !== ref.ndim || t.shape.some((s: number, j: number) => s !== ref.shape[j])) {
      throw new Error(`stack: expected every tensor to have shape ${fmt(ref.shape)} (tensors[0]'s); tensors[${i}] has ${fmt(t.shape)}`);
    }
  });
  const d = normDim('stack', dim, ref.ndim + 1);
  return cat(tensors.map((t) => unsqueeze(t, d)), d);
}

/** Split into pieces of `size` along dim (the last may be smaller), or into the given section sizes. Views. */
export function split(x: Tensor, sizeOrSections: number | readonly number[], dim = 0): Tensor[] {
  const d = normDim('split', dim, x.ndim);
  const n = x.shape[d];
  let sizes: number[];
  if (typeof sizeOrSections === 'number') {
    if (!Number.isInteger(sizeOrSections) || sizeOrSections <= 0) {
      throw new Error(`split: expected a positive integer split size; got ${sizeOrSections}`);
    }
    sizes = [];
    for (let at = 0; at < n; at += sizeOrSections) sizes.push(Math.min(sizeOrSections, n - at));
    if (n === 0) sizes = [0];
  } else {
    sizes = [...sizeOrSections];
    const total = sizes.reduce((a, b) => a + b, 0);
    if (sizes.some((s) => !Number.isInteger(s) || s < 0) || total !== n) {
      throw new Error(`split: expected section sizes summing to ${n} (size of dim ${d}); got ${fmt(sizes)}`);
    }
  }
  let at = 0;
  return sizes.map((s) => {
    const part = narrow(x, d, at, s);
    at += s;
    return part;
  });
}

/** Split into `chunks` pieces of ceil(n / chunks) along dim (fewer when n is small), as torch.chunk. */
export function chunk(x: Tensor, chunks: number, dim = 0): Tensor[] {
  if (!Number.isInteger(chunks) || chunks <= 0) throw new Error(`chunk: expected a positive integer number of chunks; got ${chunks}`);
  const d = normDim('chunk', dim, x.ndim);
  const n = x.shape[d];
  return split(x, Math.max(1, Math.ceil(n / chunks)), d);
}

/** Shift elements along dims cyclically (over the flattened tensor when dims is omitted). */
export function roll(x: Tensor, shifts: number | readonly number[], dims?: number | readonly number[]): Tensor {
  const ss = typeof shifts === 'number' ? [shifts] : [...shifts];
  if (dims === undefined) {
    if (ss.length !== 1) throw new Error(`roll: expected one shift when dims is omitted; got ${fmt(ss)}`);
    return reshape(roll(flatten(x), ss[0], 0), x.shape);
  }
  const ds = typeof dims === 'number' ? [dims] : [...dims];
  if (ds.length !== ss.length) throw new Error(`roll: expected as many shifts as dims; got shifts ${fmt(ss)}, dims ${fmt(ds)}`);
  let y = x;
  ds.forEach((dim, i) => {
    const d = normDim('roll', dim, x.ndim);
    const n = x.shape[d];
    if (n === 0) return;
    const s = ((ss[i] % n) + n) % n;
    if (s === 0) return;
    y = cat([slice(y, d, n - s), slice(y, d, 0, n - s)], d);
  });
  return y;
}

/** Tile the tensor: out.shape[i] = shape[i] * reps[i] (torch.Tensor.repeat; reps may add leading dims). */
export function repeat(x: Tensor, reps: readonly number[]): Tensor {
  if (reps.length < x.ndim) {
    throw new Error(`repeat: expected at least ${x.ndim} repeat counts (one per dim); got ${fmt(reps)}`);
  }
  if (reps.some((r) => !Number.isInteger(r) || r < 0)) throw new Error(`repeat: expected non-negative integers; got ${fmt(reps)}`);
  const shape = [...new Array(reps.length - x.ndim).fill(1), ...x.shape];
  const inter: number[] = [];
  const target: number[] = [];
  shape.forEach((s, i) => {
    inter.push(1, s);
    target.push(reps[i], s);
  });
  const e = expand(reshape(x, inter), target); // (r0, s0, r1, s1, ...)
  return reshape(contiguous(e), shape.map((s, i) => s * reps[i]));
}

export type PadMode = 'constant' | 'reflect' | 'replicate' | 'circular';

/**
 * Pad the last dims (torch.nn.functional.pad): `pad` lists (left, right) pairs starting from the last dim.
 * 'constant' fills with `value` (negative pads crop); 'reflect' mirrors without repeating the edge (pad < size);
 * 'replicate' repeats the edge; 'circular' wraps around.
 */
export function pad(x: Tensor, padding: readonly number[], opts: { mode?: PadMode; value?: number } = {}): Tensor {
  const mode = opts.mode ?? 'constant';
  if (!['constant', 'reflect', 'replicate', 'circular'].includes(mode)) {
    throw new Error(`pad: expected mode 'constant', 'reflect', 'replicate' or 'circular'; got ${String(mode)}`);
  }
  if (padding.length % 2 !== 0 || padding.length / 2 > x.ndim) {
    throw new Error(`pad: expected an even number of pad sizes, at most 2 * ndim (${2 * x.ndim}); got ${fmt(padding)}`);
  }
  if (padding.some((p) => !Number.isInteger(p))) throw new Error(`pad: expected integer pad sizes; got ${fmt(padding)}`);
  let y = x;
  for (let i = 0; i < padding.length / 2; i++) {
    const d = x.ndim - 1 - i;
    const left = padding[2 * i];
    const right = padding[2 * i + 1];
    if (left === 0 && right === 0) continue;
    const n = y.shape[d];
    if (mode === 'constant') {
      if (left < 0) y = slice(y, d, -left);
      if (right < 0) y = slice(y, d, 0, y.shape[d] + right);
      const parts: Tensor[] = [];
      const block = (k: number) => {
        const s = [...y.shape];
        s[d] = k;
        return full(s, opts.value ?? 0, { dtype: y.dtype, backend: y.backend });
      };
      if (left > 0) parts.push(block(left));
      parts.push(y);
      if (right > 0) parts.push(block(right));
      y = parts.length > 1 ? cat(parts, d) : y;
      continue;
    }
    if (left < 0 || right < 0) throw new Error(`pad: negative pad sizes are only allowed in constant mode; got ${fmt(padding)}`);
    if (mode === 'reflect' && (left >= n || right >= n)) {
      throw new Error(`pad: reflect padding (${left}, ${right}) must be smaller than the size of dim ${d} (${n})`);
    }
    if (n === 0) throw new Error(`pad: cannot ${mode}-pad an empty dim ${d}`);
    if (mode === 'circular' && (left > n || right > n)) {
      throw new Error(`pad: circular padding (${left}, ${right}) must be at most the size of dim ${d} (${n})`);
    }
    const idx = new Int32Array(n + left + right);
    for (let j = 0; j < idx.length; j++) {
      const src = j - left;
      if (mode === 'reflect') idx[j] = src < 0 ? -src : src >= n ? 2 * (n - 1) - src : src;
      else if (mode === 'replicate') idx[j] = Math.min(Math.max(src, 0), n - 1);
      else idx[j] = ((src % n) + n) % n;
    }
    y = indexAlong(y, d, fromHost('pad', idx, [idx.length], { dtype: 'int32', backend: y.backend }));
  }
  return y;
}

function triangle(op: string, x: Tensor, diagonal: number, upper: boolean): Tensor {
  if (x.ndim < 2) throw new Error(`${op}: expected a tensor with at least 2 dims; got ${fmt(x.shape)}`);
  if (!Number.isInteger(diagonal)) throw new Error(`${op}: expected an integer diagonal; got ${diagonal}`);
  const r = x.shape[x.ndim - 2];
  const c = x.shape[x.ndim - 1];
  const m = new Int32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) m[i * c + j] = (upper ? j - i >= diagonal : j - i <= diagonal) ? 1 : 0;
  const mask = fromHost(op, m, [r, c], { dtype: 'int32', backend: x.backend });
  return where(mask, x, 0);
}

/** Keep the upper triangle (j - i >= diagonal) of the last two dims, zero elsewhere. */
export function triu(x: Tensor, diagonal = 0): Tensor {
  return triangle('triu', x, diagonal, true);
}

/** Keep the lower triangle (j - i <= diagonal) of the last two dims, zero elsewhere. */
export function tril(x: Tensor, diagonal = 0): Tensor {
  return triangle('tril', x, diagonal, false);
}
