import { allOf, andThen, type Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { decompose, f, int, kernelSource } from '../source.js';

/**
 * The complex DFT of `batch` rows of length n (any n >= 1), one thread per output element:
 * X[k] = sum_j x[j] e^{-2 pi i jk / n}, and the inverse with e^{+...} and the 1/n factor (torch.fft norm="backward").
 *
 * This is the direct O(n^2) form, chosen because it is exact in its indexing for every n (no radix-2 / Bluestein
 * split) and embarrassingly parallel; a fast transform is future work. jk mod n is carried incrementally, so it
 * stays exact however large jk gets, and the twiddles cos / sin(2 pi m / n) come from a table computed once on the
 * host in float64 and rounded once, which is more accurate than any GPU's sin/cos.
 */
export function fftKernel(
  run: KernelRunner,
  re: Float32Array,
  im: Float32Array,
  batch: number,
  n: number,
  inverse: boolean,
): Maybe<{ re: Float32Array; im: Float32Array }> {
  const size = batch * n;
  if (size === 0) return { re: new Float32Array(0), im: new Float32Array(0) };
  const cos = new Float32Array(n);
  const sin = new Float32Array(n);
  for (let m = 0; m < n; m++) {
    cos[m] = Math.cos((2 * Math.PI * m) / n);
    sin[m] = Math.sin((2 * Math.PI * m) / n);
  }
  // x e^{-i t} = (xr cos t + xi sin t) + i (xi cos t - xr sin t); the inverse flips the sign of sin t.
  const sg = inverse ? '-' : '+';
  const part = (which: 're' | 'im'): Maybe<Float32Array> => {
    const step =
      which === 're' ? `acc += xr * tc[m] ${sg} xi * ts[m];` : `acc += xi * tc[m] ${sg === '+' ? '-' : '+'} xr * ts[m];`;
    const body = [
      decompose('i', [batch, n], 'p'),
      `const base = p0 * ${f(n)};`,
      'let acc = 0.0;',
      'let m = 0.0;',
      `for (let j = 0; j < ${int(n)}; j++) {`,
      '  const xr = re[base + j];',
      '  const xi = im[base + j];',
      `  ${step}`,
      '  m = m + p1;',
      `  if (m >= ${f(n)}) { m = m - ${f(n)}; }`,
      '}',
      inverse ? `return acc / ${f(n)};` : 'return acc;',
    ].join('\n');
    return run.run({ kernel: 'fft', source: kernelSource(['re', 'im', 'tc', 'ts'], body), size, args: [re, im, cos, sin] });
  };
  return andThen(allOf([part('re'), part('im')]), ([outRe, outIm]) => ({ re: outRe, im: outIm }));
}
