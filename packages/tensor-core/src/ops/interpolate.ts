/**
 * Resampling with torch.nn.functional.interpolate semantics: 'nearest', 'nearest-exact', 'linear' (3-D input),
 * 'bilinear' and 'bicubic' (4-D input), with alignCorners and antialias.
 *
 * Every mode is separable, so each resized axis is a (out, in) weight matrix built on the host from torch's
 * coordinate rules and applied with matmul: y = W_h x W_w^T. The gradient is then the transposed matmul, which is
 * exactly torch's backward (including the summing of contributions in nearest mode).
 *
 * Coordinate rules (as ATen's UpSample.h): the per-axis scale is 1 / scaleFactor when a scale factor is given
 * (and recomputeScaleFactor is not set), else in / out; with alignCorners it is (in - 1) / (out - 1). Linear and
 * cubic sample at scale * (i + 0.5) - 0.5 (linear clamps it at 0), or scale * i with alignCorners; cubic uses
 * Keys' kernel with A = -0.75 and clamps the four taps to the border. Antialias (Pillow-style) widens the filter
 * support by the downsampling factor and renormalises the weights of every output sample.
 */
import { fromHost } from '../creation.js';
import { fmt } from '../shape.js';
import type { Tensor } from '../tensor.js';
import { requireFloat } from './elementwise.js';
import { matmul } from './matmul.js';
import { transpose } from './views.js';

export type InterpolateMode = 'nearest' | 'nearest-exact' | 'linear' | 'bilinear' | 'bicubic';

export interface InterpolateOptions {
  /** Output spatial size (one number for every axis, or one per axis). Exactly one of size and scaleFactor. */
  readonly size?: number | readonly number[];
  /** Multiplier of the spatial size; the output is floor(in * scaleFactor). */
  readonly scaleFactor?: number | readonly number[];
  /** Default 'nearest', as torch. */
  readonly mode?: InterpolateMode;
  /** Only for linear, bilinear and bicubic; default false. */
  readonly alignCorners?: boolean;
  /** Pillow-style anti-aliasing for bilinear and bicubic; default false. */
  readonly antialias?: boolean;
  /** Derive the coordinate scale from the computed output size instead of the given scale factor. */
  readonly recomputeScaleFactor?: boolean;
}

const CUBIC_A = -0.75;

function cubic1(x: number, a: number): number {
  return ((a + 2) * x - (a + 3)) * x * x + 1; // |x| <= 1
}
function cubic2(x: number, a: number): number {
  return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a; // 1 < |x| < 2
}

/** The coordinate scale for one axis (area_pixel_compute_scale). */
function axisScale(inSize: number, outSize: number, alignCorners: boolean, scale: number | null): number {
  if (alignCorners) return outSize > 1 ? (inSize - 1) / (outSize - 1) : 0;
  return scale !== null && scale > 0 ? 1 / scale : inSize / outSize;
}

/** The (out, in) interpolation matrix for one axis, row-major. */
export function interpolationMatrix(
  mode: InterpolateMode,
  inSize: number,
  outSize: number,
  opts: { alignCorners?: boolean; antialias?: boolean; scale?: number | null } = {},
): Float64Array {
  const w = new Float64Array(outSize * inSize);
  const scaleArg = opts.scale ?? null;
  const align = opts.alignCorners ?? false;
  if (mode === 'nearest' || mode === 'nearest-exact') {
    // torch computes these indices in float32.
    const s = Math.fround(scaleArg !== null && scaleArg > 0 ? 1 / scaleArg : inSize / outSize);
    for (let i = 0; i < outSize; i++) {
      let src: number;
      if (outSize === inSize) src = i;
      else if (mode === 'nearest') src = Math.min(Math.floor(Math.fround(i * s)), inSize - 1);
      else src = Math.min(Math.floor(Math.fround(Math.fround(i + 0.5) * s)), inSize - 1);
      w[i * inSize + src] = 1;
    }
    return w;
  }
  const isCubic = mode === 'bicubic';
  const scale = axisScale(inSize, outSize, align, scaleArg);
  if (opts.antialias) {
    const interpSize = isCubic ? 4 : 2;
    const support = scale >= 1 ? (interpSize / 2) * scale : interpSize / 2;
    const invscale = scale >= 1 ? 1 / scale : 1;
    const filter = isCubic
      ? (x: number) => {
          const ax = Math.abs(x);
          return ax < 1 ? cubic1(ax, -0.5) : ax < 2 ? cubic2(ax, -0.5) : 0; // Pillow's bicubic uses a = -0.5
        }
      : (x: number) => Math.max(0, 1 - Math.abs(x));
    for (let i = 0; i < outSize; i++) {
      const center = scale * (i + 0.5);
      const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
      const xmax = Math.min(Math.trunc(center + support + 0.5), inSize);
      let total = 0;
      const row = i * inSize;
      for (let j = xmin; j < xmax; j++) {
        const v = filter((j - center + 0.5) * invscale);
        w[row + j] = v;
        total += v;
      }
      if (total !== 0) for (let j = xmin; j < xmax; j++) w[row + j] /= total;
    }
    return w;
  }
  for (let i = 0; i < outSize; i++) {
    const row = i * inSize;
    if (!isCubic) {
      if (inSize === outSize) {
        w[row + i] = 1;
        continue;
      }
      let src = align ? scale * i : scale * (i + 0.5) - 0.5;
      if (src < 0) src = 0;
      const i0 = Math.floor(src);
      const i1 = i0 < inSize - 1 ? i0 + 1 : i0;
      const l1 = Math.min(Math.max(src - i0, 0), 1);
      w[row + i0] += 1 - l1;
      w[row + i1] += l1;
    } else {
      const src = align ? scale * i : scale * (i + 0.5) - 0.5;
      const i0 = Math.floor(src);
      const t = src - i0;
      const coeffs = [cubic2(t + 1, CUBIC_A), cubic1(t, CUBIC_A), cubic1(1 - t, CUBIC_A), cubic2(2 - t, CUBIC_A)];
      for (let k = 0; k < 4; k++) {
        const j = Math.min(Math.max(i0 - 1 + k, 0), inSize - 1);
        w[row + j] += coeffs[k];
      }
    }
  }
  return w;
}

function perAxis(op: string, arg: string, v: number | readonly number[], n: number): number[] {
  const a = typeof v === 'number' ? new Array<number>(n).fill(v) : [...v];
  if (a.length !== n) throw new Error(`${op}: expected ${arg} with ${n} entries (one per spatial dim); got ${JSON.stringify(v)}`);
  return a;
}

/** Resize the spatial dims of (N, C, L) or (N, C, H, W) input; see the file comment. */
export function interpolate(x: Tensor, opts: InterpolateOptions): Tensor {
  requireFloat('interpolate', x);
  const mode = opts.mode ?? 'nearest';
  const modes: InterpolateMode[] = ['nearest', 'nearest-exact', 'linear', 'bilinear', 'bicubic'];
  if (!modes.includes(mode)) throw new Error(`interpolate: expected mode one of ${modes.join(', ')}; got ${String(mode)}`);
  const spatial = x.ndim - 2;
  if (spatial < 1 || spatial > 2) throw new Error(`interpolate: expected a 3-D (N, C, L) or 4-D (N, C, H, W) input; got ${fmt(x.shape)}`);
  if (mode === 'linear' && spatial !== 1) throw new Error(`interpolate: mode 'linear' expects a 3-D input; got ${fmt(x.shape)}`);
  if ((mode === 'bilinear' || mode === 'bicubic') && spatial !== 2) {
    throw new Error(`interpolate: mode '${mode}' expects a 4-D input; got ${fmt(x.shape)}`);
  }
  const nearest = mode === 'nearest' || mode === 'nearest-exact';
  if (nearest && opts.alignCorners !== undefined) {
    throw new Error(`interpolate: alignCorners is only for linear, bilinear and bicubic modes; got mode '${mode}'`);
  }
  if (opts.antialias && !(mode === 'bilinear' || mode === 'bicubic')) {
    throw new Error(`interpolate: antialias is only for bilinear and bicubic modes; got mode '${mode}'`);
  }
  if ((opts.size === undefined) === (opts.scaleFactor === undefined)) {
    throw new Error('interpolate: expected exactly one of size and scaleFactor');
  }
  const inSizes = x.shape.slice(2);
  let outSizes: number[];
  let scales: (number | null)[];
  if (opts.size !== undefined) {
    outSizes = perAxis('interpolate', 'size', opts.size, spatial);
    scales = outSizes.map(() => null);
  } else {
    const sf = perAxis('interpolate', 'scaleFactor', opts.scaleFactor!, spatial);
    if (sf.some((s) => !(s > 0) || !Number.isFinite(s))) throw new Error(`interpolate: expected positive scale factors; got ${JSON.stringify(opts.scaleFactor)}`);
    outSizes = inSizes.map((n, i) => Math.floor(n * sf[i]));
    scales = opts.recomputeScaleFactor ? outSizes.map(() => null) : sf;
  }
  if (outSizes.some((s) => !Number.isInteger(s) || s <= 0)) {
    throw new Error(`interpolate: expected a positive integer output size; got ${fmt(outSizes)} for input ${fmt(x.shape)}`);
  }
  const mats = outSizes.map((o, i) =>
    fromHost(
      'interpolate',
      interpolationMatrix(mode, inSizes[i], o, { alignCorners: opts.alignCorners, antialias: opts.antialias, scale: scales[i] }),
      [o, inSizes[i]],
      { dtype: x.dtype, backend: x.backend },
    ),
  );
  if (spatial === 1) return matmul(x, transpose(mats[0], 0, 1)); // (N, C, L) @ (L, Lo) -> (N, C, Lo)
  const rows = matmul(mats[0], x); // (Ho, H) @ (N, C, H, W) -> (N, C, Ho, W)
  return matmul(rows, transpose(mats[1], 0, 1)); // (N, C, Ho, W) @ (W, Wo) -> (N, C, Ho, Wo)
}
