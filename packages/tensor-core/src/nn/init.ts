/**
 * Parameter initialisation, as torch.nn.init (trunc_normal_ as timm). Every function fills the given tensor in
 * place (under no-grad, so parameters can be initialised) and returns it.
 *
 * The numbers are drawn on the host from a seeded `Generator` (the global one unless `{ generator }` is given) and
 * then uploaded, so the same seed gives the same values on every backend. The streams are formers' own (xoshiro),
 * so the values differ from PyTorch's for the same seed; the distributions and their parameters are PyTorch's.
 */
import type { DType, TypedArray } from '@formers/gpu-kernels';
import { fromHost } from '../creation.js';
import { noGrad } from '../grad-mode.js';
import { defaultGenerator, type Generator } from '../random.js';
import { fmt } from '../shape.js';
import { Tensor } from '../tensor.js';

export interface InitOptions {
  /** Source of random numbers; default the global generator (see `manualSeed`). */
  readonly generator?: Generator;
}

export type FanMode = 'fan_in' | 'fan_out';

export type Nonlinearity =
  | 'linear'
  | 'conv1d'
  | 'conv2d'
  | 'conv3d'
  | 'conv_transpose1d'
  | 'conv_transpose2d'
  | 'conv_transpose3d'
  | 'sigmoid'
  | 'tanh'
  | 'relu'
  | 'leaky_relu'
  | 'selu';

function requireTensor(op: string, t: unknown): asserts t is Tensor {
  if (!(t instanceof Tensor)) throw new Error(`${op}: expected tensor to be a Tensor; got ${typeof t}`);
  if (t.dtype === 'int32') throw new Error(`${op}: expected a float tensor (float32 or float64); got int32`);
}

function requireFinite(op: string, name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${op}: expected ${name} to be a finite number; got ${v}`);
}

function hostArray(dtype: DType, n: number): TypedArray {
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

/** Replace the tensor's values with host data, keeping its identity, dtype and backend. */
function fillFromHost(op: string, t: Tensor, data: TypedArray): Tensor {
  const src = fromHost(op, data, t.shape, { dtype: t.dtype, backend: t.backend });
  noGrad(() => t.copy_(src));
  src.dispose();
  return t;
}

function sample(op: string, t: Tensor, opts: InitOptions, draw: (g: Generator, dbl: boolean) => number): Tensor {
  requireTensor(op, t);
  const g = opts.generator ?? defaultGenerator();
  const dbl = t.dtype === 'float64';
  const data = hostArray(t.dtype, t.numel);
  for (let i = 0; i < data.length; i++) data[i] = draw(g, dbl);
  return fillFromHost(op, t, data);
}

/** Fill with U(a, b) (torch.nn.init.uniform_; defaults a = 0, b = 1). */
export function uniform_(t: Tensor, opts: InitOptions & { a?: number; b?: number } = {}): Tensor {
  const a = opts.a ?? 0;
  const b = opts.b ?? 1;
  requireFinite('uniform_', 'a', a);
  requireFinite('uniform_', 'b', b);
  if (a > b) throw new Error(`uniform_: expected a <= b; got a ${a}, b ${b}`);
  return sample('uniform_', t, opts, (g, dbl) => a + (b - a) * (dbl ? g.nextDouble() : g.nextFloat()));
}

/** Fill with N(mean, std^2) (torch.nn.init.normal_; defaults mean 0, std 1). */
export function normal_(t: Tensor, opts: InitOptions & { mean?: number; std?: number } = {}): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  requireFinite('normal_', 'mean', mean);
  requireFinite('normal_', 'std', std);
  if (std < 0) throw new Error(`normal_: expected std >= 0; got ${std}`);
  return sample('normal_', t, opts, (g) => mean + std * g.nextNormal());
}

/**
 * Fill with a normal N(mean, std^2) truncated to [a, b], where a and b are absolute values (timm's trunc_normal_,
 * defaults mean 0, std 1, a -2, b 2). Sampled by the inverse CDF: u ~ U(Phi(alpha), Phi(beta)) mapped through
 * Phi^-1, with alpha = (a - mean) / std and beta = (b - mean) / std, then clamped to [a, b] against rounding.
 */
export function truncNormal_(t: Tensor, opts: InitOptions & { mean?: number; std?: number; a?: number; b?: number } = {}): Tensor {
  const mean = opts.mean ?? 0;
  const std = opts.std ?? 1;
  const a = opts.a ?? -2;
  const b = opts.b ?? 2;
  for (const [n, v] of [['mean', mean], ['std', std], ['a', a], ['b', b]] as const) requireFinite('truncNormal_', n, v);
  if (std < 0) throw new Error(`truncNormal_: expected std >= 0; got ${std}`);
  if (!(a < b)) throw new Error(`truncNormal_: expected a < b; got a ${a}, b ${b}`);
  // erf-space bounds: Phi(z) = (1 + erf(z / sqrt 2)) / 2, so U(Phi(alpha), Phi(beta)) is erf^-1 of U(lo, hi).
  const lo = std === 0 ? 0 : erf((a - mean) / std / Math.SQRT2);
  const hi = std === 0 ? 0 : erf((b - mean) / std / Math.SQRT2);
  return sample('truncNormal_', t, opts, (g) => {
    const u = lo + (hi - lo) * g.nextDouble();
    const x = mean + std * Math.SQRT2 * erfinv(u);
    return Math.min(b, Math.max(a, x));
  });
}

/** Fill with `value` (torch.nn.init.constant_). */
export function constant_(t: Tensor, value: number): Tensor {
  requireTensor('constant_', t);
  if (typeof value !== 'number' || Number.isNaN(value)) throw new Error(`constant_: expected value to be a number; got ${value}`);
  return fillFromHost('constant_', t, hostArray(t.dtype, t.numel).fill(value));
}

export function zeros_(t: Tensor): Tensor {
  return constant_(t, 0);
}

export function ones_(t: Tensor): Tensor {
  return constant_(t, 1);
}

/**
 * fan_in and fan_out of a weight of shape (out, in, *kernel) as torch computes them: fan_in = in * prod(kernel),
 * fan_out = out * prod(kernel). Needs at least 2 dims.
 */
export function calculateFanInAndFanOut(t: Tensor | readonly number[]): { fanIn: number; fanOut: number } {
  const shape = t instanceof Tensor ? t.shape : t;
  if (shape.length < 2) {
    throw new Error(`calculateFanInAndFanOut: fan in and fan out can not be computed for a tensor with fewer than 2 dims; got shape ${fmt(shape)}`);
  }
  let receptive = 1;
  for (let i = 2; i < shape.length; i++) receptive *= shape[i];
  return { fanIn: shape[1] * receptive, fanOut: shape[0] * receptive };
}

/**
 * The recommended gain for a nonlinearity (torch.nn.init.calculate_gain): 1 for linear, conv and sigmoid, 5/3
 * for tanh, sqrt(2) for relu, sqrt(2 / (1 + slope^2)) for leaky_relu (slope `param`, default 0.01) and 3/4 for
 * selu.
 */
export function calculateGain(nonlinearity: Nonlinearity, param?: number): number {
  switch (nonlinearity) {
    case 'linear':
    case 'conv1d':
    case 'conv2d':
    case 'conv3d':
    case 'conv_transpose1d':
    case 'conv_transpose2d':
    case 'conv_transpose3d':
    case 'sigmoid':
      return 1;
    case 'tanh':
      return 5 / 3;
    case 'relu':
      return Math.SQRT2;
    case 'leaky_relu': {
      const slope = param ?? 0.01;
      requireFinite('calculateGain', 'param (the negative slope)', slope);
      return Math.sqrt(2 / (1 + slope * slope));
    }
    case 'selu':
      return 3 / 4;
    default:
      throw new Error(`calculateGain: unsupported nonlinearity ${JSON.stringify(nonlinearity)}`);
  }
}

function fanOf(op: string, t: Tensor, mode: FanMode): number {
  if (mode !== 'fan_in' && mode !== 'fan_out') throw new Error(`${op}: expected mode 'fan_in' or 'fan_out'; got ${JSON.stringify(mode)}`);
  const { fanIn, fanOut } = calculateFanInAndFanOut(t.shape);
  const fan = mode === 'fan_in' ? fanIn : fanOut;
  if (fan === 0) throw new Error(`${op}: cannot initialise a tensor with zero elements (shape ${fmt(t.shape)})`);
  return fan;
}

/** Glorot & Bengio (2010): U(-a, a) with a = gain * sqrt(6 / (fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  requireTensor('xavierUniform_', t);
  const { fanIn, fanOut } = calculateFanInAndFanOut(t.shape);
  const std = (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  const a = Math.sqrt(3) * std;
  return uniform_(t, { a: -a, b: a, generator: opts.generator });
}

/** Glorot & Bengio (2010): N(0, std^2) with std = gain * sqrt(2 / (fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, opts: InitOptions & { gain?: number } = {}): Tensor {
  requireTensor('xavierNormal_', t);
  const { fanIn, fanOut } = calculateFanInAndFanOut(t.shape);
  const std = (opts.gain ?? 1) * Math.sqrt(2 / (fanIn + fanOut));
  return normal_(t, { mean: 0, std, generator: opts.generator });
}

export interface KaimingOptions extends InitOptions {
  /** Negative slope of the rectifier after this layer (leaky_relu only); default 0. */
  readonly a?: number;
  /** 'fan_in' (default) keeps the forward variance, 'fan_out' the backward one. */
  readonly mode?: FanMode;
  /** Default 'leaky_relu' (with slope `a`), as torch. */
  readonly nonlinearity?: Nonlinearity;
}

/** He et al. (2015): U(-bound, bound) with bound = gain * sqrt(3 / fan). */
export function kaimingUniform_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  requireTensor('kaimingUniform_', t);
  const fan = fanOf('kaimingUniform_', t, opts.mode ?? 'fan_in');
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  const bound = Math.sqrt(3) * (gain / Math.sqrt(fan));
  return uniform_(t, { a: -bound, b: bound, generator: opts.generator });
}

/** He et al. (2015): N(0, std^2) with std = gain / sqrt(fan). */
export function kaimingNormal_(t: Tensor, opts: KaimingOptions = {}): Tensor {
  requireTensor('kaimingNormal_', t);
  const fan = fanOf('kaimingNormal_', t, opts.mode ?? 'fan_in');
  const gain = calculateGain(opts.nonlinearity ?? 'leaky_relu', opts.a ?? 0);
  return normal_(t, { mean: 0, std: gain / Math.sqrt(fan), generator: opts.generator });
}

// ---- host special functions ----------------------------------------------------------------------------------

/**
 * erf(x) in float64 to about 1e-15: the Maclaurin series for |x| < 3 (at most ~60 terms; the alternating sum loses
 * under 4 digits there), and erfc's continued fraction (modified Lentz) beyond, where it converges fast.
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const ax = Math.abs(x);
  if (ax < 3) {
    // erf x = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1))
    let term = ax;
    let sum = ax;
    const x2 = ax * ax;
    for (let n = 1; n < 200; n++) {
      term *= -x2 / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * (2 / Math.sqrt(Math.PI)) * sum;
  }
  if (ax > 27) return Math.sign(x);
  return Math.sign(x) * (1 - erfcLarge(ax));
}

/** erfc(x) for x >= 3: exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))). */
function erfcLarge(x: number): number {
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = x + an * d;
    d = Math.abs(d) < tiny ? tiny : d;
    c = x + an / c;
    c = Math.abs(c) < tiny ? tiny : c;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / Math.sqrt(Math.PI) / f;
}

/**
 * erf^-1(y) for y in (-1, 1): Giles' (2010) single-precision approximation as a start, refined by Newton steps on
 * erf (quadratic convergence, so two or three steps reach float64 accuracy away from |y| -> 1).
 */
export function erfinv(y: number): number {
  if (Number.isNaN(y) || y < -1 || y > 1) return NaN;
  if (y === 1) return Infinity;
  if (y === -1) return -Infinity;
  let w = -Math.log((1 - y) * (1 + y));
  let x: number;
  if (w < 5) {
    w -= 2.5;
    let p = 2.81022636e-8;
    for (const c of [3.43273939e-7, -3.5233877e-6, -4.39150654e-6, 0.00021858087, -0.00125372503, -0.00417768164, 0.246640727, 1.50140941]) {
      p = c + p * w;
    }
    x = p * y;
  } else {
    w = Math.sqrt(w) - 3;
    let p = -0.000200214257;
    for (const c of [0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613, 0.00943887047, 1.00167406, 2.83297682]) {
      p = c + p * w;
    }
    x = p * y;
  }
  for (let i = 0; i < 3; i++) {
    const err = erf(x) - y;
    const slope = (2 / Math.sqrt(Math.PI)) * Math.exp(-x * x);
    if (slope === 0) break;
    x -= err / slope;
  }
  return x;
}
