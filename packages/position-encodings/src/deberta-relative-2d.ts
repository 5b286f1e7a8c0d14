/**
 * DeBERTa's disentangled attention (He, Liu, Gao and Chen 2021, ICLR, eq. 4) on an H x W patch grid. The relative
 * embedding of two patches is the sum of a row-offset and a column-offset embedding from separate tables (iRPE's
 * per-direction "cross" method, Wu et al. 2021, ICCV, sec. 3), each offset bucketed by DeBERTa's log buckets:
 *
 *   P_ij = E^y[delta(row_i - row_j)] + E^x[delta(col_i - col_j)],   K^r_ij = P_ij W_k + b_k,   Q^r_ij = P_ij W_q + b_q
 *   A_ij = [ Q^c_i . K^c_j  +  Q^c_i . K^r_ij  +  K^c_j . Q^r_ji ] / sqrt(3 Dh)
 *
 * Because the projections are affine, each position term splits into a row term (with the bias) plus a column term
 * (without it), each computed for every offset once and gathered onto the grid as in 1-D, so no (N, N, D) tensor is
 * built. Pairs with a prefix token get no c2p or p2c term (their content-to-content term is unchanged).
 * Names: `rel_embeddings_y.weight`, `rel_embeddings_x.weight` (2 span, D), `pos_key_proj`, `pos_query_proj`.
 */
import { matmul, type Embedding, type Tensor } from '@formers/tensor-core';
import { c2pScores, DisentangledAttentionBase, p2cScores, type DebertaRelativeAttentionOptions } from './deberta-relative.js';
import { checkGridTokens, gridRelativeIndex, resolveGridOptions, type GridOptions } from './grid-2d.js';

export class DebertaRelativeAttention2d extends DisentangledAttentionBase {
  /** Row-offset embeddings `rel_embeddings_y` (2 span, D). */
  readonly relEmbeddingsY: Embedding;
  /** Column-offset embeddings `rel_embeddings_x` (2 span, D). */
  readonly relEmbeddingsX: Embedding;

  constructor(opts: DebertaRelativeAttentionOptions) {
    super('DebertaRelativeAttention2d', opts, ['rel_embeddings_y', 'rel_embeddings_x']);
    [this.relEmbeddingsY, this.relEmbeddingsX] = this.tables;
  }

  /** Table rows (N, N) per axis for query-minus-key offsets; prefix pairs hold 2 span (reads zero). */
  relativeIndex(opts: GridOptions): { y: Int32Array; x: Int32Array } {
    const g = resolveGridOptions('DebertaRelativeAttention2d.relativeIndex', opts);
    return gridRelativeIndex(g, (offset) => this.indexOf(offset), 2 * this.span);
  }

  /** Attention logits (B, H, N, N) for projected q, k (B, H, N, Dh), N = P + H W, scale included. */
  forward(q: Tensor, k: Tensor, opts: GridOptions): Tensor {
    const op = 'DebertaRelativeAttention2d';
    const [tq, tk] = this.checkQk(op, q, k);
    const g = resolveGridOptions(op, opts);
    checkGridTokens(op, 'q.shape[2]', tq, g);
    checkGridTokens(op, 'k.shape[2]', tk, g);
    const { y, x } = this.relativeIndex(opts); // (N, N) each; entry (a, b) = delta(pos_a - pos_b)
    const [ey, ex] = [this.relEmbeddingsY.weight, this.relEmbeddingsX.weight]; // (2 span, D)
    let scores = matmul(q, k.transpose(2, 3)); // (B, H, N, N)
    if (this.posKeyProj) {
      const p = this.posKeyProj;
      scores = scores.add(c2pScores(q, this.heads(ey, p, true), y, g.n)).add(c2pScores(q, this.heads(ex, p, false), x, g.n));
    }
    if (this.posQueryProj) {
      // Q^r_ji uses delta(pos_j - pos_i): the same index matrix, read with the key as the row.
      const p = this.posQueryProj;
      scores = scores.add(p2cScores(k, this.heads(ey, p, true), y, g.n)).add(p2cScores(k, this.heads(ex, p, false), x, g.n));
    }
    return scores.mul(this.scale);
  }
}
