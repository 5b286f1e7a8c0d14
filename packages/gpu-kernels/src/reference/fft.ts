import type { DType, TypedArray } from '../types.js';
import { allocate, requireFloat, requireLength } from './dtype.js';

/**
 * Complex FFT of `batch` rows of length n, X[k] = sum_t x[t] exp(-+2 pi i t k / n), computed in float64 and rounded
 * once into the dtype. Powers of two use the iterative radix-2 Cooley-Tukey transform; any other n uses Bluestein's
 * chirp-z identity t k = (t^2 + k^2 - (k - t)^2) / 2, which turns the DFT into a power-of-two circular
 * convolution. The inverse includes 1/n (torch.fft.ifft, norm="backward").
 */
export function fft(
  re: TypedArray,
  im: TypedArray,
  dtype: DType,
  batch: number,
  n: number,
  inverse: boolean,
): { re: TypedArray; im: TypedArray } {
  requireFloat('fft', dtype);
  requireLength('fft', 're', re, batch * n);
  requireLength('fft', 'im', im, batch * n);
  const outRe = allocate(dtype, batch * n);
  const outIm = allocate(dtype, batch * n);
  if (batch === 0 || n === 0) return { re: outRe, im: outIm };
  const sign = inverse ? 1 : -1;
  const plan = isPowerOfTwo(n) ? radix2Plan(n, sign) : bluesteinPlan(n, sign);
  const xr = new Float64Array(n);
  const xi = new Float64Array(n);
  const scale = inverse ? 1 / n : 1;
  for (let r = 0; r < batch; r++) {
    for (let t = 0; t < n; t++) {
      xr[t] = re[r * n + t];
      xi[t] = im[r * n + t];
    }
    plan(xr, xi);
    for (let t = 0; t < n; t++) {
      outRe[r * n + t] = xr[t] * scale;
      outIm[r * n + t] = xi[t] * scale;
    }
  }
  return { re: outRe, im: outIm };
}

function isPowerOfTwo(n: number): boolean {
  return (n & (n - 1)) === 0;
}

/** An in-place transform of one row. */
type Plan = (re: Float64Array, im: Float64Array) => void;

/**
 * Iterative radix-2 FFT: bit-reversal permutation, then log2(n) butterfly passes. Twiddles come from a table of
 * directly evaluated cos/sin (no recurrence), so their error does not grow with n.
 */
function radix2Plan(n: number, sign: number): Plan {
  const half = n >> 1;
  const cos = new Float64Array(half);
  const sin = new Float64Array(half);
  for (let k = 0; k < half; k++) {
    cos[k] = Math.cos((2 * Math.PI * k) / n);
    sin[k] = sign * Math.sin((2 * Math.PI * k) / n);
  }
  const rev = new Int32Array(n);
  const bits = Math.round(Math.log2(n));
  for (let i = 0; i < n; i++) {
    let r = 0;
    for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
    rev[i] = r;
  }
  return (re, im) => {
    for (let i = 0; i < n; i++) {
      const j = rev[i];
      if (j > i) {
        let t = re[i];
        re[i] = re[j];
        re[j] = t;
        t = im[i];
        im[i] = im[j];
        im[j] = t;
      }
    }
    for (let len = 2; len <= n; len <<= 1) {
      const halfLen = len >> 1;
      const step = n / len;
      for (let start = 0; start < n; start += len) {
        for (let k = 0; k < halfLen; k++) {
          const wr = cos[k * step];
          const wi = sin[k * step];
          const p = start + k;
          const q = p + halfLen;
          const tr = re[q] * wr - im[q] * wi;
          const ti = re[q] * wi + im[q] * wr;
          re[q] = re[p] - tr;
          im[q] = im[p] - ti;
          re[p] += tr;
          im[p] += ti;
        }
      }
    }
  };
}

/**
 * Bluestein: X[k] = conj(w[k]) * sum_t (x[t] conj(w[t])) w[k - t] with the chirp w[t] = exp(-sign i pi t^2 / n).
 * The sum is a linear convolution of length 2n - 1, done as a circular one of power-of-two length m via radix-2.
 * t^2 is reduced mod 2n before the angle is formed, so the chirp stays accurate for large n.
 */
function bluesteinPlan(n: number, sign: number): Plan {
  let m = 1;
  while (m < 2 * n - 1) m <<= 1;
  const chirpRe = new Float64Array(n);
  const chirpIm = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const t2 = (t * t) % (2 * n); // exact while t < 2^26, far past any row we transform
    const angle = (Math.PI * t2) / n;
    chirpRe[t] = Math.cos(angle);
    chirpIm[t] = -sign * Math.sin(angle);
  }
  // The filter w[k - t] for k - t in (-n, n), laid out circularly, transformed once per plan.
  const forward = radix2Plan(m, -1);
  const backward = radix2Plan(m, 1);
  const fr = new Float64Array(m);
  const fi = new Float64Array(m);
  fr[0] = chirpRe[0];
  fi[0] = chirpIm[0];
  for (let t = 1; t < n; t++) {
    fr[t] = fr[m - t] = chirpRe[t];
    fi[t] = fi[m - t] = chirpIm[t];
  }
  forward(fr, fi);
  const ar = new Float64Array(m);
  const ai = new Float64Array(m);
  return (re, im) => {
    ar.fill(0);
    ai.fill(0);
    for (let t = 0; t < n; t++) {
      // x[t] * conj(w[t])
      ar[t] = re[t] * chirpRe[t] + im[t] * chirpIm[t];
      ai[t] = im[t] * chirpRe[t] - re[t] * chirpIm[t];
    }
    forward(ar, ai);
    for (let k = 0; k < m; k++) {
      const r = ar[k] * fr[k] - ai[k] * fi[k];
      ai[k] = ar[k] * fi[k] + ai[k] * fr[k];
      ar[k] = r;
    }
    backward(ar, ai);
    for (let k = 0; k < n; k++) {
      // (1/m from the circular convolution) * conj(w[k]) * conv[k]
      const cr = ar[k] / m;
      const ci = ai[k] / m;
      re[k] = cr * chirpRe[k] + ci * chirpIm[k];
      im[k] = ci * chirpRe[k] - cr * chirpIm[k];
    }
  };
}
