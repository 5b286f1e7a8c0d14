/**
 * Patch embedding of ViT (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words", eq. 1): the image is cut into
 * non-overlapping P x P patches and each is projected linearly to D channels, which is exactly a convolution with
 * kernel = stride = P. Named as timm's `PatchEmbed` (`proj.weight`, `proj.bias`), so timm weights load unchanged.
 */
import { Conv2d, linear, Module, pad, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { checkInt, shapeOf } from './validate.js';

export interface PatchEmbedOptions extends FactoryOptions {
  /** Patch size P (square patches). */
  readonly patchSize: number;
  /** Input channels C (default 3). */
  readonly inChans?: number;
  /** Embedding dim D. */
  readonly embedDim: number;
  /** Learn a bias in the projection (default true, as timm). */
  readonly bias?: boolean;
  /**
   * Pad H and W on the bottom and right with zeros up to a multiple of P, as timm's `dynamic_img_pad` (default
   * false: a size that does not divide is an error).
   */
  readonly dynamicImgPad?: boolean;
}

export interface PatchEmbedOutput {
  /** (B, H/P * W/P, D), patches in row-major order. */
  readonly tokens: Tensor;
  /** The patch grid [H/P, W/P]. */
  readonly gridSize: [number, number];
}

export class PatchEmbed extends Module {
  readonly patchSize: number;
  readonly inChans: number;
  readonly embedDim: number;
  readonly dynamicImgPad: boolean;
  readonly proj: Conv2d;

  constructor(opts: PatchEmbedOptions) {
    super();
    const op = 'PatchEmbed';
    if (opts === null || typeof opts !== 'object') throw new Error(`${op}: expected an options object { patchSize, embedDim, ... }; got ${opts}`);
    this.patchSize = checkInt(op, 'opts.patchSize', opts.patchSize);
    this.inChans = checkInt(op, 'opts.inChans', opts.inChans ?? 3);
    this.embedDim = checkInt(op, 'opts.embedDim', opts.embedDim);
    this.dynamicImgPad = opts.dynamicImgPad ?? false;
    this.proj = this.registerModule(
      'proj',
      new Conv2d(this.inChans, this.embedDim, this.patchSize, {
        stride: this.patchSize,
        bias: opts.bias ?? true,
        dtype: opts.dtype,
        backend: opts.backend,
        generator: opts.generator,
      }),
    );
  }

  /** The patch grid for an image of H x W pixels (after padding when `dynamicImgPad`); throws when it does not divide. */
  gridFor(h: number, w: number): [number, number] {
    const p = this.patchSize;
    if (this.dynamicImgPad) return [Math.ceil(h / p), Math.ceil(w / p)];
    if (h % p !== 0 || w % p !== 0) {
      throw new Error(
        `PatchEmbed: expected the image height and width to be divisible by the patch size ${p}; got ${h} x ${w} ` +
          `(crop or resize to a multiple of ${p}, or set dynamicImgPad: true to zero-pad)`,
      );
    }
    return [h / p, w / p];
  }

  /** x (B, C, H, W) -> tokens (B, N, D) with N = H/P * W/P, and the grid. */
  forward(x: Tensor): PatchEmbedOutput {
    const op = 'PatchEmbed';
    if (x === null || typeof x !== 'object' || x.ndim !== 4 || x.shape[1] !== this.inChans) {
      throw new Error(`${op}: expected x of shape (B, C = ${this.inChans}, H, W); got ${shapeOf(x)}`);
    }
    const [h, w] = [x.shape[2], x.shape[3]];
    const [gh, gw] = this.gridFor(h, w);
    const p = this.patchSize;
    // Bottom/right zero padding, as timm: F.pad's last-dim-first order is (left, right, top, bottom).
    const padded = gh * p === h && gw * p === w ? x : pad(x, [0, gw * p - w, 0, gh * p - h]); // (B, C, H', W')
    // kernel = stride = P, so the conv is one matmul over non-overlapping patches: unfold them, flatten each patch
    // in the conv weight's (C, P, P) order, and apply the weight as a (D, C P P) linear map. Same math and
    // gradients as proj.call(x), several times faster here than the general conv2d kernel.
    const b = x.shape[0];
    const c = this.inChans;
    const patches = padded
      .reshape([b, c, gh, p, gw, p]) // (B, C, gh, P, gw, P)
      .permute([0, 2, 4, 1, 3, 5]) // (B, gh, gw, C, P, P)
      .reshape([b, gh * gw, c * p * p]); // (B, N, C P P)
    const weight = this.proj.weight.reshape([this.embedDim, c * p * p]); // (D, C P P)
    const tokens = linear(patches, weight, this.proj.bias); // (B, N, D)
    return { tokens, gridSize: [gh, gw] };
  }

  protected override extraRepr(): string {
    return `patchSize=${this.patchSize}, inChans=${this.inChans}, embedDim=${this.embedDim}, dynamicImgPad=${this.dynamicImgPad}`;
  }
}
