/** Options shared by layer constructors, and argument checks used by them. */
import type { DType } from '@formers/gpu-kernels';
import type { Generator } from '../random.js';
import type { BackendLike } from '../tensor.js';

/** Where and how a layer creates its tensors (torch's device/dtype factory kwargs, plus the init generator). */
export interface FactoryOptions {
  /** Parameter dtype; default float32. */
  readonly dtype?: DType;
  /** Backend (or its name) for the parameters; default the active backend. */
  readonly backend?: BackendLike;
  /** Generator for the default initialisation; default the global one. */
  readonly generator?: Generator;
}

/** Tensor options from factory options (float dtypes only). @internal */
export function tensorOpts(op: string, opts: FactoryOptions): { dtype: DType; backend?: BackendLike } {
  const dtype = opts.dtype ?? 'float32';
  if (dtype !== 'float32' && dtype !== 'float64') {
    throw new Error(`${op}: expected opts.dtype 'float32' or 'float64'; got ${JSON.stringify(dtype)}`);
  }
  return { dtype, backend: opts.backend };
}

/** Throw unless `v` is an integer >= `min`. @internal */
export function checkInt(op: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${op}: expected ${name} to be an integer >= ${min}; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Throw unless `v` is a probability in [0, 1]. @internal */
export function checkProb(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v <= 1)) {
    throw new Error(`${op}: expected ${name} to be a probability in [0, 1]; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** An int or a tuple of `n` ints, expanded to the tuple (torch's _pair/_single). @internal */
export function tupleOf(op: string, name: string, v: number | readonly number[], n: number, min: number): number[] {
  const arr = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (arr.length !== n || !arr.every((x) => Number.isInteger(x) && x >= min)) {
    throw new Error(`${op}: expected ${name} to be an integer >= ${min} or ${n} of them; got ${JSON.stringify(v)}`);
  }
  return arr;
}
