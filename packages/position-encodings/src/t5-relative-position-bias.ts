/**
 * The T5 relative position bias (Raffel et al. 2020, JMLR 21): one learned scalar per (bucket, head), added to the
 * attention logits. Parameter names follow HuggingFace's T5Attention, so `relative_attention_bias.weight`
 * (numBuckets, H) loads from a T5 checkpoint unchanged.
 * For an image's patch grid, `T5RelativePositionBias2d` buckets each axis and sums a row and a column table.
 */
import { Embedding, Module, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { resolveT5BucketOptions, t5RelativePositionBuckets, type T5BucketOptions } from './t5-bucket.js';
import { checkInt } from './validate.js';

export interface T5RelativePositionBiasOptions extends T5BucketOptions, FactoryOptions {
  readonly numHeads: number;
}

export class T5RelativePositionBias extends Module {
  readonly numHeads: number;
  readonly bidirectional: boolean;
  readonly numBuckets: number;
  readonly maxDistance: number;
  /** The table (numBuckets, H), initialised N(0, 1) as torch.nn.Embedding. */
  readonly relativeAttentionBias: Embedding;

  constructor(opts: T5RelativePositionBiasOptions) {
    super();
    this.numHeads = checkInt('T5RelativePositionBias', 'opts.numHeads', opts?.numHeads);
    const o = resolveT5BucketOptions('T5RelativePositionBias', opts);
    this.bidirectional = o.bidirectional;
    this.numBuckets = o.numBuckets;
    this.maxDistance = o.maxDistance;
    this.relativeAttentionBias = this.registerModule('relative_attention_bias', new Embedding(o.numBuckets, this.numHeads, opts));
  }

  /**
   * The bias (1, H, Tq, Tk) for queries at positions queryOffset .. queryOffset + Tq - 1 and keys 0 .. Tk - 1
   * (queryOffset defaults to keyLength - queryLength, so incremental decoding with a cache needs no argument).
   */
  forward(queryLength: number, keyLength: number, opts: { queryOffset?: number } = {}): Tensor {
    const buckets = t5RelativePositionBuckets(queryLength, keyLength, {
      bidirectional: this.bidirectional,
      numBuckets: this.numBuckets,
      maxDistance: this.maxDistance,
      queryOffset: opts.queryOffset,
      backend: this.relativeAttentionBias.weight.backend,
    }); // (Tq, Tk)
    const values = this.relativeAttentionBias.call(buckets); // (Tq, Tk, H)
    return values.permute([2, 0, 1]).unsqueeze(0); // (1, H, Tq, Tk)
  }
}
