/**
 * An independent oracle for testing the reference backend itself: each kernel written straight from its
 * definition, elementwise by explicit multi-index arithmetic, in float64, with the result stored once into the
 * output dtype. It shares no code with src/reference and is deliberately slow: a naive DFT, gather-form conv loops
 * (including conv2dGradInput), closed-form sums for the recurrence, O(T^2) prefix sums.
 */
import type {
  AxisLayout,
  Backend,
  BinaryOp,
  Conv1dParams,
  Conv2dParams,
  DType,
  MatmulParams,
  NormParams,
  ReduceOp,
  ScanParams,
  TypedArray,
  UnaryOp,
  View,
} from '@formers/gpu-kernels';
import { typedArray } from './rng.js';

type H = TypedArray;

/** erf by composite Simpson integration of 2/sqrt(pi) exp(-t^2) over [0, x]: slow and obviously right. */
function erfByQuadrature(x: number): number {
  if (Math.abs(x) > 7) return Math.sign(x);
  const steps = 4000;
  const h = x / steps;
  let s = 1 + Math.exp(-x * x);
  for (let i = 1; i < steps; i++) s += (i % 2 === 1 ? 4 : 2) * Math.exp(-((i * h) ** 2));
  return ((s * h) / 3) * (2 / Math.sqrt(Math.PI));
}

function roundHalfEven(x: number): number {
  const f = Math.floor(x);
  const d = x - f;
  if (d < 0.5) return f;
  if (d > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

const UNARY: Record<UnaryOp, (x: number) => number> = {
  identity: (x) => x,
  neg: (x) => 0 - x,
  abs: (x) => (x < 0 ? -x : x),
  sign: (x) => (x > 0 ? 1 : x < 0 ? -1 : 0),
  exp: (x) => Math.exp(x),
  log: (x) => Math.log(x),
  log1p: (x) => Math.log1p(x),
  expm1: (x) => Math.expm1(x),
  sqrt: (x) => Math.sqrt(x),
  rsqrt: (x) => 1 / Math.sqrt(x),
  reciprocal: (x) => 1 / x,
  square: (x) => x * x,
  sin: (x) => Math.sin(x),
  cos: (x) => Math.cos(x),
  tanh: (x) => Math.tanh(x),
  sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  erf: erfByQuadrature,
  relu: (x) => Math.max(0, x),
  gelu: (x) => (x / 2) * (1 + erfByQuadrature(x / Math.SQRT2)),
  gelu_tanh: (x) => (x / 2) * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x ** 3))),
  silu: (x) => x / (1 + Math.exp(-x)),
  softplus: (x) => Math.log1p(Math.exp(x)),
  elu: (x) => (x > 0 ? x : Math.exp(x) - 1),
  floor: (x) => Math.floor(x),
  ceil: (x) => Math.ceil(x),
  round: roundHalfEven,
};

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: (a, b) => a ** b,
  maximum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a > b ? a : b),
  minimum: (a, b) => (Number.isNaN(a) || Number.isNaN(b) ? NaN : a < b ? a : b),
  atan2: (a, b) => Math.atan2(a, b),
  eq: (a, b) => Number(a === b),
  ne: (a, b) => Number(a !== b),
  lt: (a, b) => Number(a < b),
  le: (a, b) => Number(a <= b),
  gt: (a, b) => Number(a > b),
  ge: (a, b) => Number(a >= b),
};

/** Element `i` (row-major) of a strided view, by unravelling i into a multi-index. */
function at(v: View<H>, i: number): number {
  let off = v.offset;
  let rest = i;
  for (let d = v.shape.length - 1; d >= 0; d--) {
    const idx = rest % v.shape[d];
    rest = (rest - idx) / v.shape[d];
    off += idx * v.strides[d];
  }
  return v.data[off];
}

function count(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

/** Store float64 values into a fresh array of `dtype` (the one rounding). */
function store(dtype: DType, values: ArrayLike<number>): H {
  const out = typedArray(dtype, values.length);
  for (let i = 0; i < values.length; i++) out[i] = values[i];
  return out;
}

function lines(l: AxisLayout, f: (get: (s: number) => number, put: (s: number, v: number) => void) => void, x: H, out: Float64Array) {
  for (let o = 0; o < l.outer; o++) {
    for (let j = 0; j < l.inner; j++) {
      const idx = (s: number) => (o * l.size + s) * l.inner + j;
      f((s) => x[idx(s)], (s, v) => (out[idx(s)] = v));
    }
  }
}

export function createNaiveBackend(): Backend<H> {
  return {
    name: 'reference',
    sync: true,
    dtypes: ['float32', 'float64', 'int32'],
    fallbacks: new Map(),
    upload: (data, dtype) => store(dtype, data),
    readSync: (h, dtype, size) => store(dtype, h.subarray(0, size)),
    read: async (h, dtype, size) => store(dtype, h.subarray(0, size)),
    dispose: () => {},

    unary(op: UnaryOp, x: View<H>, outDtype: DType) {
      const n = count(x.shape);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = UNARY[op](at(x, i));
      if (outDtype === 'int32') return Int32Array.from(out, (v) => (Number.isFinite(v) ? Math.trunc(v) | 0 : 0));
      return store(outDtype, out);
    },

    binary(op: BinaryOp, a: View<H>, b: View<H>, outShape: readonly number[], outDtype: DType) {
      const n = count(outShape);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const x = at(a, i);
        const y = at(b, i);
        // int32 products wrap modulo 2^32, computed exactly with BigInt.
        out[i] = op === 'mul' && outDtype === 'int32' ? Number(BigInt.asIntN(32, BigInt(x) * BigInt(y))) : BINARY[op](x, y);
      }
      return outDtype === 'int32'
        ? Int32Array.from(out, (v) => (Number.isFinite(v) ? Number(BigInt.asIntN(32, BigInt(Math.trunc(v)))) : 0))
        : store(outDtype, out);
    },

    where(cond: View<H>, a: View<H>, b: View<H>, outShape: readonly number[], outDtype: DType) {
      const n = count(outShape);
      const out = new Float64Array(n);
      for (let i = 0; i < n; i++) out[i] = at(cond, i) ? at(a, i) : at(b, i);
      return store(outDtype, out);
    },

    reduce(op: ReduceOp, x: H, dtype: DType, l: AxisLayout) {
      const out = new Float64Array(l.outer * l.inner);
      for (let o = 0; o < l.outer; o++) {
        for (let j = 0; j < l.inner; j++) {
          const line = Array.from({ length: l.size }, (_, s) => x[(o * l.size + s) * l.inner + j]);
          let r: number;
          if (op === 'sum') r = line.reduce((p, v) => p + v, 0);
          else if (op === 'max' || op === 'min') {
            const sorted = [...line].sort((p, q) => p - q);
            r = op === 'max' ? sorted[sorted.length - 1] : sorted[0];
          } else {
            const extreme = line.reduce((p, v) => (op === 'argmax' ? (v > p ? v : p) : v < p ? v : p), line[0] ?? 0);
            r = Math.max(0, line.indexOf(extreme));
          }
          out[o * l.inner + j] = r;
        }
      }
      return store(op === 'argmax' || op === 'argmin' ? 'int32' : dtype, out);
    },

    matmul(a: H, b: H, dtype: DType, p: MatmulParams) {
      // Element (i, q) of op(A) and (q, j) of op(B), from the storage formulas; stride 0 repeats one matrix.
      const out = new Float64Array(p.batch * p.m * p.n);
      const [aRow, aCol] = p.transA ? [1, p.m] : [p.k, 1];
      const [bRow, bCol] = p.transB ? [1, p.k] : [p.n, 1];
      for (let bi = 0; bi < p.batch; bi++)
        for (let i = 0; i < p.m; i++)
          for (let j = 0; j < p.n; j++) {
            let s = 0;
            for (let q = 0; q < p.k; q++) s += a[bi * p.strideA + i * aRow + q * aCol] * b[bi * p.strideB + q * bRow + j * bCol];
            out[(bi * p.m + i) * p.n + j] = s;
          }
      return store(dtype, out);
    },

    softmax(x: H, dtype: DType, l: AxisLayout, log: boolean) {
      const out = new Float64Array(l.outer * l.size * l.inner);
      lines(l, (get, put) => {
        let z = 0;
        for (let s = 0; s < l.size; s++) z += Math.exp(get(s));
        for (let s = 0; s < l.size; s++) put(s, log ? get(s) - Math.log(z) : Math.exp(get(s)) / z);
      }, x, out);
      return store(dtype, out);
    },

    layerNorm(x: H, weight: H | null, bias: H | null, dtype: DType, p: NormParams) {
      const out = new Float64Array(p.rows * p.cols);
      const mean = new Float64Array(p.rows);
      const rstd = new Float64Array(p.rows);
      for (let r = 0; r < p.rows; r++) {
        const row = Array.from(x.subarray(r * p.cols, (r + 1) * p.cols));
        const mu = row.reduce((s, v) => s + v, 0) / p.cols;
        const variance = row.reduce((s, v) => s + (v - mu) ** 2, 0) / p.cols;
        mean[r] = mu;
        rstd[r] = 1 / Math.sqrt(variance + p.eps);
        row.forEach((v, c) => (out[r * p.cols + c] = ((v - mu) / Math.sqrt(variance + p.eps)) * (weight ? weight[c] : 1) + (bias ? bias[c] : 0)));
      }
      return { out: store(dtype, out), mean: store(dtype, mean), rstd: store(dtype, rstd) };
    },

    rmsNorm(x: H, weight: H | null, dtype: DType, p: NormParams) {
      const out = new Float64Array(p.rows * p.cols);
      const rstd = new Float64Array(p.rows);
      for (let r = 0; r < p.rows; r++) {
        const row = Array.from(x.subarray(r * p.cols, (r + 1) * p.cols));
        const rms = Math.sqrt(row.reduce((s, v) => s + v * v, 0) / p.cols + p.eps);
        rstd[r] = 1 / rms;
        row.forEach((v, c) => (out[r * p.cols + c] = (v / rms) * (weight ? weight[c] : 1)));
      }
      return { out: store(dtype, out), rstd: store(dtype, rstd) };
    },

    conv1d(x: H, w: H, dtype: DType, p: Conv1dParams) {
      const cInG = p.cIn / p.groups;
      const cOutG = p.cOut / p.groups;
      const out = new Float64Array(p.n * p.cOut * p.lOut);
      for (let b = 0; b < p.n; b++)
        for (let co = 0; co < p.cOut; co++)
          for (let t = 0; t < p.lOut; t++) {
            let s = 0;
            const g = Math.floor(co / cOutG);
            for (let c = 0; c < cInG; c++)
              for (let i = 0; i < p.k; i++) {
                const pos = t * p.stride + i * p.dilation - p.pad;
                if (pos >= 0 && pos < p.l) s += x[(b * p.cIn + g * cInG + c) * p.l + pos] * w[(co * cInG + c) * p.k + i];
              }
            out[(b * p.cOut + co) * p.lOut + t] = s;
          }
      return store(dtype, out);
    },

    conv2d(x: H, w: H, dtype: DType, p: Conv2dParams) {
      const cInG = p.cIn / p.groups;
      const cOutG = p.cOut / p.groups;
      const X = (b: number, c: number, i: number, j: number) =>
        i < 0 || i >= p.h || j < 0 || j >= p.w ? 0 : x[((b * p.cIn + c) * p.h + i) * p.w + j];
      const out = new Float64Array(p.n * p.cOut * p.hOut * p.wOut);
      for (let b = 0; b < p.n; b++)
        for (let co = 0; co < p.cOut; co++)
          for (let oh = 0; oh < p.hOut; oh++)
            for (let ow = 0; ow < p.wOut; ow++) {
              let s = 0;
              const g = Math.floor(co / cOutG);
              for (let c = 0; c < cInG; c++)
                for (let i = 0; i < p.kH; i++)
                  for (let j = 0; j < p.kW; j++)
                    s +=
                      X(b, g * cInG + c, oh * p.strideH + i * p.dilationH - p.padH, ow * p.strideW + j * p.dilationW - p.padW) *
                      w[((co * cInG + c) * p.kH + i) * p.kW + j];
              out[((b * p.cOut + co) * p.hOut + oh) * p.wOut + ow] = s;
            }
      return store(dtype, out);
    },

    conv2dGradInput(dy: H, w: H, dtype: DType, p: Conv2dParams) {
      // Gather form: input pixel (ih, iw) received weight (i, j) from output (oh, ow) exactly when
      // ih = oh * stride + i * dilation - pad, i.e. when (ih + pad - i * dilation) is a multiple of the stride.
      const cInG = p.cIn / p.groups;
      const cOutG = p.cOut / p.groups;
      const out = new Float64Array(p.n * p.cIn * p.h * p.w);
      for (let b = 0; b < p.n; b++)
        for (let ci = 0; ci < p.cIn; ci++)
          for (let ih = 0; ih < p.h; ih++)
            for (let iw = 0; iw < p.w; iw++) {
              const g = Math.floor(ci / cInG);
              let s = 0;
              for (let co = g * cOutG; co < (g + 1) * cOutG; co++)
                for (let i = 0; i < p.kH; i++)
                  for (let j = 0; j < p.kW; j++) {
                    const nh = ih + p.padH - i * p.dilationH;
                    const nw = iw + p.padW - j * p.dilationW;
                    if (nh % p.strideH !== 0 || nw % p.strideW !== 0) continue;
                    const oh = nh / p.strideH;
                    const ow = nw / p.strideW;
                    if (oh < 0 || oh >= p.hOut || ow < 0 || ow >= p.wOut) continue;
                    s += dy[((b * p.cOut + co) * p.hOut + oh) * p.wOut + ow] * w[((co * cInG + (ci - g * cInG)) * p.kH + i) * p.kW + j];
                  }
              out[((b * p.cIn + ci) * p.h + ih) * p.w + iw] = s;
            }
      return store(dtype, out);
    },

    conv2dGradWeight(x: H, dy: H, dtype: DType, p: Conv2dParams) {
      const cInG = p.cIn / p.groups;
      const cOutG = p.cOut / p.groups;
      const out = new Float64Array(p.cOut * cInG * p.kH * p.kW);
      for (let co = 0; co < p.cOut; co++)
        for (let c = 0; c < cInG; c++)
          for (let i = 0; i < p.kH; i++)
            for (let j = 0; j < p.kW; j++) {
              let s = 0;
              const ci = Math.floor(co / cOutG) * cInG + c;
              for (let b = 0; b < p.n; b++)
                for (let oh = 0; oh < p.hOut; oh++)
                  for (let ow = 0; ow < p.wOut; ow++) {
                    const ih = oh * p.strideH + i * p.dilationH - p.padH;
                    const iw = ow * p.strideW + j * p.dilationW - p.padW;
                    if (ih < 0 || ih >= p.h || iw < 0 || iw >= p.w) continue;
                    s += dy[((b * p.cOut + co) * p.hOut + oh) * p.wOut + ow] * x[((b * p.cIn + ci) * p.h + ih) * p.w + iw];
                  }
              out[((co * cInG + c) * p.kH + i) * p.kW + j] = s;
            }
      return store(dtype, out);
    },

    gather(x: H, dtype: DType, l: AxisLayout, index: View<H>, outSize: number) {
      const out = new Float64Array(l.outer * outSize * l.inner);
      for (let t = 0; t < out.length; t++) {
        const j = t % l.inner;
        const o = Math.floor(t / (outSize * l.inner));
        const s = Math.min(l.size - 1, Math.max(0, at(index, t)));
        out[t] = x[(o * l.size + s) * l.inner + j];
      }
      return store(dtype, out);
    },

    scatterAdd(src: H, dtype: DType, index: View<H>, l: AxisLayout, srcSize: number) {
      const out = new Float64Array(l.outer * l.size * l.inner);
      const target = Float64Array.from({ length: l.outer * srcSize * l.inner }, (_, u) => at(index, u));
      // For each output element, sum every source element whose index points at it.
      for (let t = 0; t < out.length; t++) {
        const j = t % l.inner;
        const s = Math.floor(t / l.inner) % l.size;
        const o = Math.floor(t / (l.size * l.inner));
        let acc = 0;
        for (let i = 0; i < srcSize; i++) {
          const u = (o * srcSize + i) * l.inner + j;
          if (target[u] === s) acc += src[u];
        }
        out[t] = acc;
      }
      return store(dtype, out);
    },

    concat(xs: readonly H[], dtype: DType, outer: number, sizes: readonly number[], inner: number) {
      const total = sizes.reduce((p, q) => p + q, 0);
      const out = new Float64Array(outer * total * inner);
      for (let t = 0; t < out.length; t++) {
        const j = t % inner;
        let s = Math.floor(t / inner) % total;
        const o = Math.floor(t / (total * inner));
        let piece = 0;
        while (s >= sizes[piece]) s -= sizes[piece++];
        out[t] = xs[piece][(o * sizes[piece] + s) * inner + j];
      }
      return store(dtype, out);
    },

    cumsum(x: H, dtype: DType, p: ScanParams) {
      // The definition S[s] = S[s - 1] + x[s] (from the other end when reversed), in float64.
      const out = new Float64Array(p.outer * p.size * p.inner);
      lines(p, (get, put) => {
        let acc = 0;
        for (let step = 0; step < p.size; step++) {
          const s = p.reverse ? p.size - 1 - step : step;
          acc += get(s);
          put(s, acc);
        }
      }, x, out);
      return dtype === 'int32' ? Int32Array.from(out, (v) => v | 0) : store(dtype, out);
    },

    linearRecurrence(a: H, b: H, h0: H | null, dtype: DType, p: ScanParams) {
      // Closed form h[t] = sum_{tau <= t} (prod_{tau < u <= t} a[u]) b[tau] + (prod_{u <= t} a[u]) h0 (with the
      // order of time reversed for `reverse`), O(T^2). Past T = 1024 that is too slow for a test, so long lines
      // use the defining recurrence h = a h + b directly.
      const out = new Float64Array(p.outer * p.size * p.inner);
      const T = p.size;
      for (let o = 0; o < p.outer; o++)
        for (let j = 0; j < p.inner; j++) {
          const idx = (t: number) => (o * T + t) * p.inner + j;
          const start = h0 ? h0[o * p.inner + j] : 0;
          if (T > 1024) {
            let h = start;
            for (let step = 0; step < T; step++) {
              const t = p.reverse ? T - 1 - step : step;
              h = a[idx(t)] * h + b[idx(t)];
              out[idx(t)] = h;
            }
            continue;
          }
          for (let t = 0; t < T; t++) {
            let h = 0;
            let carry = 1;
            // Walk back in time from step t: towards 0 going forward, towards T - 1 in reverse.
            const dir = p.reverse ? 1 : -1;
            for (let u = t; u >= 0 && u < T; u += dir) {
              h += carry * b[idx(u)];
              carry *= a[idx(u)];
            }
            out[idx(t)] = h + carry * start;
          }
        }
      return store(dtype, out);
    },

    fft(re: H, im: H, dtype: DType, batch: number, n: number, inverse: boolean) {
      const outRe = new Float64Array(batch * n);
      const outIm = new Float64Array(batch * n);
      const sign = inverse ? 1 : -1;
      // exp(sign 2 pi i j / n) for j < n; the term for (t, k) uses j = (t k) mod n, exact in integers.
      const cos = Float64Array.from({ length: n }, (_, j) => Math.cos((2 * Math.PI * j) / n));
      const sin = Float64Array.from({ length: n }, (_, j) => sign * Math.sin((2 * Math.PI * j) / n));
      for (let r = 0; r < batch; r++)
        for (let k = 0; k < n; k++) {
          let sr = 0;
          let si = 0;
          for (let t = 0; t < n; t++) {
            const j = (t * k) % n;
            const xr = re[r * n + t];
            const xi = im[r * n + t];
            sr += xr * cos[j] - xi * sin[j];
            si += xr * sin[j] + xi * cos[j];
          }
          outRe[r * n + k] = inverse ? sr / n : sr;
          outIm[r * n + k] = inverse ? si / n : si;
        }
      return { re: store(dtype, outRe), im: store(dtype, outIm) };
    },
  };
}
