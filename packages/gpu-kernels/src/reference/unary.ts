import type { DType, TypedArray, UnaryOp, View } from '../types.js';
import { allocate } from './dtype.js';
import { erf, erfc } from './erf.js';
import { collapseDims, walkBlocks } from './blocked-walk.js';
import { unaryBlockFor, unaryLoopFor } from './elementwise-loops.js';
import { checkView, isContiguous, sizeOf } from './strided.js';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Logistic function, split by sign so exp never overflows. */
export function sigmoid(x: number): number {
  if (x >= 0) return 1 / (1 + Math.exp(-x));
  const e = Math.exp(x);
  return e / (1 + e);
}

/** Round half to even, as torch.round (Math.round rounds halves toward +infinity). */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - Math.trunc(x)) === 0.5 ? 2 * Math.round(x / 2) : r;
}

/**
 * The scalar function of each unary op, evaluated in float64. The kernel stores the result into an array of the
 * output dtype, which rounds once to float32 (or wraps to int32), so float32 results are correctly rounded values
 * of the float64 computation.
 */
export const unaryFns: Readonly<Record<UnaryOp, (x: number) => number>> = {
  identity: (x) => x,
  neg: (x) => -x,
  abs: (x) => Math.abs(x),
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : x), // keeps 0, -0 and NaN, as torch.sign
  exp: Math.exp,
  log: Math.log,
  log1p: Math.log1p,
  expm1: Math.expm1,
  sqrt: Math.sqrt,
  rsqrt: (x) => 1 / Math.sqrt(x),
  reciprocal: (x) => 1 / x,
  square: (x) => x * x,
  sin: Math.sin,
  cos: Math.cos,
  tanh: Math.tanh,
  sigmoid,
  erf,
  relu: (x) => (x > 0 ? x : Number.isNaN(x) ? x : 0),
  // Exact GELU, x * Phi(x) with Phi(x) = erfc(-x / sqrt 2) / 2 (Hendrycks & Gimpel 2016); erfc keeps the
  // negative tail accurate where 1 + erf would cancel.
  gelu: (x) => 0.5 * x * erfc(-x / Math.SQRT2),
  // Hendrycks & Gimpel's tanh approximation, torch's gelu(approximate='tanh'), 0.5 x (1 + tanh u), written as
  // x sigmoid(2u): the same function, without the cancellation of 1 + tanh u for u << 0 (at x = -7, 1 + tanh u
  // keeps one significant bit in float64).
  gelu_tanh: (x) => x * sigmoid(2 * SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)),
  silu: (x) => x * sigmoid(x),
  // ELU (Clevert et al. 2016) with alpha 1; expm1 keeps small negative x relatively exact. NaN stays NaN.
  elu: (x) => (x > 0 ? x : Math.expm1(x)),
  // log(1 + e^x) = max(x, 0) + log1p(e^-|x|): never overflows, and exact to rounding for large |x|.
  softplus: (x) => Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))),
  floor: Math.floor,
  ceil: Math.ceil,
  round: roundHalfEven,
};

/** Elementwise unary op over a strided view into a fresh contiguous array of `outDtype`. */
export function unary(op: UnaryOp, x: View<TypedArray>, outDtype: DType): TypedArray {
  if (unaryFns[op] === undefined) throw new Error(`reference.unary: unknown op "${String(op)}"`);
  checkView('unary', 'x', x);
  return unaryInto(op, x, allocate(outDtype, sizeOf(x.shape)));
}

/**
 * The same into `out` (of x's size, any dtype; every element is written), for a backend that brings its own
 * buffers. The caller has checked `op` and the view.
 */
export function unaryInto<T extends TypedArray>(op: UnaryOp, x: View<TypedArray>, out: T): T {
  const fn = unaryFns[op];
  const size = sizeOf(x.shape);
  const src = x.data;
  if (isContiguous(x)) {
    // A contiguous identity is a copy (and cast): TypedArray.set converts exactly as element stores do.
    if (op === 'identity') out.set(src.subarray(x.offset, x.offset + size));
    else unaryLoopFor(op)(fn, src, x.offset, out, size);
  } else {
    // A permuted or sliced view: (rows, cols) blocks of merged dims, one odometer step per block.
    const block = unaryBlockFor(op);
    walkBlocks(collapseDims(x.shape, [x]), (s, rows, cols, rs, cs, at) => block(fn, src, s[0], rs[0], cs[0], out, at, rows, cols));
  }
  return out;
}
