/**
 * Reading real images and timm's evaluation transform. PNG is decoded by pngjs and JPEG by jpeg-js (both
 * maintained pure-JS decoders); the eval transform is timm's `transforms_factory` eval path: resize the shorter
 * side to floor(size / cropPct) (bicubic, antialiased, as torchvision's tensor Resize with antialias=True), centre
 * crop size x size, scale to [0, 1] and normalise with the ImageNet mean and std.
 */
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { interpolate, noGrad, tensor, type Tensor } from '@formers/tensor-core';
import { IMAGENET_MEAN, IMAGENET_STD } from './transforms.js';
import type { RenderedImage } from './synthetic-shapes.js';
import { checkInt } from './validate.js';

/** Decoded pixels: RGBA bytes, row-major, as both decoders return them. */
export interface DecodedImage {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8Array;
}

function isPng(b: Uint8Array): boolean {
  return b.length >= 8 && b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47;
}

function isJpeg(b: Uint8Array): boolean {
  return b.length >= 3 && b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff;
}

/** Decode PNG or JPEG bytes (sniffed from the signature) to RGBA. */
export function decodeImage(bytes: Uint8Array): DecodedImage {
  if (!(bytes instanceof Uint8Array)) throw new Error(`decodeImage: expected bytes as a Uint8Array (or Buffer); got ${typeof bytes}`);
  try {
    if (isPng(bytes)) {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, data: new Uint8Array(png.data.buffer, png.data.byteOffset, png.data.byteLength) };
    }
    if (isJpeg(bytes)) {
      const j = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: true });
      return { width: j.width, height: j.height, data: j.data };
    }
  } catch (e) {
    throw new Error(`decodeImage: the ${isPng(bytes) ? 'PNG' : 'JPEG'} data is malformed: ${(e as Error).message}`);
  }
  const head = Array.from(bytes.slice(0, 4), (v) => v.toString(16).padStart(2, '0')).join(' ');
  throw new Error(`decodeImage: expected PNG (89 50 4e 47) or JPEG (ff d8 ff) bytes; got a file starting ${head || '(empty)'}`);
}

/** RGBA bytes -> (3, H, W) floats in [0, 1] (alpha dropped, as PIL's convert('RGB')). */
export function toRgbFloat(img: DecodedImage): RenderedImage {
  const { width: w, height: h, data } = img;
  if (data.length !== w * h * 4) throw new Error(`toRgbFloat: expected ${w} x ${h} x 4 RGBA bytes; got ${data.length}`);
  const out = new Float32Array(3 * h * w);
  for (let k = 0; k < h * w; k++) for (let c = 0; c < 3; c++) out[c * h * w + k] = data[4 * k + c] / 255;
  return { data: out, channels: 3, height: h, width: w };
}

export interface EvalTransformOptions {
  /** Output side (default 224). */
  readonly size?: number;
  /** Centre-crop fraction (default 0.9, timm's ViT pretrained config; 0.875 is timm's generic default). */
  readonly cropPct?: number;
  /** Default 'bicubic' (timm's ViT configs). */
  readonly interpolation?: 'bicubic' | 'bilinear';
  readonly mean?: readonly number[];
  readonly std?: readonly number[];
}

/** timm's eval transform of one image: (1, 3, size, size) normalised float32. */
export function evalTransform(image: DecodedImage | RenderedImage, opts: EvalTransformOptions = {}): Tensor {
  const size = checkInt('evalTransform', 'opts.size', opts.size ?? 224);
  const cropPct = opts.cropPct ?? 0.9;
  if (!(cropPct > 0 && cropPct <= 1)) throw new Error(`evalTransform: expected opts.cropPct in (0, 1]; got ${cropPct}`);
  const rgb = 'channels' in image ? image : toRgbFloat(image);
  const { height: h, width: w } = rgb;
  const scale = Math.floor(size / cropPct);
  // torchvision Resize(int): the shorter side becomes `scale`, the longer keeps the aspect (truncated).
  const [nh, nw] = h <= w ? [scale, Math.floor((scale * w) / h)] : [Math.floor((scale * h) / w), scale];
  const mean = opts.mean ?? IMAGENET_MEAN;
  const std = opts.std ?? IMAGENET_STD;
  return noGrad(() => {
    const x = tensor(rgb.data, { shape: [1, 3, h, w] });
    const resized = nh === h && nw === w ? x : interpolate(x, { size: [nh, nw], mode: opts.interpolation ?? 'bicubic', alignCorners: false, antialias: true }); // (1, 3, nh, nw)
    const top = Math.round((nh - size) / 2);
    const left = Math.round((nw - size) / 2);
    if (top < 0 || left < 0) throw new Error(`evalTransform: the resized image ${nh} x ${nw} is smaller than the crop ${size}`);
    const crop = resized.narrow(2, top, size).narrow(3, left, size); // (1, 3, size, size)
    const m = tensor(Float32Array.from(mean), { shape: [1, 3, 1, 1] });
    const s = tensor(Float32Array.from(std), { shape: [1, 3, 1, 1] });
    return crop.clamp(0, 1).sub(m).div(s).contiguous();
  });
}
