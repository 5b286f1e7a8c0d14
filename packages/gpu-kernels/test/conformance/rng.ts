import type { DType, TypedArray } from '@formers/gpu-kernels';

/** A small seeded PRNG (mulberry32): the same seed gives the same cases in Node and in a browser. */
export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform in [lo, hi). */
  uniform(lo: number, hi: number): number;
  /** Integer uniform in [lo, hi] inclusive. */
  int(lo: number, hi: number): number;
  pick<T>(xs: readonly T[]): T;
}

export function createRng(seed: number): Rng {
  let state = seed >>> 0;
  const next = () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    uniform: (lo, hi) => lo + (hi - lo) * next(),
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (xs) => xs[Math.floor(next() * xs.length)],
  };
}

export function typedArray(dtype: DType, size: number): TypedArray {
  return dtype === 'float32' ? new Float32Array(size) : dtype === 'float64' ? new Float64Array(size) : new Int32Array(size);
}

/** Real values uniform in [lo, hi), stored in `dtype` (so float32 inputs are exactly representable). */
export function realData(rng: Rng, dtype: DType, size: number, lo = -1, hi = 1): TypedArray {
  const out = typedArray(dtype, size);
  for (let i = 0; i < size; i++) out[i] = rng.uniform(lo, hi);
  return out;
}

/**
 * Integer values in [lo, hi] in any dtype. Sums and products of small integers are exact in float32 below 2^24,
 * so the large linear cases built from them can be compared tightly whatever order a backend sums in.
 */
export function intData(rng: Rng, dtype: DType, size: number, lo: number, hi: number): TypedArray {
  const out = typedArray(dtype, size);
  for (let i = 0; i < size; i++) out[i] = rng.int(lo, hi);
  return out;
}
