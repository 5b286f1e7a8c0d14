/**
 * Image transforms on host arrays (3, H, W) in [0, 1]: torchvision's RandomResizedCrop and RandomHorizontalFlip
 * for training (as timm's train transform), and ImageNet mean/std normalisation.
 */
import type { Generator } from '@formers/tensor-core';
import type { RenderedImage } from './synthetic-shapes.js';
import { checkInt } from './validate.js';

/** ImageNet statistics (timm's IMAGENET_DEFAULT_MEAN / _STD). */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

/** Bilinear resampling of a crop box (top, left, height, width in source pixels) to out x out, half-pixel centres. */
export function resizedCrop(img: RenderedImage, box: { top: number; left: number; height: number; width: number }, outH: number, outW = outH): RenderedImage {
  const { height: h, width: w, data } = img;
  const out = new Float32Array(3 * outH * outW);
  const sy = box.height / outH;
  const sx = box.width / outW;
  for (let i = 0; i < outH; i++) {
    const y = Math.min(Math.max(box.top + (i + 0.5) * sy - 0.5, 0), h - 1);
    const y0 = Math.floor(y);
    const y1 = Math.min(y0 + 1, h - 1);
    const fy = y - y0;
    for (let j = 0; j < outW; j++) {
      const x = Math.min(Math.max(box.left + (j + 0.5) * sx - 0.5, 0), w - 1);
      const x0 = Math.floor(x);
      const x1 = Math.min(x0 + 1, w - 1);
      const fx = x - x0;
      for (let c = 0; c < 3; c++) {
        const p = c * h * w;
        const top = data[p + y0 * w + x0] * (1 - fx) + data[p + y0 * w + x1] * fx;
        const bot = data[p + y1 * w + x0] * (1 - fx) + data[p + y1 * w + x1] * fx;
        out[c * outH * outW + i * outW + j] = top * (1 - fy) + bot * fy;
      }
    }
  }
  return { data: out, channels: 3, height: outH, width: outW };
}

export interface RandomResizedCropOptions {
  readonly size: number;
  /** Range of the crop's area as a fraction of the image (default [0.08, 1], torchvision). */
  readonly scale?: readonly [number, number];
  /** Range of the crop's aspect ratio (default [3/4, 4/3]). */
  readonly ratio?: readonly [number, number];
}

/** torchvision's RandomResizedCrop: 10 tries at a random area and log-uniform aspect, else a centre crop. */
export function randomResizedCrop(img: RenderedImage, opts: RandomResizedCropOptions, g: Generator): RenderedImage {
  const size = checkInt('randomResizedCrop', 'opts.size', opts.size);
  const [smin, smax] = opts.scale ?? [0.08, 1];
  const [rmin, rmax] = opts.ratio ?? [3 / 4, 4 / 3];
  const { height: h, width: w } = img;
  const area = h * w;
  for (let attempt = 0; attempt < 10; attempt++) {
    const target = area * (smin + (smax - smin) * g.nextDouble());
    const aspect = Math.exp(Math.log(rmin) + (Math.log(rmax) - Math.log(rmin)) * g.nextDouble());
    const cw = Math.round(Math.sqrt(target * aspect));
    const ch = Math.round(Math.sqrt(target / aspect));
    if (cw > 0 && ch > 0 && cw <= w && ch <= h) {
      const top = g.nextInt(0, h - ch + 1);
      const left = g.nextInt(0, w - cw + 1);
      return resizedCrop(img, { top, left, height: ch, width: cw }, size);
    }
  }
  // Fallback: the largest centre crop with the aspect clamped into range.
  const inRatio = w / h;
  const [cw, ch] = inRatio < rmin ? [w, Math.round(w / rmin)] : inRatio > rmax ? [Math.round(h * rmax), h] : [w, h];
  return resizedCrop(img, { top: Math.floor((h - ch) / 2), left: Math.floor((w - cw) / 2), height: ch, width: cw }, size);
}

/** Mirror left-right with probability p (default 0.5). */
export function randomHorizontalFlip(img: RenderedImage, g: Generator, p = 0.5): RenderedImage {
  if (g.nextDouble() >= p) return img;
  const { height: h, width: w, data } = img;
  const out = new Float32Array(data.length);
  for (let c = 0; c < 3; c++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) out[(c * h + i) * w + j] = data[(c * h + i) * w + (w - 1 - j)];
  return { ...img, data: out };
}

/** (x - mean) / std per channel, into a new array (the input is not modified). */
export function normalize(img: RenderedImage, mean: readonly number[] = IMAGENET_MEAN, std: readonly number[] = IMAGENET_STD): RenderedImage {
  const plane = img.height * img.width;
  const out = new Float32Array(img.data.length);
  for (let c = 0; c < 3; c++) for (let k = 0; k < plane; k++) out[c * plane + k] = (img.data[c * plane + k] - mean[c]) / std[c];
  return { ...img, data: out };
}
