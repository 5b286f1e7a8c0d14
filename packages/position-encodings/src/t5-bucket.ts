/**
 * The T5 relative position bucket (Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified
 * Text-to-Text Transformer", section 2.1), exactly as mesh-tensorflow and HuggingFace compute it.
 *
 * A relative position r = key - query is mapped to one of `numBuckets` buckets. Small distances |r| < maxExact
 * (half the buckets of a direction) get a bucket each; larger ones share logarithmically wider buckets up to
 * `maxDistance`, beyond which everything falls into the last bucket. Bidirectional (encoder) attention spends half
 * the buckets on keys after the query; causal (decoder) attention maps every future key to bucket 0.
 *
 * The reference computes the log bucket in float32 (`log(n / maxExact) / log(maxDistance / maxExact) *
 * (numBuckets - maxExact)`, then truncates to an integer), and the float32 rounding decides the bucket edges. We
 * repeat every float32 step with Math.fround so the integers agree exactly; the golden test checks this against
 * PyTorch for 543 distances (dense to 260, sparse to 100000) in 12 configurations.
 */
import { tensor, type Tensor, type TensorOptions } from '@formers/tensor-core';
import { checkInt } from './validate.js';

export interface T5BucketOptions {
  /** Encoder attention sees both directions (default true); false is the causal decoder form. */
  readonly bidirectional?: boolean;
  /** Number of buckets (T5 default 32). */
  readonly numBuckets?: number;
  /** Distances at or beyond this share the last bucket (T5 default 128). */
  readonly maxDistance?: number;
}

export interface ResolvedBucketOptions {
  readonly bidirectional: boolean;
  readonly numBuckets: number;
  readonly maxDistance: number;
}

export function resolveT5BucketOptions(op: string, opts: T5BucketOptions): ResolvedBucketOptions {
  const bidirectional = opts.bidirectional ?? true;
  const numBuckets = checkInt(op, 'numBuckets', opts.numBuckets ?? 32, bidirectional ? 4 : 2);
  const maxDistance = checkInt(op, 'maxDistance', opts.maxDistance ?? 128);
  const maxExact = Math.floor((bidirectional ? Math.floor(numBuckets / 2) : numBuckets) / 2);
  if (maxDistance <= maxExact) {
    throw new Error(`${op}: expected maxDistance (=${maxDistance}) to exceed the exact range (=${maxExact} for numBuckets ${numBuckets}); got ${maxDistance}`);
  }
  return { bidirectional, numBuckets, maxDistance };
}

/** The bucket of a relative position (key - query) under resolved options; no checks (internal). */
export function bucketOf(relativePosition: number, o: ResolvedBucketOptions): number {
  let numBuckets = o.numBuckets;
  let bucket = 0;
  let n: number;
  if (o.bidirectional) {
    numBuckets = Math.floor(numBuckets / 2);
    if (relativePosition > 0) bucket += numBuckets;
    n = Math.abs(relativePosition);
  } else {
    n = Math.max(-relativePosition, 0);
  }
  const maxExact = Math.floor(numBuckets / 2);
  if (n < maxExact) return bucket + n;
  const f = Math.fround;
  const ratio = f(f(n) / maxExact);
  const scale = f(Math.log(o.maxDistance / maxExact));
  const large = maxExact + Math.trunc(f(f(f(Math.log(ratio)) / scale) * (numBuckets - maxExact)));
  return bucket + Math.min(large, numBuckets - 1);
}

/**
 * The bucket of one relative position (key - query), as HF `T5Attention._relative_position_bucket`.
 */
export function t5RelativePositionBucket(relativePosition: number, opts: T5BucketOptions = {}): number {
  if (!Number.isInteger(relativePosition)) {
    throw new Error(`t5RelativePositionBucket: expected relativePosition to be an integer; got ${relativePosition}`);
  }
  return bucketOf(relativePosition, resolveT5BucketOptions('t5RelativePositionBucket', opts));
}

export interface T5BucketGridOptions extends T5BucketOptions {
  /** Position of the first query; keys start at 0 (default keyLength - queryLength, the decoding convention). */
  readonly queryOffset?: number;
}

/**
 * Buckets of every (query, key) pair as an int32 tensor (Tq, Tk): entry [i, j] is the bucket of
 * j - (queryOffset + i).
 */
export function t5RelativePositionBuckets(
  queryLength: number,
  keyLength: number,
  opts: T5BucketGridOptions & Pick<TensorOptions, 'backend'> = {},
): Tensor {
  const op = 't5RelativePositionBuckets';
  checkInt(op, 'queryLength', queryLength);
  checkInt(op, 'keyLength', keyLength);
  const o = resolveT5BucketOptions(op, opts);
  const offset = opts.queryOffset ?? keyLength - queryLength;
  if (!Number.isInteger(offset)) throw new Error(`${op}: expected opts.queryOffset to be an integer; got ${offset}`);
  const out = new Int32Array(queryLength * keyLength);
  for (let i = 0; i < queryLength; i++) {
    for (let j = 0; j < keyLength; j++) out[i * keyLength + j] = bucketOf(j - (offset + i), o);
  }
  return tensor(out, { shape: [queryLength, keyLength], dtype: 'int32', backend: opts.backend }); // (Tq, Tk)
}
