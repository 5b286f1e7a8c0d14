/**
 * The T5 bucketed relative bias (Raffel et al. 2020, JMLR 21, sec. 2.1) on an H x W patch grid. Each axis keeps
 * T5's bidirectional log buckets, and the two axes have separate tables, summed:
 *
 *   bias_h(i, j) = B^y[bucket(row_j - row_i), h] + B^x[bucket(col_j - col_i), h]
 *
 * the "bias mode" with per-direction ("cross") encodings of iRPE (Wu et al. 2021, "Rethinking and Improving
 * Relative Position Encoding for Vision Transformer", ICCV 2021, sec. 3), with T5's bucket function in place of
 * iRPE's piecewise one. The bias depends only on (dy, dx), so it is translation invariant on the grid, and a
 * larger grid needs nothing resized (far offsets share the last buckets, as far tokens do in text). Prefix tokens
 * get no bias. Names: `relative_attention_bias_y.weight`, `relative_attention_bias_x.weight` (numBuckets, H),
 * each as the 1-D module's `relative_attention_bias.weight`, so a 1-D T5 table can seed either axis.
 */
import { Embedding, Module, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { gridRelativeIndex, resolveGridOptions, sumAxisTables, type GridOptions } from './grid-2d.js';
import { bucketOf, resolveT5BucketOptions, type ResolvedBucketOptions } from './t5-bucket.js';
import { checkInt } from './validate.js';

export interface T5RelativePositionBias2dOptions extends FactoryOptions {
  readonly numHeads: number;
  /** Buckets per axis (default 32, T5's). */
  readonly numBuckets?: number;
  /** Offsets at or beyond this share the last bucket of their direction (default 128, T5's). */
  readonly maxDistance?: number;
}

export class T5RelativePositionBias2d extends Module {
  readonly numHeads: number;
  readonly numBuckets: number;
  readonly maxDistance: number;
  /** Row-offset table (numBuckets, H), N(0, 1) as torch.nn.Embedding. */
  readonly relativeAttentionBiasY: Embedding;
  /** Column-offset table (numBuckets, H). */
  readonly relativeAttentionBiasX: Embedding;
  private readonly buckets: ResolvedBucketOptions;

  constructor(opts: T5RelativePositionBias2dOptions) {
    super();
    const op = 'T5RelativePositionBias2d';
    this.numHeads = checkInt(op, 'opts.numHeads', opts?.numHeads);
    // Both directions of both axes are visible to every patch, so the buckets are T5's bidirectional ones.
    this.buckets = resolveT5BucketOptions(op, { ...opts, bidirectional: true });
    this.numBuckets = this.buckets.numBuckets;
    this.maxDistance = this.buckets.maxDistance;
    this.relativeAttentionBiasY = this.registerModule('relative_attention_bias_y', new Embedding(this.numBuckets, this.numHeads, opts));
    this.relativeAttentionBiasX = this.registerModule('relative_attention_bias_x', new Embedding(this.numBuckets, this.numHeads, opts));
  }

  /** Bucket indices (N, N) per axis for a grid, N = P + H W; prefix pairs hold numBuckets (reads zero). */
  bucketIndex(opts: GridOptions): { y: Int32Array; x: Int32Array } {
    const g = resolveGridOptions('T5RelativePositionBias2d.bucketIndex', opts);
    // The grid gives query-minus-key offsets; T5's bucket takes key - query.
    return gridRelativeIndex(g, (offset) => bucketOf(-offset, this.buckets), this.numBuckets);
  }

  /** The bias (1, H, N, N) to add to the logits of attention over P prefix tokens and the H x W patches. */
  forward(opts: GridOptions): Tensor {
    const g = resolveGridOptions('T5RelativePositionBias2d', opts);
    const { y, x } = this.bucketIndex(opts);
    const bias = sumAxisTables(this.relativeAttentionBiasY.weight, y, this.relativeAttentionBiasX.weight, x); // (N N, H)
    return bias.reshape([g.n, g.n, this.numHeads]).permute([2, 0, 1]).unsqueeze(0); // (1, H, N, N)
  }
}
