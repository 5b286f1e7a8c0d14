/**
 * Reductions over one, several or all dims (`dim` omitted): sum, mean, var/std with Bessel's correction,
 * amax/amin, max/min with indices, argmax/argmin, logsumexp and vector norms. PyTorch's `dim`/`keepdim`
 * semantics; every reduction accepts either `(dim, keepdim)` or an options object `{ dim, keepdim }`.
 */
import type { ReduceOp } from '@formers/gpu-kernels';
import { record1 } from '../autograd.js';
import { noGrad } from '../grad-mode.js';
import { run } from '../kernel.js';
import { fmt, normDim, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add, div, eq, log, mul, requireFloat, sqrt, square, sub, abs, exp, where, pow } from './elementwise.js';
import { gather } from './indexing.js';
import { expand, permute, reshape, squeeze, unsqueeze } from './views.js';

export type DimArg = number | readonly number[];

export interface ReduceOptions {
  /** Dim or dims to reduce; all when omitted. */
  readonly dim?: DimArg;
  readonly keepdim?: boolean;
}

export interface VarOptions extends ReduceOptions {
  /** Subtracted from N in the divisor: 1 gives the unbiased (Bessel-corrected) estimate, torch's default. */
  readonly correction?: number;
}

export interface NormOptions extends ReduceOptions {
  /** 2 (default), 1, Infinity, or any p > 0. */
  readonly p?: number;
}

function parseArgs<O extends ReduceOptions>(x: Tensor, dimOrOpts: DimArg | O | undefined, keepdim: boolean | undefined, op: string): { dims: number[]; keepdim: boolean; opts: Partial<O> } {
  let dim: DimArg | undefined;
  let opts: Partial<O> = {};
  if (typeof dimOrOpts === 'number' || Array.isArray(dimOrOpts)) dim = dimOrOpts as DimArg;
  else if (dimOrOpts !== undefined) {
    opts = dimOrOpts as O;
    dim = opts.dim;
    keepdim = opts.keepdim ?? keepdim;
  }
  const all = x.shape.map((_, i) => i);
  const dims = dim === undefined ? all : [...new Set((typeof dim === 'number' ? [dim] : dim).map((d) => normDim(op, d, x.ndim)))].sort((a, b) => a - b);
  return { dims: x.ndim === 0 ? [] : dims, keepdim: keepdim ?? false, opts };
}

function outShape(shape: readonly number[], dims: readonly number[], keepdim: boolean): number[] {
  const set = new Set(dims);
  const out: number[] = [];
  shape.forEach((d, i) => {
    if (!set.has(i)) out.push(d);
    else if (keepdim) out.push(1);
  });
  return out;
}

/** The reduce kernel over `dims` (sorted, unique). @internal */
export function reduceRaw(op: ReduceOp, x: Tensor, dims: readonly number[], keepdim: boolean): Tensor {
  const shape = outShape(x.shape, dims, keepdim);
  const set = new Set(dims);
  let src = x;
  let outer = 1;
  let size = 1;
  let inner = 1;
  if (dims.length === 1) {
    const d = dims[0];
    x.shape.forEach((s, i) => (i < d ? (outer *= s) : i > d ? (inner *= s) : (size *= s)));
  } else {
    // Move the reduced dims last so they form one contiguous axis.
    const order = [...x.shape.map((_, i) => i).filter((i) => !set.has(i)), ...dims];
    src = noGrad(() => permute(x, order));
    x.shape.forEach((s, i) => (set.has(i) ? (size *= s) : (outer *= s)));
  }
  const be = x.backend;
  const dtype = op === 'argmax' || op === 'argmin' ? 'int32' : x.dtype;
  const data = run(be, [src], ([h]) => be.reduce(op, h as never, x.dtype, { outer, size, inner }));
  return Tensor.fromData(be, dtype, shape, data);
}

/** Sum `g` over the dims that broadcasting expanded, so it has `shape` again (the adjoint of expand). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (shapesEqual(g.shape, shape)) return g;
  const lead = g.ndim - shape.length;
  if (lead < 0) throw new Error(`sumToShape: cannot reduce ${fmt(g.shape)} to ${fmt(shape)}`);
  const dims: number[] = [];
  for (let i = 0; i < g.ndim; i++) {
    if (i < lead || (shape[i - lead] === 1 && g.shape[i] !== 1)) dims.push(i);
  }
  const s = dims.length > 0 ? sum(g, { dim: dims, keepdim: true }) : g;
  return reshape(s, shape);
}

/** Broadcast a reduced gradient back over the reduced dims. */
function expandBack(g: Tensor, xShape: readonly number[], dims: readonly number[], keepdim: boolean): Tensor {
  let k = g;
  if (!keepdim) for (const d of dims) k = unsqueeze(k, d);
  return expand(k, xShape);
}

/** Sum of elements over `dim` (all when omitted). */
export function sum(x: Tensor, dim?: DimArg | ReduceOptions, keepdim?: boolean): Tensor {
  const a = parseArgs(x, dim, keepdim, 'sum');
  if (a.dims.length === 0) return x;
  const y = reduceRaw('sum', x, a.dims, a.keepdim);
  return record1('SumBackward', [x], y, (g) => [expandBack(g, x.shape, a.dims, a.keepdim)], []);
}

function countOf(x: Tensor, dims: readonly number[]): number {
  return dims.reduce((n, d) => n * x.shape[d], 1);
}

/** Mean over `dim` (all when omitted); float dtypes only, as torch. */
export function mean(x: Tensor, dim?: DimArg | ReduceOptions, keepdim?: boolean): Tensor {
  requireFloat('mean', x);
  const a = parseArgs(x, dim, keepdim, 'mean');
  return div(sum(x, { dim: a.dims, keepdim: a.keepdim }), countOf(x, a.dims));
}

/** Variance over `dim` with divisor N - correction (default correction 1, torch's unbiased estimate). */
export function variance(x: Tensor, dim?: DimArg | VarOptions, keepdim?: boolean): Tensor {
  requireFloat('var', x);
  const a = parseArgs<VarOptions>(x, dim, keepdim, 'var');
  const correction = a.opts.correction ?? 1;
  const n = countOf(x, a.dims);
  const mu = mean(x, { dim: a.dims, keepdim: true });
  const ss = sum(square(sub(x, mu)), { dim: a.dims, keepdim: a.keepdim });
  // torch returns inf/nan when N - correction <= 0; we do the same through the division.
  return div(ss, Math.max(n - correction, 0));
}

/** Standard deviation: sqrt(var) with the same options. */
export function std(x: Tensor, dim?: DimArg | VarOptions, keepdim?: boolean): Tensor {
  return sqrt(variance(x, dim, keepdim));
}

function extreme(op: 'max' | 'min', x: Tensor, dim: DimArg | ReduceOptions | undefined, keepdim: boolean | undefined): Tensor {
  const name = op === 'max' ? 'amax' : 'amin';
  const a = parseArgs(x, dim, keepdim, name);
  if (a.dims.some((d) => x.shape[d] === 0) || (x.numel === 0 && a.dims.length > 0)) {
    throw new Error(`${name}: expected a non-empty reduction; got shape ${fmt(x.shape)} over dims ${fmt(a.dims)}`);
  }
  if (a.dims.length === 0) return x;
  const y = reduceRaw(op, x, a.dims, a.keepdim);
  return record1(op === 'max' ? 'AmaxBackward' : 'AminBackward', [x], y, (g) => {
    // Ties share the gradient evenly (torch's amax/amin).
    const yk = expandBack(y, x.shape, a.dims, a.keepdim);
    const m = eq(x, yk);
    const cnt = sum(m, { dim: a.dims, keepdim: true });
    return [div(mul(expandBack(g, x.shape, a.dims, a.keepdim), m), cnt)];
  }, [x, y]);
}

/** Maximum values over `dim` (all when omitted). */
export function amax(x: Tensor, dim?: DimArg | ReduceOptions, keepdim?: boolean): Tensor {
  return extreme('max', x, dim, keepdim);
}
export function amin(x: Tensor, dim?: DimArg | ReduceOptions, keepdim?: boolean): Tensor {
  return extreme('min', x, dim, keepdim);
}
/** torch.max(x) / torch.max(x, dim) values. */
export const max = amax;
export const min = amin;

function argExtreme(op: 'argmax' | 'argmin', x: Tensor, dim: number | { dim?: number; keepdim?: boolean } | undefined, keepdim?: boolean): Tensor {
  let d: number | undefined;
  if (typeof dim === 'number') d = dim;
  else if (dim) {
    d = dim.dim;
    keepdim = dim.keepdim ?? keepdim;
  }
  if (x.numel === 0) throw new Error(`${op}: expected a non-empty tensor; got shape ${fmt(x.shape)}`);
  if (d === undefined) {
    const flat = reshape(x, [x.numel]);
    const r = reduceRaw(op, flat, [0], false);
    return keepdim ? reshape(r, x.shape.map(() => 1)) : r;
  }
  const nd = normDim(op, d, x.ndim);
  if (x.ndim === 0) return reduceRaw(op, reshape(x, [1]), [0], false);
  return reduceRaw(op, x, [nd], keepdim ?? false);
}

/** Index of the maximum (first one at ties; over the flattened tensor when dim is omitted), int32. */
export function argmax(x: Tensor, dim?: number | { dim?: number; keepdim?: boolean }, keepdim?: boolean): Tensor {
  return argExtreme('argmax', x, dim, keepdim);
}
export function argmin(x: Tensor, dim?: number | { dim?: number; keepdim?: boolean }, keepdim?: boolean): Tensor {
  return argExtreme('argmin', x, dim, keepdim);
}

/** torch.max(x, dim): the values and their int32 indices; the gradient flows to the selected index only. */
export function maxDim(x: Tensor, dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  return withIndices('argmax', x, dim, keepdim);
}
export function minDim(x: Tensor, dim: number, keepdim = false): { values: Tensor; indices: Tensor } {
  return withIndices('argmin', x, dim, keepdim);
}

function withIndices(op: 'argmax' | 'argmin', x: Tensor, dim: number, keepdim: boolean): { values: Tensor; indices: Tensor } {
  const d = normDim(op === 'argmax' ? 'max' : 'min', dim, x.ndim);
  const src = x.ndim === 0 ? reshape(x, [1]) : x;
  const idx = argExtreme(op, src, d, true);
  const values = gather(src, d, idx);
  if (keepdim && x.ndim > 0) return { values, indices: idx };
  return { values: x.ndim === 0 ? reshape(values, []) : squeeze(values, d), indices: x.ndim === 0 ? reshape(idx, []) : squeeze(idx, d) };
}

/** log(sum(exp(x))) over `dim`, shifted by the max so exp never overflows. */
export function logsumexp(x: Tensor, dim: DimArg | ReduceOptions, keepdim?: boolean): Tensor {
  requireFloat('logsumexp', x);
  const a = parseArgs(x, dim, keepdim, 'logsumexp');
  if (a.dims.length === 0) return x;
  const m = noGrad(() => {
    const mx = amax(x, { dim: a.dims, keepdim: true });
    // An all -inf (or +inf) slice would give inf - inf; shift by 0 there, as torch does.
    return where(eq(abs(mx), Infinity), 0, mx);
  });
  const s = log(sum(exp(sub(x, m)), { dim: a.dims, keepdim: true }));
  const out = add(s, m);
  return a.keepdim ? out : reshape(out, outShape(x.shape, a.dims, false));
}

/** Vector p-norm over `dim` (all when omitted): 2 by default, 1, Infinity or any p > 0. */
export function norm(x: Tensor, opts: NormOptions = {}): Tensor {
  requireFloat('norm', x);
  const p = opts.p ?? 2;
  const r = { dim: opts.dim, keepdim: opts.keepdim };
  if (p === 2) return sqrt(sum(square(x), r));
  if (p === 1) return sum(abs(x), r);
  if (p === Infinity) return amax(abs(x), r);
  if (!(p > 0)) throw new Error(`norm: expected p > 0, 1, 2 or Infinity; got ${p}`);
  return pow(sum(pow(abs(x), p), r), 1 / p);
}
