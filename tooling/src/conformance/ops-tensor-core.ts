/**
 * Conformance ops for @formers/tensor-core: each maps a golden case (torch op name, torch keyword config,
 * tensors named as in tooling/reference/ops.py) onto the tensor-core call. The table in docs/conformance.md lists
 * the same names, config keys and tensors.
 */
import * as tc from '@formers/tensor-core';
import type { Tensor } from '@formers/tensor-core';
import { registerConformanceOp, type ConformanceOpFn, type ConformanceTensors } from './registry.js';

type Config = Record<string, unknown>;

/** A config value, checked to be present (unless a default is given) and of the expected JSON type. */
function opt<T>(c: Config, key: string, check: (v: unknown) => boolean, what: string, dflt?: T): T {
  const v = c[key];
  if (v === undefined || v === null) {
    if (dflt === undefined) throw new Error(`config.${key} is required (${what})`);
    return dflt;
  }
  if (!check(v)) throw new Error(`config.${key} must be ${what}; got ${JSON.stringify(v)}`);
  return v as T;
}
const isInt = (v: unknown): boolean => Number.isInteger(v);
const isNum = (v: unknown): boolean => typeof v === 'number';
const isIntList = (v: unknown): boolean => Array.isArray(v) && v.every(isInt);
const isIntOrList = (v: unknown): boolean => isInt(v) || isIntList(v);

const int = (c: Config, k: string, d?: number): number => opt(c, k, isInt, 'an integer', d);
const num = (c: Config, k: string, d?: number): number => opt(c, k, isNum, 'a number', d);
const intList = (c: Config, k: string): number[] => opt(c, k, isIntList, 'a list of integers');
const dimArg = (c: Config, k: string): number | number[] | undefined =>
  c[k] === undefined || c[k] === null ? undefined : opt<number | number[]>(c, k, isIntOrList, 'an integer or a list of integers');
const bool = (c: Config, k: string, d: boolean): boolean => opt(c, k, (v) => typeof v === 'boolean', 'a boolean', d);
const str = <S extends string>(c: Config, k: string, allowed: readonly S[], d?: S): S =>
  opt(c, k, (v) => typeof v === 'string' && (allowed as readonly string[]).includes(v), `one of ${allowed.join(', ')}`, d);

/** The tensors t0, t1, ... of a list-taking op, in order. */
function listed(i: ConformanceTensors): Tensor[] {
  const out: Tensor[] = [];
  for (let k = 0; `t${k}` in i; k++) out.push(i[`t${k}`]);
  if (out.length !== Object.keys(i).length) throw new Error(`expected inputs named t0..t${out.length - 1} only; got ${Object.keys(i).join(', ')}`);
  return out;
}

/** Outputs '0', '1', ... of an op returning a list. */
const numbered = (ts: Tensor[]): ConformanceTensors => Object.fromEntries(ts.map((t, k) => [String(k), t]));

/** Torch's reductions: config dim (int, list or absent for all), keepdim. */
const reduceOpts = (c: Config): { dim?: number | number[]; keepdim: boolean } => ({ dim: dimArg(c, 'dim'), keepdim: bool(c, 'keepdim', false) });

const unary = (f: (x: Tensor) => Tensor): ConformanceOpFn => (i) => ({ out: f(i.x) });
const binary = (f: (a: Tensor, b: Tensor) => Tensor): ConformanceOpFn => (i) => ({ out: f(i.a, i.b) });

type FftNorm = 'backward' | 'forward' | 'ortho';
const fftOpts = (c: Config): { n?: number; dim: number; norm: FftNorm } => ({
  n: c.n === undefined || c.n === null ? undefined : int(c, 'n'),
  dim: int(c, 'dim', -1),
  norm: str<FftNorm>(c, 'norm', ['backward', 'forward', 'ortho'], 'backward'),
});

/** Every tensor-core op that has a golden case, by torch name. */
export const TENSOR_CORE_CONFORMANCE_OPS: Readonly<Record<string, ConformanceOpFn>> = Object.freeze({
  // elementwise and activations: input x, output out
  abs: unary(tc.abs),
  neg: unary(tc.neg),
  exp: unary(tc.exp),
  log: unary(tc.log),
  log1p: unary(tc.log1p),
  sqrt: unary(tc.sqrt),
  rsqrt: unary(tc.rsqrt),
  reciprocal: unary(tc.reciprocal),
  square: unary(tc.square),
  sin: unary(tc.sin),
  cos: unary(tc.cos),
  tanh: unary(tc.tanh),
  sigmoid: unary(tc.sigmoid),
  relu: unary(tc.relu),
  silu: unary(tc.silu),
  erf: unary(tc.erf),
  gelu: (i, _p, c) => ({ out: tc.gelu(i.x, { approximate: str(c, 'approximate', ['none', 'tanh'] as const, 'none') }) }),
  elu: (i, _p, c) => ({ out: tc.elu(i.x, { alpha: num(c, 'alpha', 1) }) }),
  softplus: (i, _p, c) => ({ out: tc.softplus(i.x, { beta: num(c, 'beta', 1), threshold: num(c, 'threshold', 20) }) }),
  clamp: (i, _p, c) => ({
    out: tc.clamp(i.x, c.min === undefined || c.min === null ? null : num(c, 'min'), c.max === undefined || c.max === null ? null : num(c, 'max')),
  }),
  // binary with broadcasting: inputs a, b
  add: binary((a, b) => tc.add(a, b)),
  sub: binary((a, b) => tc.sub(a, b)),
  mul: binary(tc.mul),
  div: binary(tc.div),
  pow: binary(tc.pow),
  maximum: binary(tc.maximum),
  minimum: binary(tc.minimum),
  // reductions: input x
  sum: (i, _p, c) => ({ out: tc.sum(i.x, reduceOpts(c)) }),
  mean: (i, _p, c) => ({ out: tc.mean(i.x, reduceOpts(c)) }),
  var: (i, _p, c) => ({ out: tc.variance(i.x, { ...reduceOpts(c), correction: num(c, 'correction', 1) }) }),
  std: (i, _p, c) => ({ out: tc.std(i.x, { ...reduceOpts(c), correction: num(c, 'correction', 1) }) }),
  amax: (i, _p, c) => ({ out: tc.amax(i.x, reduceOpts(c)) }),
  amin: (i, _p, c) => ({ out: tc.amin(i.x, reduceOpts(c)) }),
  logsumexp: (i, _p, c) => ({ out: tc.logsumexp(i.x, { dim: dimArg(c, 'dim') ?? int(c, 'dim'), keepdim: bool(c, 'keepdim', false) }) }),
  argmax: (i, _p, c) => ({ out: tc.argmax(i.x, { dim: int(c, 'dim'), keepdim: bool(c, 'keepdim', false) }) }),
  argmin: (i, _p, c) => ({ out: tc.argmin(i.x, { dim: int(c, 'dim'), keepdim: bool(c, 'keepdim', false) }) }),
  // linear algebra
  matmul: binary(tc.matmul),
  bmm: binary(tc.bmm),
  linear: (i, p) => ({ out: tc.linear(i.x, p.weight, p.bias ?? null) }),
  // softmax and normalisation
  softmax: (i, _p, c) => ({ out: tc.softmax(i.x, int(c, 'dim')) }),
  log_softmax: (i, _p, c) => ({ out: tc.logSoftmax(i.x, int(c, 'dim')) }),
  layer_norm: (i, p, c) => ({
    out: tc.layerNorm(i.x, intList(c, 'normalized_shape'), { weight: p.weight ?? null, bias: p.bias ?? null, eps: num(c, 'eps', 1e-5) }),
  }),
  rms_norm: (i, p, c) => ({
    out: tc.rmsNorm(i.x, intList(c, 'normalized_shape'), { weight: p.weight ?? null, eps: c.eps === undefined || c.eps === null ? undefined : num(c, 'eps') }),
  }),
  // convolutions: input x, params weight (bias)
  conv1d: (i, p, c) => ({
    out: tc.conv1d(i.x, p.weight, p.bias ?? null, {
      stride: int(c, 'stride', 1),
      padding: c.padding === 'same' || c.padding === 'valid' ? c.padding : int(c, 'padding', 0),
      dilation: int(c, 'dilation', 1),
      groups: int(c, 'groups', 1),
    }),
  }),
  conv2d: (i, p, c) => {
    const pair = (k: string, d: number): number | [number, number] => opt(c, k, isIntOrList, 'an integer or a pair', d);
    return {
      out: tc.conv2d(i.x, p.weight, p.bias ?? null, {
        stride: pair('stride', 1),
        padding: c.padding === 'same' || c.padding === 'valid' ? c.padding : pair('padding', 0),
        dilation: pair('dilation', 1),
        groups: int(c, 'groups', 1),
      }),
    };
  },
  // indexing: integer tensors arrive as int32
  gather: (i, _p, c) => ({ out: tc.gather(i.x, int(c, 'dim'), i.index) }),
  index_select: (i, _p, c) => ({ out: tc.indexSelect(i.x, int(c, 'dim'), i.index) }),
  scatter_add: (i, _p, c) => ({ out: tc.scatterAdd(i.x, int(c, 'dim'), i.index, i.src) }),
  embedding: (i, p, c) => ({
    out: tc.embedding(i.input, p.weight, { paddingIdx: c.padding_idx === undefined || c.padding_idx === null ? null : int(c, 'padding_idx') }),
  }),
  masked_fill: (i, _p, c) => ({ out: tc.maskedFill(i.x, i.mask, num(c, 'value')) }),
  where: (i) => ({ out: tc.where(i.condition, i.x, i.y) }),
  // joining, splitting, views
  cat: (i, _p, c) => ({ out: tc.cat(listed(i), int(c, 'dim', 0)) }),
  stack: (i, _p, c) => ({ out: tc.stack(listed(i), int(c, 'dim', 0)) }),
  split: (i, _p, c) => numbered(tc.split(i.x, opt<number | number[]>(c, 'split_size_or_sections', isIntOrList, 'an integer or a list'), int(c, 'dim', 0))),
  chunk: (i, _p, c) => numbered(tc.chunk(i.x, int(c, 'chunks'), int(c, 'dim', 0))),
  permute: (i, _p, c) => ({ out: tc.permute(i.x, intList(c, 'dims')) }),
  transpose: (i, _p, c) => ({ out: tc.transpose(i.x, int(c, 'dim0'), int(c, 'dim1')) }),
  reshape: (i, _p, c) => ({ out: tc.reshape(i.x, intList(c, 'shape')) }),
  expand: (i, _p, c) => ({ out: tc.expand(i.x, intList(c, 'size')) }),
  triu: (i, _p, c) => ({ out: tc.triu(i.x, int(c, 'diagonal', 0)) }),
  tril: (i, _p, c) => ({ out: tc.tril(i.x, int(c, 'diagonal', 0)) }),
  cumsum: (i, _p, c) => ({ out: tc.cumsum(i.x, int(c, 'dim')) }),
  flip: (i, _p, c) => ({ out: tc.flip(i.x, intList(c, 'dims')) }),
  roll: (i, _p, c) => ({ out: tc.roll(i.x, opt<number | number[]>(c, 'shifts', isIntOrList, 'an integer or a list'), dimArg(c, 'dims')) }),
  pad: (i, _p, c) => ({
    out: tc.pad(i.x, intList(c, 'pad'), { mode: str(c, 'mode', ['constant', 'reflect', 'replicate', 'circular'] as const, 'constant'), value: num(c, 'value', 0) }),
  }),
  // resampling: input x
  interpolate: (i, _p, c) => ({
    out: tc.interpolate(i.x, {
      size: c.size === undefined || c.size === null ? undefined : opt<number | number[]>(c, 'size', isIntOrList, 'an integer or a list'),
      scaleFactor:
        c.scale_factor === undefined || c.scale_factor === null
          ? undefined
          : opt<number | number[]>(c, 'scale_factor', (v) => isNum(v) || (Array.isArray(v) && v.every(isNum)), 'a number or a list'),
      mode: str(c, 'mode', ['nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic'] as const, 'nearest'),
      alignCorners: c.align_corners === undefined || c.align_corners === null ? undefined : bool(c, 'align_corners', false),
      antialias: bool(c, 'antialias', false),
    }),
  }),
  // spectral: complex tensors as re/im pairs
  rfft: (i, _p, c) => {
    const y = tc.rfft(i.x, fftOpts(c));
    return { re: y.re, im: y.im };
  },
  irfft: (i, _p, c) => ({ out: tc.irfft(new tc.ComplexTensor(i.re, i.im), fftOpts(c)) }),
  fft: (i, _p, c) => {
    const y = tc.fft(new tc.ComplexTensor(i.re, i.im), fftOpts(c));
    return { re: y.re, im: y.im };
  },
  ifft: (i, _p, c) => {
    const y = tc.ifft(new tc.ComplexTensor(i.re, i.im), fftOpts(c));
    return { re: y.re, im: y.im };
  },
});

/** Register every op of `TENSOR_CORE_CONFORMANCE_OPS` (idempotent). */
export function registerTensorCoreOps(): void {
  for (const [op, fn] of Object.entries(TENSOR_CORE_CONFORMANCE_OPS)) registerConformanceOp(op, fn, { source: '@formers/tensor-core' });
}
