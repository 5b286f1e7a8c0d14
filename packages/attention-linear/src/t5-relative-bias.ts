/**
 * T5's bucketed relative position bias (Raffel et al. 2020, "Exploring the Limits of Transfer Learning", sec.
 * 2.1), used by GAU/FLASH (Hua et al. 2022) as their relative position bias: the offset n = i - j (query minus key)
 * maps to one of `numBuckets` learned scalars; bidirectionally half the buckets hold each sign; offsets below
 * numBuckets / 2 (of the half) get their own bucket, larger ones share log-spaced buckets up to `maxDistance`.
 * The bias is multiplied by `scale` (sqrt(queryKeyDim) for GAU/FLASH, as FLASH-pytorch's FLASH).
 * Parameter: `relative_attention_bias.weight` (numBuckets, 1), initialised N(0, 1) as torch.nn.Embedding.
 */
import { Module, embedding, keep, mul, reshape, tensor, nn, type BackendLike, type DType, type Generator, type Tensor } from '@formers/tensor-core';
import { checkInt, checkPositive } from './validate.js';

/** T5 bucket of offset n = i - j (query minus key), as in T5's `_relative_position_bucket`. */
export function t5RelativeBucket(n: number, opts: { causal: boolean; numBuckets: number; maxDistance: number }): number {
  let buckets = opts.numBuckets;
  let ret = 0;
  if (!opts.causal) {
    buckets = Math.floor(buckets / 2);
    if (n < 0) ret += buckets; // keys after the query use the upper half
    n = Math.abs(n);
  } else {
    n = Math.max(n, 0);
  }
  const maxExact = Math.floor(buckets / 2);
  if (n < maxExact) return ret + n;
  const large = maxExact + Math.floor((Math.log(n / maxExact) / Math.log(opts.maxDistance / maxExact)) * (buckets - maxExact));
  return ret + Math.min(large, buckets - 1);
}

export interface T5RelativeBiasOptions {
  readonly causal?: boolean;
  /** Default 32. */
  readonly numBuckets?: number;
  /** Default 128. */
  readonly maxDistance?: number;
  /** Multiplier of the bias; default 1. */
  readonly scale?: number;
  readonly dtype?: DType;
  readonly backend?: BackendLike;
  readonly generator?: Generator;
}

export class T5RelativeBias extends Module {
  readonly causal: boolean;
  readonly numBuckets: number;
  readonly maxDistance: number;
  readonly scale: number;
  readonly relative_attention_bias: nn.Embedding;
  private readonly cache = new Map<string, Tensor>();

  constructor(opts: T5RelativeBiasOptions = {}) {
    super();
    const op = 'T5RelativeBias';
    this.causal = opts.causal ?? false;
    this.numBuckets = checkInt(op, 'opts.numBuckets', opts.numBuckets ?? 32, 2);
    this.maxDistance = checkInt(op, 'opts.maxDistance', opts.maxDistance ?? 128, 2);
    this.scale = checkPositive(op, 'opts.scale', opts.scale ?? 1);
    this.relative_attention_bias = this.registerModule('relative_attention_bias', new nn.Embedding(this.numBuckets, 1, { dtype: opts.dtype, backend: opts.backend, generator: opts.generator }));
  }

  /** Bias (Nq, Nk) for queries at positions q0.. q0 + Nq - 1 and keys at k0.. k0 + Nk - 1. */
  forward(Nq: number, Nk: number, q0 = 0, k0 = 0): Tensor {
    const w = this.relative_attention_bias.weight;
    const key = `${Nq},${Nk},${q0 - k0}`;
    let ids = this.cache.get(key);
    if (!ids) {
      const b: number[] = [];
      for (let i = 0; i < Nq; i++) for (let j = 0; j < Nk; j++) b.push(t5RelativeBucket(q0 + i - (k0 + j), this));
      // kept: the cache outlives any tidy() scope the first call ran in.
      ids = keep(tensor(b, { shape: [Nq * Nk], dtype: 'int32', backend: w.backend }));
      if (this.cache.size > 8) this.cache.clear();
      this.cache.set(key, ids);
    }
    return mul(reshape(embedding(ids, w), [Nq, Nk]), this.scale); // (Nq, Nk)
  }
}

