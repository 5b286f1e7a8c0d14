/** Creating tensors: from data, filled, ranges, identity, and seeded random. */
import type { DType, TypedArray } from '@formers/gpu-kernels';
import { defaultGenerator, type Generator } from './random.js';
import { checkShape, fmt, numelOf } from './shape.js';
import { resolveBackend, Tensor, type BackendLike, type NestedArray } from './tensor.js';

export interface TensorOptions {
  /** Element type; default float32 (int32 for an Int32Array, float64 for a Float64Array). */
  readonly dtype?: DType;
  readonly requiresGrad?: boolean;
  /** Backend or backend name; default the active backend (`getBackend()`). */
  readonly backend?: BackendLike;
}

export interface RandomOptions extends TensorOptions {
  readonly generator?: Generator;
}

const DTYPES: readonly DType[] = ['float32', 'float64', 'int32'];

function hostArray(dtype: DType, n: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(n) : dtype === 'int32' ? new Int32Array(n) : new Float32Array(n);
}

/** Upload host data as a new leaf tensor. @internal */
export function fromHost(op: string, data: TypedArray, shape: readonly number[], opts: TensorOptions = {}): Tensor {
  const dtype = opts.dtype ?? 'float32';
  if (!DTYPES.includes(dtype)) throw new Error(`${op}: expected dtype float32, float64 or int32; got ${String(dtype)}`);
  const backend = resolveBackend(opts.backend);
  if (!backend.dtypes.includes(dtype)) {
    throw new Error(
      `${op}: backend "${backend.name}" does not support dtype ${dtype}; it computes in ${backend.dtypes.join(', ')}`,
    );
  }
  if (data.length !== numelOf(shape)) {
    throw new Error(`${op}: expected ${numelOf(shape)} values for shape ${fmt(shape)}; got ${data.length}`);
  }
  const t = Tensor.fromData(backend, dtype, shape, backend.upload(data, dtype));
  if (opts.requiresGrad) t.requiresGrad_(true);
  return t;
}

function flattenNested(op: string, data: unknown): { values: number[]; shape: number[] } {
  const shape: number[] = [];
  let probe: unknown = data;
  while (Array.isArray(probe)) {
    shape.push(probe.length);
    probe = probe[0];
  }
  const values: number[] = [];
  const walk = (x: unknown, dim: number, path: string) => {
    if (dim === shape.length) {
      if (typeof x === 'boolean') values.push(x ? 1 : 0);
      else if (typeof x === 'number') values.push(x);
      else throw new Error(`${op}: expected a number at data${path}; got ${typeof x}`);
      return;
    }
    if (!Array.isArray(x) || x.length !== shape[dim]) {
      throw new Error(
        `${op}: expected a rectangular nested array: data${path} should have length ${shape[dim]}; ` +
          `got ${Array.isArray(x) ? `length ${x.length}` : typeof x}`,
      );
    }
    x.forEach((v, i) => walk(v, dim + 1, `${path}[${i}]`));
  };
  walk(data, 0, '');
  return { values, shape };
}

/**
 * A new tensor from data: a number (0-d), nested arrays, or a flat array / typed array with `opts.shape`. The data
 * is copied; the caller's array is never retained or mutated.
 */
export function tensor(
  data: number | boolean | NestedArray | readonly (number | boolean | NestedArray)[] | TypedArray,
  opts: TensorOptions & { shape?: readonly number[] } = {},
): Tensor {
  if (ArrayBuffer.isView(data)) {
    const typed = data as TypedArray;
    const inferred: DType = typed instanceof Float64Array ? 'float64' : typed instanceof Int32Array ? 'int32' : 'float32';
    const shape = opts.shape ? checkShape('tensor', 'opts.shape', opts.shape) : [typed.length];
    return fromHost('tensor', typed, shape, { ...opts, dtype: opts.dtype ?? inferred });
  }
  const { values, shape } = flattenNested('tensor', data);
  const target = opts.shape ? checkShape('tensor', 'opts.shape', opts.shape) : shape;
  if (opts.shape && shape.length > 1) {
    throw new Error(`tensor: opts.shape is only for flat data; got nested data of shape ${fmt(shape)}`);
  }
  const dtype = opts.dtype ?? 'float32';
  const arr = hostArray(dtype, values.length);
  for (let i = 0; i < values.length; i++) arr[i] = values[i];
  return fromHost('tensor', arr, target, { ...opts, dtype });
}

/** A 0-d tensor holding `value`. */
export function scalar(value: number, opts: TensorOptions = {}): Tensor {
  return tensor(value, opts);
}

/** A tensor of `shape` filled with `value`. */
export function full(shape: readonly number[], value: number, opts: TensorOptions = {}): Tensor {
  const s = checkShape('full', 'shape', shape);
  const dtype = opts.dtype ?? 'float32';
  const arr = hostArray(dtype, numelOf(s));
  if (value !== 0) arr.fill(value);
  return fromHost('full', arr, s, { ...opts, dtype });
}

export function zeros(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 0, opts);
}

export function ones(shape: readonly number[], opts: TensorOptions = {}): Tensor {
  return full(shape, 1, opts);
}

function likeOpts(x: Tensor, opts: TensorOptions): TensorOptions {
  return { dtype: opts.dtype ?? x.dtype, backend: opts.backend ?? x.backend, requiresGrad: opts.requiresGrad };
}

/** Same shape, dtype and backend as `x` (overridable), filled with `value`. */
export function fullLike(x: Tensor, value: number, opts: TensorOptions = {}): Tensor {
  return full(x.shape, value, likeOpts(x, opts));
}
export function zerosLike(x: Tensor, opts: TensorOptions = {}): Tensor {
  return full(x.shape, 0, likeOpts(x, opts));
}
export function onesLike(x: Tensor, opts: TensorOptions = {}): Tensor {
  return full(x.shape, 1, likeOpts(x, opts));
}

/**
 * Values start, start + step, ... below `end` (torch.arange). `arange(n)` is 0..n-1. The dtype is int32 when all
 * arguments are integers and no dtype is given, else float32.
 */
export function arange(start: number, end?: number, step = 1, opts: TensorOptions = {}): Tensor {
  if (end === undefined) {
    end = start;
    start = 0;
  }
  if (step === 0 || !Number.isFinite(step)) throw new Error(`arange: expected a finite nonzero step; got ${step}`);
  if (!Number.isFinite(start) || !Number.isFinite(end)) {
    throw new Error(`arange: expected finite start and end; got ${start}, ${end}`);
  }
  if ((end - start) * step < 0) {
    throw new Error(`arange: upper bound and larger bound inconsistent with step sign (start ${start}, end ${end}, step ${step})`);
  }
  const n = Math.max(0, Math.ceil((end - start) / step));
  const integral = Number.isInteger(start) && Number.isInteger(end) && Number.isInteger(step);
  const dtype = opts.dtype ?? (integral ? 'int32' : 'float32');
  const arr = hostArray(dtype, n);
  for (let i = 0; i < n; i++) arr[i] = start + i * step;
  return fromHost('arange', arr, [n], { ...opts, dtype });
}

/** `steps` evenly spaced values from start to end inclusive (torch.linspace). */
export function linspace(start: number, end: number, steps: number, opts: TensorOptions = {}): Tensor {
  if (!Number.isInteger(steps) || steps < 0) throw new Error(`linspace: expected steps to be a non-negative integer; got ${steps}`);
  const dtype = opts.dtype ?? 'float32';
  const arr = hostArray(dtype, steps);
  const step = steps > 1 ? (end - start) / (steps - 1) : 0;
  // Fill from both ends, as torch does, so the last value is exactly `end`.
  const half = Math.floor(steps / 2);
  for (let i = 0; i < steps; i++) arr[i] = i < half ? start + step * i : end - step * (steps - 1 - i);
  return fromHost('linspace', arr, [steps], { ...opts, dtype });
}

/** The n x m identity (m defaults to n). */
export function eye(n: number, m = n, opts: TensorOptions = {}): Tensor {
  checkShape('eye', 'size', [n, m]);
  const dtype = opts.dtype ?? 'float32';
  const arr = hostArray(dtype, n * m);
  for (let i = 0; i < Math.min(n, m); i++) arr[i * m + i] = 1;
  return fromHost('eye', arr, [n, m], { ...opts, dtype });
}

function randomFill(op: string, shape: readonly number[], opts: RandomOptions, sample: (g: Generator) => number): Tensor {
  const s = checkShape(op, 'shape', shape);
  const dtype = opts.dtype ?? 'float32';
  const g = opts.generator ?? defaultGenerator();
  const arr = hostArray(dtype, numelOf(s));
  for (let i = 0; i < arr.length; i++) arr[i] = sample(g);
  return fromHost(op, arr, s, { ...opts, dtype });
}

/** Uniform samples in [0, 1) (torch.rand). */
export function rand(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (opts.dtype === 'int32') throw new Error('rand: expected a float dtype; got int32 (use randint)');
  const dbl = opts.dtype === 'float64';
  return randomFill('rand', shape, opts, (g) => (dbl ? g.nextDouble() : g.nextFloat()));
}

/** Uniform samples in [low, high). */
export function uniform(shape: readonly number[], low: number, high: number, opts: RandomOptions = {}): Tensor {
  if (!(high >= low)) throw new Error(`uniform: expected low <= high; got low ${low}, high ${high}`);
  const dbl = opts.dtype === 'float64';
  return randomFill('uniform', shape, opts, (g) => low + (high - low) * (dbl ? g.nextDouble() : g.nextFloat()));
}

/** Standard normal samples (torch.randn). */
export function randn(shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (opts.dtype === 'int32') throw new Error('randn: expected a float dtype; got int32');
  return randomFill('randn', shape, opts, (g) => g.nextNormal());
}

/** Normal samples with the given mean and standard deviation. */
export function normal(shape: readonly number[], mean = 0, std = 1, opts: RandomOptions = {}): Tensor {
  if (!(std >= 0)) throw new Error(`normal: expected std >= 0; got ${std}`);
  return randomFill('normal', shape, opts, (g) => mean + std * g.nextNormal());
}

/** Uniform integers in [low, high) (torch.randint); int32 by default. */
export function randint(low: number, high: number, shape: readonly number[], opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(low) || !Number.isInteger(high) || high <= low) {
    throw new Error(`randint: expected integers low < high; got low ${low}, high ${high}`);
  }
  return randomFill('randint', shape, { ...opts, dtype: opts.dtype ?? 'int32' }, (g) => g.nextInt(low, high));
}

export function randLike(x: Tensor, opts: RandomOptions = {}): Tensor {
  return rand(x.shape, { ...likeOpts(x, opts), generator: opts.generator });
}
export function randnLike(x: Tensor, opts: RandomOptions = {}): Tensor {
  return randn(x.shape, { ...likeOpts(x, opts), generator: opts.generator });
}

/** A random permutation of 0..n-1 (Fisher-Yates), int32. */
export function randperm(n: number, opts: RandomOptions = {}): Tensor {
  if (!Number.isInteger(n) || n < 0) throw new Error(`randperm: expected a non-negative integer n; got ${n}`);
  const g = opts.generator ?? defaultGenerator();
  const arr = new Int32Array(n);
  for (let i = 0; i < n; i++) arr[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = g.nextInt(0, i + 1);
    const t = arr[i];
    arr[i] = arr[j];
    arr[j] = t;
  }
  return fromHost('randperm', arr, [n], { ...opts, dtype: 'int32' });
}
