/**
 * Discrete Fourier transforms along one dim (torch.fft.fft/ifft/rfft/irfft), on the complex fft kernel, with
 * complex values as ComplexTensor pairs. The complex transform is differentiable through its adjoint: for
 * y = F x the gradient is conj(F) g = n ifft(g), and for y = ifft(x) it is fft(g) / n. rfft and irfft are composed
 * from it (zero imaginary input, half spectrum, Hermitian extension), so their gradients follow.
 */
import { record } from '../autograd.js';
import { zerosLike } from '../creation.js';
import { mapOut, run } from '../kernel.js';
import { fmt, normDim } from '../shape.js';
import { Tensor } from '../tensor.js';
import { ComplexTensor } from '../complex.js';
import { cast, div, mul, neg, requireFloat, sameBackend } from './elementwise.js';
import { cat, pad } from './join.js';
import { flip, movedim, narrow, slice } from './views.js';

export type FftNorm = 'backward' | 'forward' | 'ortho';

export interface FftOptions {
  /** Transform length: the input is zero-padded or trimmed to n along dim. */
  readonly n?: number;
  /** Default -1. */
  readonly dim?: number;
  /** Scaling convention as torch: 'backward' (default; 1/n on the inverse), 'forward' (1/n on the forward), 'ortho'. */
  readonly norm?: FftNorm;
}

/** The unnormalised (forward) or 1/n-normalised (inverse) transform along the last dim. */
function fftLast(re: Tensor, im: Tensor, inverse: boolean): ComplexTensor {
  const n = re.shape[re.ndim - 1];
  const batch = n === 0 ? 0 : re.numel / n;
  const be = re.backend;
  const res = run(be, [re, im], ([hr, hi]) => be.fft(hr as never, hi as never, re.dtype, batch, n, inverse));
  const yr = Tensor.fromData(be, re.dtype, re.shape, mapOut(res, (r) => r.re));
  const yi = Tensor.fromData(be, re.dtype, re.shape, mapOut(res, (r) => r.im));
  record(inverse ? 'IfftBackward' : 'FftBackward', [re, im], [yr, yi], ([gr, gi]) => {
    // Adjoint of F is conj(F) = n ifft; adjoint of ifft = conj(F)/n is F / n.
    const a = fftLast(gr, gi, !inverse);
    return inverse ? [div(a.re, n), div(a.im, n)] : [mul(a.re, n), mul(a.im, n)];
  }, []);
  return new ComplexTensor(yr, yi);
}

/** Zero-pad or trim `x` to length n along the last dim. */
function fitLast(x: Tensor, n: number): Tensor {
  const have = x.shape[x.ndim - 1];
  if (n === have) return x;
  if (n < have) return slice(x, -1, 0, n);
  return pad(x, [0, n - have]);
}

function prep(op: string, x: ComplexTensor | Tensor, opts: FftOptions): { re: Tensor; im: Tensor; d: number; n: number } {
  const re0 = x instanceof ComplexTensor ? x.re : x;
  requireFloat(op, re0);
  if (re0.ndim === 0) throw new Error(`${op}: expected at least 1 dim; got a 0-d tensor`);
  const d = normDim(op, opts.dim ?? -1, re0.ndim);
  const n = opts.n ?? re0.shape[d];
  if (!Number.isInteger(n) || n < 1) throw new Error(`${op}: expected n to be a positive integer; got ${n}`);
  const im0 = x instanceof ComplexTensor ? cast(x.im, re0.dtype) : zerosLike(re0);
  sameBackend(op, re0, im0);
  const last = re0.ndim - 1;
  return { re: movedim(re0, d, last), im: movedim(im0, d, last), d, n };
}

function scaleFor(norm: FftNorm | undefined, n: number, inverse: boolean): number {
  const nm = norm ?? 'backward';
  if (nm !== 'backward' && nm !== 'forward' && nm !== 'ortho') {
    throw new Error(`fft: expected norm 'backward', 'forward' or 'ortho'; got ${String(nm)}`);
  }
  // Relative to the kernel, which applies 1/n on the inverse only.
  if (nm === 'backward') return 1;
  if (nm === 'forward') return inverse ? n : 1 / n;
  return inverse ? Math.sqrt(n) : 1 / Math.sqrt(n);
}

function finish(y: ComplexTensor, d: number, s: number): ComplexTensor {
  const last = y.re.ndim - 1;
  const z = s === 1 ? y : y.scale(s);
  return new ComplexTensor(movedim(z.re, last, d), movedim(z.im, last, d));
}

/** Complex DFT X[k] = sum_t x[t] e^(-2 pi i t k / n) along `dim` (a real input has zero imaginary part). */
export function fft(x: ComplexTensor | Tensor, opts: FftOptions = {}): ComplexTensor {
  const p = prep('fft', x, opts);
  const y = fftLast(fitLast(p.re, p.n), fitLast(p.im, p.n), false);
  return finish(y, p.d, scaleFor(opts.norm, p.n, false));
}

/** Inverse DFT, x[t] = (1/n) sum_k X[k] e^(2 pi i t k / n) with the default norm. */
export function ifft(x: ComplexTensor | Tensor, opts: FftOptions = {}): ComplexTensor {
  const p = prep('ifft', x, opts);
  const y = fftLast(fitLast(p.re, p.n), fitLast(p.im, p.n), true);
  return finish(y, p.d, scaleFor(opts.norm, p.n, true));
}

/** DFT of a real signal, keeping the n/2 + 1 non-redundant frequencies. */
export function rfft(x: Tensor, opts: FftOptions = {}): ComplexTensor {
  if (!(x instanceof Tensor)) throw new Error('rfft: expected a real Tensor (use fft for complex input)');
  const p = prep('rfft', x, opts);
  const y = fftLast(fitLast(p.re, p.n), fitLast(p.im, p.n), false);
  const half = Math.floor(p.n / 2) + 1;
  const h = new ComplexTensor(narrow(y.re, -1, 0, half), narrow(y.im, -1, 0, half));
  return finish(h, p.d, scaleFor(opts.norm, p.n, false));
}

/**
 * Inverse of rfft: the real signal of length n (default 2 (m - 1) for m input frequencies) whose spectrum is the
 * Hermitian extension of the input. Imaginary parts of the DC (and, for even n, Nyquist) bins do not contribute.
 */
export function irfft(x: ComplexTensor, opts: FftOptions = {}): Tensor {
  if (!(x instanceof ComplexTensor)) throw new Error('irfft: expected a ComplexTensor (the half spectrum)');
  const d0 = normDim('irfft', opts.dim ?? -1, x.ndim);
  const m = x.shape[d0];
  const n = opts.n ?? 2 * (m - 1);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`irfft: expected n to be a positive integer; got ${n} (input has ${m} frequencies along dim ${d0}, shape ${fmt(x.shape)})`);
  }
  const p = prep('irfft', x, { dim: d0, n: m });
  const need = Math.floor(n / 2) + 1;
  const re = fitLast(p.re, need);
  const im = fitLast(p.im, need);
  // X[k] for k > n/2 is conj(X[n - k]): the bins 1 .. n - need, reversed.
  const tail = n - need;
  const fullRe = tail > 0 ? cat([re, flip(slice(re, -1, 1, 1 + tail), -1)], -1) : re;
  const fullIm = tail > 0 ? cat([im, neg(flip(slice(im, -1, 1, 1 + tail), -1))], -1) : im;
  const y = fftLast(fullRe, fullIm, true);
  const s = scaleFor(opts.norm, n, true);
  const out = s === 1 ? y.re : mul(y.re, s);
  return movedim(out, out.ndim - 1, p.d);
}
