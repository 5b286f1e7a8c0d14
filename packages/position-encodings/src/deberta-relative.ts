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
 *
 * For an image's patch grid, `DebertaRelativeAttention2d` (deberta-relative-2d.ts) sums row and column embeddings.
 */
import { Embedding, Linear, matmul, Module, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { gatherRelativeScores } from './grid-2d.js';
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

/**
 * What the 1-D and 2-D disentangled attentions share: the checked options, the relative tables (one per axis,
 * registered under `tableNames`, each (2 span, D)) and the projections `pos_key_proj` / `pos_query_proj`.
 */
export abstract class DisentangledAttentionBase extends Module {
  readonly hiddenSize: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly positionBuckets: number;
  readonly maxRelativePositions: number;
  /** span: position_buckets if > 0, else max_relative_positions. */
  readonly span: number;
  readonly posAttType: readonly DebertaPositionTerm[];
  readonly posKeyProj: Linear | null;
  readonly posQueryProj: Linear | null;
  protected readonly tables: readonly Embedding[];

  protected constructor(op: string, opts: DebertaRelativeAttentionOptions, tableNames: readonly string[]) {
    super();
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
    this.tables = tableNames.map((name) => this.registerModule(name, new Embedding(2 * this.span, this.hiddenSize, f)));
    const inner = this.numHeads * this.headDim;
    this.posKeyProj = this.posAttType.includes('c2p') ? this.registerModule('pos_key_proj', new Linear(this.hiddenSize, inner, f)) : null;
    this.posQueryProj = this.posAttType.includes('p2c') ? this.registerModule('pos_query_proj', new Linear(this.hiddenSize, inner, f)) : null;
  }

  /** A relative position (query - key) to its row of a relative table: bucketed, clipped into 0 .. 2 span - 1. */
  protected indexOf(relativePosition: number): number {
    const d = this.positionBuckets > 0 ? debertaLogBucketPosition(relativePosition, this.positionBuckets, this.maxRelativePositions) : relativePosition;
    return Math.min(2 * this.span - 1, Math.max(0, d + this.span));
  }

  /** A relative table (R, D) projected per head: (H, R, Dh); `withBias` false leaves the projection's bias out. */
  protected heads(table: Tensor, proj: Linear, withBias: boolean): Tensor {
    const r = table.shape[0];
    const projected = withBias ? proj.call(table) : matmul(table, proj.weight.transpose(0, 1)); // (R, H Dh)
    return projected.reshape([r, this.numHeads, this.headDim]).transpose(0, 1); // (H, R, Dh)
  }

  /** 1 / sqrt(Dh (1 + number of position terms)): sqrt(3 Dh) with c2p and p2c. */
  protected get scale(): number {
    return 1 / Math.sqrt(this.headDim * (1 + this.posAttType.length));
  }

  /** Throw unless q (B, H, Tq, Dh) and k (B, H, Tk, Dh) fit the module; returns [Tq, Tk]. */
  protected checkQk(op: string, q: Tensor, k: Tensor): [number, number] {
    const [h, dh] = [this.numHeads, this.headDim];
    if (q.ndim !== 4 || k.ndim !== 4 || q.shape[1] !== h || k.shape[1] !== h || q.shape[3] !== dh || k.shape[3] !== dh || q.shape[0] !== k.shape[0]) {
      throw new Error(`${op}: expected q (B, H = ${h}, Tq, Dh = ${dh}) and k (B, H = ${h}, Tk, Dh = ${dh}); got q [${q.shape.join(', ')}], k [${k.shape.join(', ')}]`);
    }
    return [q.shape[2], k.shape[2]];
  }
}

export class DebertaRelativeAttention extends DisentangledAttentionBase {
  /** The relative table `rel_embeddings` (2 span, D). */
  readonly relEmbeddings: Embedding;

  constructor(opts: DebertaRelativeAttentionOptions) {
    super('DebertaRelativeAttention', opts, ['rel_embeddings']);
    this.relEmbeddings = this.tables[0];
  }

  /** Bucketed relative positions query - key, clipped and shifted into 0 .. 2 span - 1: (Tq, Tk) host ints. */
  relativeIndex(queryLength: number, keyLength: number, sign: 1 | -1 = 1): Int32Array {
    const out = new Int32Array(queryLength * keyLength);
    for (let i = 0; i < queryLength; i++) {
      for (let j = 0; j < keyLength; j++) {
        out[i * keyLength + j] = this.indexOf(sign * (i - j));
      }
    }
    return out;
  }

  /** Attention logits (B, H, Tq, Tk) for projected q (B, H, Tq, Dh) and k (B, H, Tk, Dh), scale included. */
  forward(q: Tensor, k: Tensor): Tensor {
    const [tq, tk] = this.checkQk('DebertaRelativeAttention', q, k);
    let scores = matmul(q, k.transpose(2, 3)); // (B, H, Tq, Tk)
    const table = this.relEmbeddings.weight; // (2 span, D)
    if (this.posKeyProj) scores = scores.add(c2pScores(q, this.heads(table, this.posKeyProj, true), this.relativeIndex(tq, tk, 1), tk));
    if (this.posQueryProj) {
      // Entry (j, i) of the p2c index is delta(j, i) = span - bucket(i - j): the sign -1 index, read per key.
      const byQuery = this.relativeIndex(tq, tk, -1); // (Tq, Tk)
      const byKey = Int32Array.from({ length: tk * tq }, (_, a) => byQuery[(a % tq) * tk + Math.floor(a / tq)]); // (Tk, Tq)
      scores = scores.add(p2cScores(k, this.heads(table, this.posQueryProj, true), byKey, tq));
    }
    return scores.mul(this.scale);
  }
}

/** Content-to-position: Q^c_i . K^r_{index(i, j)} for q (B, H, Tq, Dh), kr (H, R, Dh), index (Tq, Tk): (B, H, Tq, Tk). */
export function c2pScores(q: Tensor, kr: Tensor, index: Int32Array, keyLength: number): Tensor {
  return gatherRelativeScores(matmul(q, kr.transpose(1, 2)), index, keyLength); // (B, H, Tq, R) -> (B, H, Tq, Tk)
}

/** Position-to-content: K^c_j . Q^r_{index(j, i)} for k (B, H, Tk, Dh), qr (H, R, Dh), index (Tk, Tq): (B, H, Tq, Tk). */
export function p2cScores(k: Tensor, qr: Tensor, index: Int32Array, queryLength: number): Tensor {
  return gatherRelativeScores(matmul(k, qr.transpose(1, 2)), index, queryLength).transpose(2, 3); // (B, H, Tk, Tq) -> (B, H, Tq, Tk)
}
