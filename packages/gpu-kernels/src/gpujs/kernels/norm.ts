import type { NormParams } from '../../types.js';
import { andThen, type Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { f, idiv, kernelSource } from '../source.js';
import { lineReduce } from './line-reduce.js';

export interface GpuNormResult {
  readonly out: Float32Array;
  readonly mean?: Float32Array;
  readonly rstd: Float32Array;
}

/** Per-row 1 / sqrt(sum / cols + eps) from per-row sums. */
function rstdPass(run: KernelRunner, kernel: string, sums: Float32Array, p: NormParams): Maybe<Float32Array> {
  const body = `return 1.0 / Math.sqrt(s[i] / ${f(p.cols)} + ${f(p.eps)});`;
  return run.run({ kernel, source: kernelSource(['s'], body), size: p.rows, args: [sums] });
}

/**
 * The normalised output: (x - mean[row]) * rstd[row] (mean omitted for RMS norm), then the optional affine
 * weight and bias per column.
 */
function outputPass(
  run: KernelRunner,
  kernel: string,
  x: Float32Array,
  stats: { mean?: Float32Array; rstd: Float32Array },
  weight: Float32Array | null,
  bias: Float32Array | null,
  p: NormParams,
): Maybe<Float32Array> {
  const args: string[] = ['x', 'rs'];
  const values: Float32Array[] = [x, stats.rstd];
  if (stats.mean) {
    args.push('mu');
    values.push(stats.mean);
  }
  if (weight) {
    args.push('wt');
    values.push(weight);
  }
  if (bias) {
    args.push('bs');
    values.push(bias);
  }
  const body = [
    `const row = ${idiv('i', p.cols)};`,
    `const col = i - row * ${f(p.cols)};`,
    stats.mean ? 'let y = (x[i] - mu[row]) * rs[row];' : 'let y = x[i] * rs[row];',
    weight ? 'y = y * wt[col];' : '',
    bias ? 'y = y + bs[col];' : '',
    'return y;',
  ].join('\n');
  return run.run({ kernel, source: kernelSource(args, body), size: p.rows * p.cols, args: values });
}

/**
 * Layer norm of each row of (rows, cols) (Ba, Kiros & Hinton 2016) with the biased variance, as
 * torch.nn.functional.layer_norm. Two-pass statistics (the mean, then the sum of squared deviations) keep the
 * variance accurate in float32 when the mean is large against the spread.
 */
export function layerNormKernel(
  run: KernelRunner,
  x: Float32Array,
  weight: Float32Array | null,
  bias: Float32Array | null,
  p: NormParams,
): Maybe<GpuNormResult> {
  const { rows, cols } = p;
  if (rows === 0) return { out: new Float32Array(0), mean: new Float32Array(0), rstd: new Float32Array(0) };
  if (cols === 0) {
    // No statistics to take: mean 0 and the variance 0, as the reference defines the empty row.
    return { out: new Float32Array(0), mean: new Float32Array(rows), rstd: new Float32Array(rows).fill(1 / Math.sqrt(p.eps)) };
  }
  const layout = { outer: rows, size: cols, inner: 1 };
  const sums = lineReduce(run, x, layout, { kernel: 'layerNorm', op: 'sum' });
  const mean = andThen(sums, (s) =>
    run.run({ kernel: 'layerNorm', source: kernelSource(['s'], `return s[i] / ${f(cols)};`), size: rows, args: [s] }),
  );
  return andThen(mean, (mu) => {
    const sq = lineReduce(run, x, layout, { kernel: 'layerNorm', op: 'sum', element: '(v - aux0[ln]) * (v - aux0[ln])', aux: [mu] });
    const rstd = andThen(sq, (s) => rstdPass(run, 'layerNorm', s, p));
    return andThen(rstd, (rs) =>
      andThen(outputPass(run, 'layerNorm', x, { mean: mu, rstd: rs }, weight, bias, p), (out) => ({ out, mean: mu, rstd: rs })),
    );
  });
}

/** RMS norm of each row of (rows, cols) (Zhang & Sennrich 2019): x / sqrt(mean(x^2) + eps) * weight. */
export function rmsNormKernel(run: KernelRunner, x: Float32Array, weight: Float32Array | null, p: NormParams): Maybe<GpuNormResult> {
  const { rows, cols } = p;
  if (rows === 0) return { out: new Float32Array(0), rstd: new Float32Array(0) };
  if (cols === 0) return { out: new Float32Array(0), rstd: new Float32Array(rows).fill(1 / Math.sqrt(p.eps)) };
  const sq = lineReduce(run, x, { outer: rows, size: cols, inner: 1 }, { kernel: 'rmsNorm', op: 'sum', element: 'v * v' });
  const rstd = andThen(sq, (s) => rstdPass(run, 'rmsNorm', s, p));
  return andThen(rstd, (rs) => andThen(outputPass(run, 'rmsNorm', x, { rstd: rs }, weight, null, p), (out) => ({ out, rstd: rs })));
}
