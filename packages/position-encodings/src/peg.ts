/**
 * Conditional position encoding: the Position Encoding Generator (PEG) of CPVT (Chu et al. 2023, "Conditional
 * Positional Encodings for Vision Transformers", ICLR 2023; arXiv 2021).
 *
 * Patch tokens (B, H W, C) are put back on their H x W grid, a depthwise k x k convolution (zero padding
 * (k - 1)/2, with bias) is applied, and the result is added back as a residual (CPVT's PosCNN, eq. 2). Zero padding
 * at the borders is what lets the convolution infer absolute position; away from the borders the map is
 * translation-equivariant. There is no table, so any resolution works without resampling. Class and other prefix
 * tokens pass through unchanged.
 *
 * Names follow CPVT / timm Twins (`proj` is a Sequential holding the conv): `proj.0.weight` (C, 1, k, k) and
 * `proj.0.bias` (C), initialised as torch.nn.Conv2d.
 */
import { cat, Conv2d, Module, Sequential, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { resolveGrid, type GridSize } from './sincos-2d.js';
import { checkInt } from './validate.js';

export interface PositionEncodingGeneratorOptions extends FactoryOptions {
  /** Channels C of the tokens (the depthwise conv has one filter per channel). */
  readonly dim: number;
  /** Odd kernel size k >= 3 (default 3, as CPVT). */
  readonly kernelSize?: number;
  /** Tokens before the patches that bypass the conv (default 0; CPVT applies PEG after splitting off the class token, pass 1 to keep it in x). */
  readonly numPrefixTokens?: number;
}

export class PositionEncodingGenerator extends Module {
  readonly dim: number;
  readonly kernelSize: number;
  readonly numPrefixTokens: number;
  readonly proj: Sequential;
  readonly conv: Conv2d;

  constructor(opts: PositionEncodingGeneratorOptions) {
    super();
    const op = 'PositionEncodingGenerator';
    this.dim = checkInt(op, 'opts.dim', opts?.dim);
    this.kernelSize = checkInt(op, 'opts.kernelSize', opts.kernelSize ?? 3, 3);
    if (this.kernelSize % 2 !== 1) {
      throw new Error(`${op}: expected opts.kernelSize to be odd (zero padding (k-1)/2 keeps the grid size); got ${this.kernelSize}`);
    }
    this.numPrefixTokens = checkInt(op, 'opts.numPrefixTokens', opts.numPrefixTokens ?? 0, 0);
    this.conv = new Conv2d(this.dim, this.dim, this.kernelSize, {
      padding: (this.kernelSize - 1) / 2,
      groups: this.dim,
      bias: true,
      dtype: opts.dtype,
      backend: opts.backend,
      generator: opts.generator,
    });
    this.proj = this.registerModule('proj', new Sequential(this.conv));
  }

  /** x (B, prefix + H W, C) with patches in row-major order -> same shape. */
  forward(x: Tensor, opts: { gridSize: GridSize }): Tensor {
    const op = 'PositionEncodingGenerator';
    const [h, w] = resolveGrid(op, 'opts.gridSize', opts?.gridSize);
    const n = this.numPrefixTokens + h * w;
    if (x.ndim !== 3 || x.shape[1] !== n || x.shape[2] !== this.dim) {
      throw new Error(
        `${op}: expected x of shape (B, numPrefixTokens + H*W = ${this.numPrefixTokens} + ${h}*${w} = ${n}, C = ${this.dim}); got [${x.shape.join(', ')}]`,
      );
    }
    const b = x.shape[0];
    const patches = this.numPrefixTokens === 0 ? x : x.narrow(1, this.numPrefixTokens, h * w); // (B, H W, C)
    const grid = patches.transpose(1, 2).reshape([b, this.dim, h, w]); // (B, C, H, W)
    const out = this.proj.call(grid).add(grid).flatten(2).transpose(1, 2); // (B, H W, C)
    return this.numPrefixTokens === 0 ? out : cat([x.narrow(1, 0, this.numPrefixTokens), out], 1); // (B, N, C)
  }
}
