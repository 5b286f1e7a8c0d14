/**
 * DeBERTa's disentangled attention (He, Liu, Gao and Chen 2021, "DeBERTa: Decoding-enhanced BERT with
 * Disentangled Attention", ICLR 2021, eq. 4; the log buckets of DeBERTa-v2/v3). With query i, key j,
 * delta(i, j) = bucket(i - j) clipped to [-span, span - 1] and shifted by span:
 *
 *   A_ij = [ Q^c_i . K^c_j  +  Q^c_i . K^r_{delta(i,j)}  +  K^c_j . Q^r_{delta(j,i)} ] / sqrt(3 Dh)
 *            content-to-content  content-to-position (c2p)   position-to-content (p2c)
 *
 * K^r and Q^r are the relative embeddings (2 span, D) projected per head (`pos_key_proj`, `pos_query_proj`, the
 * names of HF DebertaV2 with share_att_key false); the scale is sqrt(Dh * (1 + number of position terms)), so
 * sqrt(3 Dh) with both. Distances beyond bucketSize / 2 share logarithmic buckets up to maxPosition, computed in
 * float32 exactly as HF's make_log_bucket_position (the float32 log decides the edges).
 *
 * Choices where DeBERTa's code has alternatives: the relative table `rel_embeddings` lives in this module (HF keeps
 * it in the encoder, shared by all layers, optionally layer-normed; map `encoder.rel_embeddings.weight` onto it),
 * and queries and keys are both at positions 0 .. T - 1 (HF's build_relative_position).
 */
import { Embedding, gather, Linear, matmul, Module, tensor, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { checkInt } from './validate.js';

const f32 = Math.fround;

/**
 * HF's make_log_bucket_position for one relative position (query - key): exact within (-bucketSize/2,
 * bucketSize/2), then sign * (ceil(log(|d| / mid) / log((maxPosition - 1) / mid) * (mid - 1)) + mid) in float32.
 */
export function debertaLogBucketPosition(relativePosition: number, bucketSize: number, maxPosition: number): number {
  const mid = Math.floor(bucketSize / 2);
  const abs = relativePosition < mid && relativePosition > -mid ? mid - 1 : Math.abs(relativePosition);
  if (abs <= mid) return relativePosition;
  const ratio = f32(f32(Math.log(f32(abs / mid))) / f32(Math.log(f32((maxPosition - 1) / mid))));
  const logPos = Math.ceil(f32(ratio * (mid - 1))) + mid;
  return Math.sign(relativePosition) * logPos;
}

export type DebertaPositionTerm = 'c2p' | 'p2c';

export interface DebertaRelativeAttentionOptions extends FactoryOptions {
  /** Hidden size D of the relative embeddings. */
  readonly hiddenSize: number;
  readonly numHeads: number;
  /** Head dim Dh (default D / H). */
  readonly headDim?: number;
  /** Log-bucket size; 0 keeps raw distances clipped at maxRelativePositions (default 256, DeBERTa-v3). */
  readonly positionBuckets?: number;
  /** Largest distance (default 512). */
  readonly maxRelativePositions?: number;
  /** Position terms (default both, as DeBERTa). */
  readonly posAttType?: readonly DebertaPositionTerm[];
}

export class DebertaRelativeAttention extends Module {
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly positionBuckets: number;
  readonly maxRelativePositions: number;
  /** span: position_buckets if > 0, else max_relative_positions. */
  readonly span: number;
  readonly posAttType: readonly DebertaPositionTerm[];
  readonly relEmbeddings: Embedding;
  readonly posKeyProj: Linear | null;
  readonly posQueryProj: Linear | null;

  constructor(opts: DebertaRelativeAttentionOptions) {
    super();
    const op = 'DebertaRelativeAttention';
    this.hiddenSize = checkInt(op, 'opts.hiddenSize', opts?.hiddenSize);
    this.numHeads = checkInt(op, 'opts.numHeads', opts.numHeads);
    if (opts.headDim === undefined && this.hiddenSize % this.numHeads !== 0) {
      throw new Error(`${op}: expected opts.hiddenSize (${this.hiddenSize}) divisible by opts.numHeads (${this.numHeads}), or an explicit opts.headDim`);
    }
    this.headDim = checkInt(op, 'opts.headDim', opts.headDim ?? this.hiddenSize / this.numHeads);
    this.positionBuckets = checkInt(op, 'opts.positionBuckets', opts.positionBuckets ?? 256, 0);
    this.maxRelativePositions = checkInt(op, 'opts.maxRelativePositions', opts.maxRelativePositions ?? 512);
    if (this.positionBuckets > 0 && this.positionBuckets < 4) throw new Error(`${op}: expected opts.positionBuckets 0 or >= 4; got ${this.positionBuckets}`);
    this.span = this.positionBuckets > 0 ? this.positionBuckets : this.maxRelativePositions;
    const terms = opts.posAttType ?? ['c2p', 'p2c'];
    for (const t of terms) {
      if (t !== 'c2p' && t !== 'p2c') throw new Error(`${op}: expected opts.posAttType entries 'c2p' or 'p2c'; got ${JSON.stringify(t)}`);
    }
    this.posAttType = [...new Set(terms)];
    const f = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    this.relEmbeddings = this.registerModule('rel_embeddings', new Embedding(2 * this.span, this.hiddenSize, f));
    const inner = this.numHeads * this.headDim;
    this.posKeyProj = this.posAttType.includes('c2p') ? this.registerModule('pos_key_proj', new Linear(this.hiddenSize, inner, f)) : null;
    this.posQueryProj = this.posAttType.includes('p2c') ? this.registerModule('pos_query_proj', new Linear(this.hiddenSize, inner, f)) : null;
  }

  /** Bucketed relative positions query - key, clipped and shifted into 0 .. 2 span - 1: (Tq, Tk) host ints. */
  relativeIndex(queryLength: number, keyLength: number, sign: 1 | -1 = 1): Int32Array {
    const out = new Int32Array(queryLength * keyLength);
    for (let i = 0; i < queryLength; i++) {
      for (let j = 0; j < keyLength; j++) {
        const d = this.positionBuckets > 0 ? debertaLogBucketPosition(i - j, this.positionBuckets, this.maxRelativePositions) : i - j;
        out[i * keyLength + j] = Math.min(2 * this.span - 1, Math.max(0, sign * d + this.span));
      }
    }
    return out;
  }

  /** (2 span, D) -> (H, 2 span, Dh). */
  private heads(proj: Linear): Tensor {
    return proj.call(this.relEmbeddings.weight).reshape([2 * this.span, this.numHeads, this.headDim]).transpose(0, 1); // (H, 2 span, Dh)
  }

  /** Attention logits (B, H, Tq, Tk) for projected q (B, H, Tq, Dh) and k (B, H, Tk, Dh), scale included. */
  forward(q: Tensor, k: Tensor): Tensor {
    const op = 'DebertaRelativeAttention';
    const [h, dh] = [this.numHeads, this.headDim];
    if (q.ndim !== 4 || k.ndim !== 4 || q.shape[1] !== h || k.shape[1] !== h || q.shape[3] !== dh || k.shape[3] !== dh || q.shape[0] !== k.shape[0]) {
      throw new Error(`${op}: expected q (B, H = ${h}, Tq, Dh = ${dh}) and k (B, H = ${h}, Tk, Dh = ${dh}); got q [${q.shape.join(', ')}], k [${k.shape.join(', ')}]`);
    }
    const [b, tq, tk] = [q.shape[0], q.shape[2], k.shape[2]];
    const scale = 1 / Math.sqrt(dh * (1 + this.posAttType.length));
    let scores = matmul(q, k.transpose(2, 3)); // (B, H, Tq, Tk)
    const index = (rows: number, cols: number, sign: 1 | -1) =>
      tensor(this.relativeIndex(rows, cols, sign), { dtype: 'int32', shape: [1, 1, rows, cols], backend: q.backend }).expand([b, h, rows, cols]);
    if (this.posKeyProj) {
      const c2p = matmul(q, this.heads(this.posKeyProj).transpose(1, 2)); // (B, H, Tq, 2 span)
      scores = scores.add(gather(c2p, 3, index(tq, tk, 1))); // (B, H, Tq, Tk): Q^c_i . K^r_delta(i, j)
    }
    if (this.posQueryProj) {
      const p2c = matmul(k, this.heads(this.posQueryProj).transpose(1, 2)); // (B, H, Tk, 2 span)
      // Entry (j, i) of the index is delta(j, i) = span - bucket(i - j): read per key, then transpose to (i, j).
      const idx = tensor(this.relativeIndex(tq, tk, -1), { dtype: 'int32', shape: [tq, tk], backend: q.backend }).transpose(0, 1).contiguous(); // (Tk, Tq)
      const gathered = gather(p2c, 3, idx.reshape([1, 1, tk, tq]).expand([b, h, tk, tq])); // (B, H, Tk, Tq)
      scores = scores.add(gathered.transpose(2, 3)); // (B, H, Tq, Tk): K^c_j . Q^r_delta(j, i)
    }
    return scores.mul(scale);
  }
}
