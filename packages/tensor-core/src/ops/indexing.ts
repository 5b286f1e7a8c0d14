/**
 * Indexing by integer tensors: gather, scatterAdd, indexSelect, embedding, and the scatter that slice's backward
 * uses. Indices are int32. On synchronous backends they are range-checked at the boundary (the kernels clamp or
 * skip as a last line of defence, never reading out of bounds); on asynchronous ones the check would need a
 * readback, so it is skipped there.
 */
import { record1 } from '../autograd.js';
import { fromHost } from '../creation.js';
import { type KernelArg, run } from '../kernel.js';
import { axisLayout, fmt, normDim } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add, sameBackend, where, eq, asTensor } from './elementwise.js';
import { reshape, slice } from './views.js';

function requireIndex(op: string, index: Tensor, arg = 'index'): void {
  if (!(index instanceof Tensor)) throw new Error(`${op}: expected ${arg} to be an int32 Tensor; got ${typeof index}`);
  if (index.dtype !== 'int32') throw new Error(`${op}: expected ${arg} to have dtype int32; got ${index.dtype}`);
}

/** Throw when an index lies outside [0, size) (synchronous backends only). */
export function checkIndexRange(op: string, index: Tensor, size: number, what: string): void {
  if (!index.backend.sync || index.isPending || index.numel === 0) return;
  const data = index.dataSync();
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (v < 0 || v >= size) {
      throw new Error(`${op}: index ${v} is out of bounds for ${what} with size ${size} (expected 0 <= index < ${size})`);
    }
  }
}

/** x[..., idx[i], ...] along `dim` for a 1-D int32 index (no range check). Differentiable in x. @internal */
export function indexAlong(x: Tensor, dim: number, idx: Tensor): Tensor {
  const { outer, size, inner } = axisLayout(x.shape, dim);
  const k = idx.shape[0];
  const be = x.backend;
  const iv: KernelArg = { tensor: idx, as: 'view', layout: { shape: [outer, k, inner], strides: [0, idx.strides[0] ?? 1, 0], offset: idx.offset } };
  const data = run(be, [x, iv], ([h, v]) => be.gather(h as never, x.dtype, { outer, size, inner }, v as never, k));
  const shape = [...x.shape];
  shape[dim] = k;
  const y = Tensor.fromData(be, x.dtype, shape, data);
  return record1('IndexSelectBackward', [x], y, (g) => [indexAddAlong(g, dim, idx, size)], []);
}

/** A zero tensor with `size` along `dim`, to which g[..., i, ...] is added at idx[i]. Differentiable in g. @internal */
export function indexAddAlong(g: Tensor, dim: number, idx: Tensor, size: number): Tensor {
  const { outer, size: k, inner } = axisLayout(g.shape, dim);
  const be = g.backend;
  const iv: KernelArg = { tensor: idx, as: 'view', layout: { shape: [outer, k, inner], strides: [0, idx.strides[0] ?? 1, 0], offset: idx.offset } };
  const data = run(be, [g, iv], ([h, v]) => be.scatterAdd(h as never, g.dtype, v as never, { outer, size, inner }, k));
  const shape = [...g.shape];
  shape[dim] = size;
  const y = Tensor.fromData(be, g.dtype, shape, data);
  return record1('IndexAddBackward', [g], y, (gg) => [indexAlong(gg, dim, idx)], []);
}

/** The adjoint of slice: g placed at start, start + step, ... along `dim` of a zero tensor of size n. @internal */
export function scatterSlice(g: Tensor, dim: number, n: number, start: number, step: number): Tensor {
  const len = g.shape[dim];
  const host = new Int32Array(len);
  for (let i = 0; i < len; i++) host[i] = start + i * step;
  const idx = fromHost('slice', host, [len], { dtype: 'int32', backend: g.backend });
  return indexAddAlong(g, dim, idx, n);
}

/** Rows (or slices along `dim`) of x picked by a 1-D int32 index (torch.index_select). */
export function indexSelect(x: Tensor, dim: number, index: Tensor): Tensor {
  requireIndex('indexSelect', index);
  sameBackend('indexSelect', x, index);
  if (index.ndim > 1) throw new Error(`indexSelect: expected a 1-D (or 0-d) index; got shape ${fmt(index.shape)}`);
  const d = normDim('indexSelect', dim, x.ndim);
  if (x.ndim === 0) throw new Error('indexSelect: expected a tensor with at least 1 dim; got a 0-d tensor');
  checkIndexRange('indexSelect', index, x.shape[d], `dim ${d}`);
  const idx = index.ndim === 0 ? reshape(index, [1]) : index;
  return indexAlong(x, d, idx);
}

/**
 * torch.gather: out[i][j][k] = x[index[i][j][k]][j][k] for dim 0 (and likewise for other dims). `index` has x's
 * number of dims, and index.size(d) <= x.size(d) for d != dim; out has index's shape.
 */
export function gather(x: Tensor, dim: number, index: Tensor): Tensor {
  requireIndex('gather', index);
  sameBackend('gather', x, index);
  const d = normDim('gather', dim, x.ndim);
  if (index.ndim !== x.ndim) {
    throw new Error(`gather: expected index to have the same number of dims as x (${x.ndim}); got index ${fmt(index.shape)}, x ${fmt(x.shape)}`);
  }
  let src = x;
  for (let i = 0; i < x.ndim; i++) {
    if (i === d) continue;
    if (index.shape[i] > x.shape[i]) {
      throw new Error(`gather: expected index.size(${i}) (=${index.shape[i]}) <= x.size(${i}) (=${x.shape[i]}); got index ${fmt(index.shape)}, x ${fmt(x.shape)}`);
    }
    if (index.shape[i] < x.shape[i]) src = slice(src, i, 0, index.shape[i]);
  }
  checkIndexRange('gather', index, x.shape[d], `dim ${d}`);
  const { outer, size, inner } = axisLayout(src.shape, d);
  const k = index.shape[d];
  const be = x.backend;
  const data = run(be, [src, { tensor: index, as: 'view' }], ([h, v]) =>
    be.gather(h as never, x.dtype, { outer, size, inner }, v as never, k),
  );
  const y = Tensor.fromData(be, x.dtype, index.shape, data);
  return record1('GatherBackward', [src], y, (g) => [scatterAddRaw(g, d, index, size)], []);
}

/** Zeros of g's shape with `size` along dim, plus g scattered at `index` (same shape as g). Differentiable in g. */
function scatterAddRaw(g: Tensor, dim: number, index: Tensor, size: number): Tensor {
  const { outer, size: k, inner } = axisLayout(g.shape, dim);
  const be = g.backend;
  const data = run(be, [g, { tensor: index, as: 'view' }], ([h, v]) =>
    be.scatterAdd(h as never, g.dtype, v as never, { outer, size, inner }, k),
  );
  const shape = [...g.shape];
  shape[dim] = size;
  const y = Tensor.fromData(be, g.dtype, shape, data);
  return record1('ScatterAddBackward', [g], y, (gg) => [gather(gg, dim, index)], []);
}

/**
 * torch.scatter_add: a copy of x with src[i][j][k] added at x[index[i][j][k]][j][k] (dim 0; likewise for other
 * dims). `index` matches x's shape except along `dim`, and index.shape <= src.shape in every dim.
 */
export function scatterAdd(x: Tensor, dim: number, index: Tensor, src: Tensor): Tensor {
  requireIndex('scatterAdd', index);
  sameBackend('scatterAdd', x, index, src);
  const d = normDim('scatterAdd', dim, x.ndim);
  if (index.ndim !== x.ndim || src.ndim !== x.ndim) {
    throw new Error(`scatterAdd: expected x, index and src to have the same number of dims; got x ${fmt(x.shape)}, index ${fmt(index.shape)}, src ${fmt(src.shape)}`);
  }
  if (src.dtype !== x.dtype) throw new Error(`scatterAdd: expected src dtype ${x.dtype} (x's); got ${src.dtype}`);
  let s = src;
  for (let i = 0; i < x.ndim; i++) {
    if (i !== d && index.shape[i] !== x.shape[i]) {
      throw new Error(`scatterAdd: expected index.size(${i}) (=${index.shape[i]}) to equal x.size(${i}) (=${x.shape[i]}) for dims other than dim ${d}`);
    }
    if (index.shape[i] > src.shape[i]) {
      throw new Error(`scatterAdd: expected index.size(${i}) (=${index.shape[i]}) <= src.size(${i}) (=${src.shape[i]})`);
    }
    if (index.shape[i] < src.shape[i]) s = slice(s, i, 0, index.shape[i]);
  }
  checkIndexRange('scatterAdd', index, x.shape[d], `dim ${d}`);
  return add(x, scatterAddRaw(s, d, index, x.shape[d]));
}

/**
 * Look up rows of `weight` (num, D) for int32 ids of any shape: out (...ids.shape, D) (torch.nn.functional.
 * embedding). The row `paddingIdx` gets no gradient.
 */
export function embedding(input: Tensor, weight: Tensor, opts: { paddingIdx?: number | null } = {}): Tensor {
  requireIndex('embedding', input, 'input');
  sameBackend('embedding', input, weight);
  if (weight.ndim !== 2) throw new Error(`embedding: expected weight of shape (num, D); got ${fmt(weight.shape)}`);
  const num = weight.shape[0];
  let w = weight;
  const pad = opts.paddingIdx;
  if (pad !== undefined && pad !== null) {
    if (!Number.isInteger(pad) || pad < -num || pad >= num) {
      throw new Error(`embedding: expected paddingIdx in [${-num}, ${num - 1}]; got ${pad}`);
    }
    const p = pad < 0 ? pad + num : pad;
    // Same values, but the padding row reads a detached copy, so its gradient is zero (torch semantics).
    const rows = fromHost('embedding', Int32Array.from({ length: num }, (_, i) => i), [num, 1], { dtype: 'int32', backend: weight.backend });
    w = where(eq(rows, asTensor(p, rows)), weight.detach(), weight);
  }
  checkIndexRange('embedding', input, num, 'the embedding table (weight.shape[0])');
  const flat = reshape(input, [input.numel]); // (N,)
  const rows = indexAlong(w, 0, flat); // (N, D)
  return reshape(rows, [...input.shape, weight.shape[1]]); // (..., D)
}
