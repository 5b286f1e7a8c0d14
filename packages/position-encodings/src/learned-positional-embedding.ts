/**
 * Learned absolute position embeddings, 1-D (Gehring et al. 2017, "Convolutional Sequence to Sequence Learning";
 * BERT, Devlin et al. 2019): a trainable table (numPositions, D) whose row p is added to the token at position p.
 * The parameter is named `weight` like torch.nn.Embedding, so a BERT `position_embeddings.weight` loads unchanged
 * when this module is registered as `position_embeddings`. Init: truncated normal, std 0.02 (BERT, timm).
 * It cannot extrapolate: a sequence past the table is an error.
 */
import { init, Module, zeros, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { checkInt } from './validate.js';

export interface LearnedPositionalEmbeddingOptions extends FactoryOptions {
  readonly numPositions: number;
  readonly dim: number;
  /** Std of the truncated-normal init (default 0.02). */
  readonly initStd?: number;
}

export class LearnedPositionalEmbedding extends Module {
  readonly numPositions: number;
  readonly dim: number;
  /** (numPositions, D). */
  readonly weight: Tensor;

  constructor(opts: LearnedPositionalEmbeddingOptions) {
    super();
    const op = 'LearnedPositionalEmbedding';
    this.numPositions = checkInt(op, 'opts.numPositions', opts?.numPositions);
    this.dim = checkInt(op, 'opts.dim', opts.dim);
    this.weight = this.registerParameter('weight', zeros([this.numPositions, this.dim], { dtype: opts.dtype, backend: opts.backend }));
    init.truncNormal_(this.weight, { std: opts.initStd ?? 0.02, generator: opts.generator });
  }

  /** x (..., T, D) -> x + weight[offset : offset + T]. */
  forward(x: Tensor, opts: { offset?: number } = {}): Tensor {
    const op = 'LearnedPositionalEmbedding';
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== this.dim) {
      throw new Error(`${op}: expected x of shape (..., T, ${this.dim}); got [${x.shape.join(', ')}]`);
    }
    const t = x.shape[x.ndim - 2];
    const offset = checkInt(op, 'opts.offset', opts.offset ?? 0, 0);
    if (offset + t > this.numPositions) {
      throw new Error(
        `${op}: expected offset + T (=${offset} + ${t}) <= numPositions (=${this.numPositions}); a learned table cannot extrapolate, so build a longer table`,
      );
    }
    return x.add(this.weight.narrow(0, offset, t)); // (..., T, D)
  }
}
