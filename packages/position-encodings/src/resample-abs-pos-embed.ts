/**
 * Resampling a learned 2-D position table to a new patch grid, as timm's `resample_abs_pos_embed` (used when a ViT
 * (Dosovitskiy et al. 2021) is fine-tuned at a higher resolution, section 3.2 of the ViT paper): the grid part is
 * reshaped to (1, D, H, W), resized with torch.nn.functional.interpolate (bicubic, align_corners false, with or
 * without antialias) and flattened back; prefix tokens (class, distillation, registers) are kept unchanged.
 * Differentiable, so the resampled table can be trained.
 */
import { cat, interpolate, type Tensor } from '@formers/tensor-core';
import { resolveGrid, type GridSize } from './sincos-2d.js';
import { checkInt } from './validate.js';

export interface ResampleAbsPosEmbedOptions {
  readonly newSize: GridSize;
  readonly oldSize: GridSize;
  /** Leading tokens that are not on the grid (default 1, the class token). */
  readonly numPrefixTokens?: number;
  /** Interpolation mode (default 'bicubic', timm's default). */
  readonly mode?: 'bicubic' | 'bilinear';
  /** Pillow-style antialias when shrinking (default true, timm's default). */
  readonly antialias?: boolean;
}

/** posEmbed (1, prefix + Hold Wold, D) -> (1, prefix + Hnew Wnew, D). Returns the input itself when sizes match. */
export function resampleAbsPosEmbed(posEmbed: Tensor, opts: ResampleAbsPosEmbedOptions): Tensor {
  const op = 'resampleAbsPosEmbed';
  const [oh, ow] = resolveGrid(op, 'opts.oldSize', opts?.oldSize);
  const [nh, nw] = resolveGrid(op, 'opts.newSize', opts.newSize);
  const prefix = checkInt(op, 'opts.numPrefixTokens', opts.numPrefixTokens ?? 1, 0);
  if (posEmbed.ndim !== 3 || posEmbed.shape[0] !== 1 || posEmbed.shape[1] !== prefix + oh * ow) {
    throw new Error(
      `${op}: expected posEmbed of shape (1, numPrefixTokens + H*W = ${prefix} + ${oh}*${ow}, D); got [${posEmbed.shape.join(', ')}]`,
    );
  }
  if (oh === nh && ow === nw) return posEmbed;
  const d = posEmbed.shape[2];
  const grid = posEmbed.narrow(1, prefix, oh * ow).reshape([1, oh, ow, d]).permute([0, 3, 1, 2]); // (1, D, H, W)
  const resized = interpolate(grid, {
    size: [nh, nw],
    mode: opts.mode ?? 'bicubic',
    alignCorners: false,
    antialias: opts.antialias ?? true,
  }); // (1, D, H', W')
  const flat = resized.permute([0, 2, 3, 1]).reshape([1, nh * nw, d]); // (1, H'W', D)
  return prefix === 0 ? flat : cat([posEmbed.narrow(1, 0, prefix), flat], 1); // (1, prefix + H'W', D)
}
