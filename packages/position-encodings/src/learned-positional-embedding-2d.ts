/**
 * The learned 2-D position table of ViT (Dosovitskiy et al. 2021, "An Image is Worth 16x16 Words"): a trainable
 * `pos_embed` (1, numPrefixTokens + H W, D), named and initialised as timm's VisionTransformer (truncated normal,
 * std 0.02), so a timm state dict loads unchanged. Inputs at another patch grid are served by bicubic resampling
 * (resampleAbsPosEmbed) when the caller passes the grid; the class and other prefix tokens are never resampled.
 */
import { init, Module, zeros, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { resampleAbsPosEmbed } from './resample-abs-pos-embed.js';
import { resolveGrid, type GridSize } from './sincos-2d.js';
import { checkInt } from './validate.js';

export interface LearnedPositionalEmbedding2dOptions extends FactoryOptions {
  readonly gridSize: GridSize;
  readonly dim: number;
  /** Class and other tokens before the patches (default 1). */
  readonly numPrefixTokens?: number;
  /** Std of the truncated-normal init (default 0.02). */
  readonly initStd?: number;
  /** Antialias when resampling to a smaller grid (default true, as timm). */
  readonly antialias?: boolean;
}

export class LearnedPositionalEmbedding2d extends Module {
  readonly gridSize: [number, number];
  readonly dim: number;
  readonly numPrefixTokens: number;
  readonly antialias: boolean;
  /** (1, prefix + H W, D). */
  readonly posEmbed: Tensor;

  constructor(opts: LearnedPositionalEmbedding2dOptions) {
    super();
    const op = 'LearnedPositionalEmbedding2d';
    this.gridSize = resolveGrid(op, 'opts.gridSize', opts?.gridSize);
    this.dim = checkInt(op, 'opts.dim', opts.dim);
    this.numPrefixTokens = checkInt(op, 'opts.numPrefixTokens', opts.numPrefixTokens ?? 1, 0);
    this.antialias = opts.antialias ?? true;
    const n = this.numPrefixTokens + this.gridSize[0] * this.gridSize[1];
    this.posEmbed = this.registerParameter('pos_embed', zeros([1, n, this.dim], { dtype: opts.dtype, backend: opts.backend }));
    init.truncNormal_(this.posEmbed, { std: opts.initStd ?? 0.02, generator: opts.generator });
  }

  /** The table for a patch grid (1, prefix + H W, D), resampled from the trained grid when it differs. */
  table(gridSize: GridSize = this.gridSize): Tensor {
    return resampleAbsPosEmbed(this.posEmbed, {
      oldSize: this.gridSize,
      newSize: gridSize,
      numPrefixTokens: this.numPrefixTokens,
      antialias: this.antialias,
    });
  }

  /** x (B, prefix + H W, D) -> x + table(gridSize); gridSize defaults to the trained grid. */
  forward(x: Tensor, opts: { gridSize?: GridSize } = {}): Tensor {
    const op = 'LearnedPositionalEmbedding2d';
    const [h, w] = resolveGrid(op, 'opts.gridSize', opts.gridSize ?? this.gridSize);
    const n = this.numPrefixTokens + h * w;
    if (x.ndim !== 3 || x.shape[1] !== n || x.shape[2] !== this.dim) {
      const hint = opts.gridSize === undefined ? '; pass opts.gridSize to resample the table to another grid' : '';
      throw new Error(
        `${op}: expected x of shape (B, numPrefixTokens + H*W = ${this.numPrefixTokens} + ${h}*${w} = ${n}, ${this.dim}); got [${x.shape.join(', ')}]${hint}`,
      );
    }
    return x.add(this.table([h, w])); // (B, N, D)
  }
}
