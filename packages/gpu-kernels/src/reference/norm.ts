import type { DType, NormParams, NormResult, TypedArray } from '../types.js';
import { allocate, requireFloat, requireLength } from './dtype.js';

/**
 * Layer norm over each row of (rows, cols) (Ba, Kiros & Hinton 2016): y = (x - mean) * rstd * weight + bias with
 * rstd = 1 / sqrt(var + eps) and the biased variance, as torch.nn.functional.layer_norm. The mean and variance
 * are two-pass in float64; `mean` and `rstd` are returned for the backward pass.
 */
export function layerNorm(
  x: TypedArray,
  weight: TypedArray | null,
  bias: TypedArray | null,
  dtype: DType,
  p: NormParams,
): NormResult<TypedArray> {
  requireFloat('layerNorm', dtype);
  const { rows, cols, eps } = p;
  requireLength('layerNorm', 'x', x, rows * cols);
  if (weight) requireLength('layerNorm', 'weight', weight, cols);
  if (bias) requireLength('layerNorm', 'bias', bias, cols);
  const out = allocate(dtype, rows * cols);
  const mean = allocate(dtype, rows);
  const rstd = allocate(dtype, rows);
  for (let r = 0; r < rows; r++) {
    const at = r * cols;
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += x[at + c];
    const mu = cols > 0 ? sum / cols : 0; // an empty row has no statistics; 0 keeps it NaN-free
    let sq = 0;
    for (let c = 0; c < cols; c++) {
      const d = x[at + c] - mu;
      sq += d * d;
    }
    const rs = 1 / Math.sqrt((cols > 0 ? sq / cols : 0) + eps);
    mean[r] = mu;
    rstd[r] = rs;
    for (let c = 0; c < cols; c++) {
      let y = (x[at + c] - mu) * rs;
      if (weight) y *= weight[c];
      if (bias) y += bias[c];
      out[at + c] = y;
    }
  }
  return { out, mean, rstd };
}

/**
 * RMS norm over each row of (rows, cols) (Zhang & Sennrich 2019): y = x * rstd * weight with
 * rstd = 1 / sqrt(mean(x^2) + eps), the mean of squares taken in float64. `mean` is undefined.
 */
export function rmsNorm(x: TypedArray, weight: TypedArray | null, dtype: DType, p: NormParams): NormResult<TypedArray> {
  requireFloat('rmsNorm', dtype);
  const { rows, cols, eps } = p;
  requireLength('rmsNorm', 'x', x, rows * cols);
  if (weight) requireLength('rmsNorm', 'weight', weight, cols);
  const out = allocate(dtype, rows * cols);
  const rstd = allocate(dtype, rows);
  for (let r = 0; r < rows; r++) {
    const at = r * cols;
    let sq = 0;
    for (let c = 0; c < cols; c++) sq += x[at + c] * x[at + c];
    const rs = 1 / Math.sqrt((cols > 0 ? sq / cols : 0) + eps);
    rstd[r] = rs;
    for (let c = 0; c < cols; c++) out[at + c] = weight ? x[at + c] * rs * weight[c] : x[at + c] * rs;
  }
  return { out, rstd };
}
