/**
 * layer_norm and rms_norm over the trailing `normalizedShape` dims, on the fused kernels, with closed-form
 * backward passes written in tensor ops. Second derivatives treat the saved row statistics as constants.
 */
import { record } from '../autograd.js';
import { mapOut, run } from '../kernel.js';
import { fmt, numelOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { cast, mul, requireFloat, sameBackend, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { reshape } from './views.js';

function rowsCols(op: string, x: Tensor, normalizedShape: number | readonly number[]): { rows: number; cols: number; shape: number[] } {
  const shape = typeof normalizedShape === 'number' ? [normalizedShape] : [...normalizedShape];
  const tail = x.shape.slice(x.ndim - shape.length);
  if (shape.length > x.ndim || tail.some((d, i) => d !== shape[i])) {
    throw new Error(`${op}: expected input with trailing shape ${fmt(shape)} (normalizedShape); got ${fmt(x.shape)}`);
  }
  const cols = numelOf(shape);
  return { rows: cols === 0 ? 0 : x.numel / cols, cols, shape };
}

function checkParam(op: string, arg: string, p: Tensor | null | undefined, shape: number[], x: Tensor): Tensor | null {
  if (!p) return null;
  if (p.ndim !== shape.length || p.shape.some((d, i) => d !== shape[i])) {
    throw new Error(`${op}: expected ${arg} of shape ${fmt(shape)} (normalizedShape); got ${fmt(p.shape)}`);
  }
  sameBackend(op, x, p);
  return cast(p, x.dtype);
}

export interface LayerNormOptions {
  readonly weight?: Tensor | null;
  readonly bias?: Tensor | null;
  /** Added to the variance; default 1e-5, as torch. */
  readonly eps?: number;
}

/**
 * Layer normalisation (Ba, Kiros & Hinton 2016) over the trailing dims: (x - mean) / sqrt(var + eps) * weight + bias
 * with the biased variance (torch.nn.functional.layer_norm).
 */
export function layerNorm(x: Tensor, normalizedShape: number | readonly number[], opts: LayerNormOptions = {}): Tensor {
  requireFloat('layerNorm', x);
  const { rows, cols, shape } = rowsCols('layerNorm', x, normalizedShape);
  const w = checkParam('layerNorm', 'weight', opts.weight, shape, x);
  const b = checkParam('layerNorm', 'bias', opts.bias, shape, x);
  const eps = opts.eps ?? 1e-5;
  const be = x.backend;
  const args = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  const res = run(be, args, (hs) =>
    be.layerNorm(hs[0] as never, (w ? hs[1] : null) as never, (b ? hs[w ? 2 : 1] : null) as never, x.dtype, { rows, cols, eps }),
  );
  const y = Tensor.fromData(be, x.dtype, x.shape, mapOut(res, (r) => r.out));
  const mu = Tensor.fromData(be, x.dtype, [rows, 1], mapOut(res, (r) => r.mean!));
  const rstd = Tensor.fromData(be, x.dtype, [rows, 1], mapOut(res, (r) => r.rstd));
  const inputs = [x, ...(w ? [w] : []), ...(b ? [b] : [])];
  return record('LayerNormBackward', inputs, [y], ([g], need) => {
    const x2 = reshape(x, [rows, cols]); // (rows, cols)
    const g2 = reshape(g, [rows, cols]);
    const xhat = mul(sub(x2, mu), rstd);
    const gy = w ? mul(g2, reshape(w, [cols])) : g2;
    // dx = rstd (gy - mean(gy) - xhat mean(gy xhat)), the row-wise Jacobian of normalisation.
    const dx = need[0]
      ? reshape(mul(rstd, sub(sub(gy, mean(gy, 1, true)), mul(xhat, mean(mul(gy, xhat), 1, true)))), x.shape)
      : null;
    const dw = w && need[1] ? reshape(sum(mul(g2, xhat), 0), shape) : null;
    const db = b && need[w ? 2 : 1] ? reshape(sum(g2, 0), shape) : null;
    return [dx, ...(w ? [dw] : []), ...(b ? [db] : [])];
  }, [x, ...(w ? [w] : []), mu, rstd]);
}

export interface RmsNormOptions {
  readonly weight?: Tensor | null;
  /** Added to mean(x^2); default the dtype's machine epsilon, as torch.nn.functional.rms_norm with eps=None. */
  readonly eps?: number;
}

/** RMS normalisation (Zhang & Sennrich 2019): x / sqrt(mean(x^2) + eps) * weight over the trailing dims. */
export function rmsNorm(x: Tensor, normalizedShape: number | readonly number[], opts: RmsNormOptions = {}): Tensor {
  requireFloat('rmsNorm', x);
  const { rows, cols, shape } = rowsCols('rmsNorm', x, normalizedShape);
  const w = checkParam('rmsNorm', 'weight', opts.weight, shape, x);
  const eps = opts.eps ?? (x.dtype === 'float64' ? 2.220446049250313e-16 : 1.1920928955078125e-7);
  const be = x.backend;
  const res = run(be, w ? [x, w] : [x], (hs) => be.rmsNorm(hs[0] as never, (w ? hs[1] : null) as never, x.dtype, { rows, cols, eps }));
  const y = Tensor.fromData(be, x.dtype, x.shape, mapOut(res, (r) => r.out));
  const rstd = Tensor.fromData(be, x.dtype, [rows, 1], mapOut(res, (r) => r.rstd));
  return record('RmsNormBackward', w ? [x, w] : [x], [y], ([g], need) => {
    const x2 = reshape(x, [rows, cols]); // (rows, cols)
    const g2 = reshape(g, [rows, cols]);
    const xhat = mul(x2, rstd);
    const gy = w ? mul(g2, reshape(w, [cols])) : g2;
    // dx = rstd (gy - xhat mean(gy xhat))
    const dx = need[0] ? reshape(mul(rstd, sub(gy, mul(xhat, mean(mul(gy, xhat), 1, true)))), x.shape) : null;
    const dw = w && need[1] ? reshape(sum(mul(g2, xhat), 0), shape) : null;
    return w ? [dx, dw] : [dx];
  }, [x, ...(w ? [w] : []), rstd]);
}

