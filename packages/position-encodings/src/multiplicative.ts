/**
 * Multiplicative absolute position embeddings: the token at position p is scaled elementwise by a learned vector,
 * x_p ⊙ m_p, instead of receiving x_p + m_p. This is the "multiplication" way of combining position and content
 * surveyed by Dufter, Schmitt and Schütze 2022 ("Position Information in Transformers: An Overview",
 * Computational Linguistics 48(3), sec. 4), where position modulates features rather than shifting them.
 *
 * The table `weight` (numPositions, D) starts at 1 + N(0, 0.02²) (truncated), so a fresh layer is close to the
 * identity rather than to zero, which an elementwise product would otherwise start from. Like every learned
 * table it cannot extrapolate: a sequence past the table is an error.
 *
 * On an H x W patch grid (`{ gridSize, numPrefixTokens }`), the same parameters give the 2-D form: the first D/2
 * channels follow the patch's column and the last D/2 its row, as MAE's 2-D sin-cos table (He et al. 2022) and
 * axial 2-D RoPE (Heo et al. 2024) split them; prefix tokens (class) get no position. See grid-2d.ts.
 */
import { init, Module, ones, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { axialTable, checkEvenChannels, resolveGridOptions, resolvePlacement, withPrefixRows, type GridOptions, type PlacementOptions } from './grid-2d.js';
import { checkInt } from './validate.js';

export interface MultiplicativePositionalEmbeddingOptions extends FactoryOptions {
  readonly numPositions: number;
  readonly dim: number;
  /** Std of the truncated-normal perturbation around 1 (default 0.02). */
  readonly initStd?: number;
}

export class MultiplicativePositionalEmbedding extends Module {
  readonly numPositions: number;
  readonly dim: number;
  /** (numPositions, D). */
  readonly weight: Tensor;

  constructor(opts: MultiplicativePositionalEmbeddingOptions) {
    super();
    const op = 'MultiplicativePositionalEmbedding';
    this.numPositions = checkInt(op, 'opts.numPositions', opts?.numPositions);
    this.dim = checkInt(op, 'opts.dim', opts.dim);
    this.weight = this.registerParameter('weight', ones([this.numPositions, this.dim], { dtype: opts.dtype, backend: opts.backend }));
    init.truncNormal_(this.weight, { mean: 1, std: opts.initStd ?? 0.02, a: 1 - 2 * (opts.initStd ?? 0.02), b: 1 + 2 * (opts.initStd ?? 0.02), generator: opts.generator });
  }

  /**
   * x (..., T, D) -> x ⊙ weight[offset : offset + T]; with `opts.gridSize`, x (..., P + H W, D) -> x ⊙ gridTable(opts).
   */
  forward(x: Tensor, opts: PlacementOptions = {}): Tensor {
    const op = 'MultiplicativePositionalEmbedding';
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== this.dim) {
      throw new Error(`${op}: expected x of shape (..., T, ${this.dim}); got [${x.shape.join(', ')}]`);
    }
    const t = x.shape[x.ndim - 2];
    const at = resolvePlacement(op, opts, t, 'x.shape[-2]');
    if ('grid' in at) return x.mul(this.gridTable(opts as GridOptions)); // (..., N, D)
    const offset = at.offset;
    if (offset + t > this.numPositions) {
      throw new Error(`${op}: expected offset + T (=${offset} + ${t}) <= numPositions (=${this.numPositions}); a learned table cannot extrapolate`);
    }
    return x.mul(this.weight.narrow(0, offset, t)); // (..., T, D)
  }

  /**
   * The factors on an H x W patch grid (P + H W, D): the first D/2 channels of `weight` at the patch's column, the
   * last D/2 at its row (the channel split of sinCos2dPositionEncoding), 1 for the P prefix tokens (no position).
   * One table serves text and images; it must cover max(H, W) positions.
   */
  gridTable(opts: GridOptions): Tensor {
    const op = 'MultiplicativePositionalEmbedding.gridTable';
    const g = resolveGridOptions(op, opts);
    checkEvenChannels(op, 'dim', this.dim);
    if (Math.max(g.h, g.w) > this.numPositions) {
      throw new Error(`${op}: expected opts.gridSize sides <= numPositions (=${this.numPositions}); got [${g.h}, ${g.w}], a learned table cannot extrapolate`);
    }
    return withPrefixRows(axialTable(this.weight, g.h, g.w), g.prefix, 1); // (P + H W, D)
  }
}
