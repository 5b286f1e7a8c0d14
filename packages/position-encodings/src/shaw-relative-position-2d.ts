/**
 * Shaw et al.'s relative keys and values (Shaw, Uszkoreit and Vaswani 2018, NAACL, eq. 3-5) on an H x W patch grid.
 * The vector of a pair is the sum of a row-offset vector and a column-offset vector from separate tables, each
 * offset clipped at k as in the paper:
 *
 *   a^K_ij = w^K_y[clip(row_j - row_i, -k, k)] + w^K_x[clip(col_j - col_i, -k, k)]      (a^V likewise)
 *
 * which is the "contextual mode" with per-direction ("cross") encodings of iRPE (Wu et al. 2021, "Rethinking and
 * Improving Relative Position Encoding for Vision Transformer", ICCV 2021, sec. 3), with Shaw's clip as the
 * index function. Both terms depend only on (dy, dx), so attention is translation invariant on the grid (up to
 * the clipping at the borders, which every relative scheme shares); pairs with a prefix token get zero vectors.
 * Names: `relative_keys_y`, `relative_keys_x`, `relative_values_y`, `relative_values_x` (2k + 1, Dh), row r holding
 * offset r - k, as the 1-D module's tables; the attention itself is the 1-D module's (`shawAttention`).
 */
import { init, Module, zeros, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { checkGridTokens, gridRelativeIndex, resolveGridOptions, sumAxisTables, type GridOptions } from './grid-2d.js';
import { checkQkv, pairScores, shawAttention, type ShawRelativePositionOptions } from './shaw-relative-position.js';
import { checkInt } from './validate.js';

export interface ShawAttention2dOptions extends GridOptions {
  /** Additive mask or bias broadcastable to (B, H, N, N). */
  readonly bias?: Tensor;
}

export class ShawRelativePosition2d extends Module {
  readonly headDim: number;
  readonly maxRelativePosition: number;
  readonly relativeKeysY: Tensor;
  readonly relativeKeysX: Tensor;
  readonly relativeValuesY: Tensor | null;
  readonly relativeValuesX: Tensor | null;

  constructor(opts: ShawRelativePositionOptions) {
    super();
    const op = 'ShawRelativePosition2d';
    this.headDim = checkInt(op, 'opts.headDim', opts?.headDim);
    this.maxRelativePosition = checkInt(op, 'opts.maxRelativePosition', opts.maxRelativePosition ?? 16);
    const shape = [2 * this.maxRelativePosition + 1, this.headDim];
    const table = (name: string, present: boolean): Tensor | null => {
      const t = this.registerParameter(name, present ? zeros(shape, { dtype: opts.dtype, backend: opts.backend }) : null);
      if (t) init.xavierUniform_(t, { generator: opts.generator }); // as the 1-D tables (tensor2tensor)
      return t;
    };
    this.relativeKeysY = table('relative_keys_y', true)!;
    this.relativeKeysX = table('relative_keys_x', true)!;
    this.relativeValuesY = table('relative_values_y', opts.values !== false);
    this.relativeValuesX = table('relative_values_x', opts.values !== false);
  }

  /** The pair vectors (N, N, Dh) of a table pair on the grid; prefix pairs are zero. */
  private pairs(tableY: Tensor, tableX: Tensor, opts: GridOptions, op: string): Tensor {
    const g = resolveGridOptions(op, opts);
    const k = this.maxRelativePosition;
    // Offsets are query minus key; Shaw indexes key minus query, clipped, then shifted by k.
    const { y, x } = gridRelativeIndex(g, (offset) => Math.max(-k, Math.min(k, -offset)) + k, 2 * k + 1);
    return sumAxisTables(tableY, y, tableX, x).reshape([g.n, g.n, this.headDim]); // (N, N, Dh)
  }

  /** q_i . a^K_ij for q (B, H, N, Dh): (B, H, N, N), unscaled. */
  keyScores(q: Tensor, opts: GridOptions): Tensor {
    const op = 'ShawRelativePosition2d.keyScores';
    checkQkv(op, q, q, q, this.headDim);
    checkGridTokens(op, 'q.shape[2]', q.shape[2], resolveGridOptions(op, opts));
    return pairScores(q, this.pairs(this.relativeKeysY, this.relativeKeysX, opts, op));
  }

  /** Attention over the grid's tokens: q, k, v (B, H, N, Dh), N = P + H W -> (B, H, N, Dh). */
  forward(q: Tensor, k: Tensor, v: Tensor, opts: ShawAttention2dOptions): Tensor {
    const op = 'ShawRelativePosition2d';
    const [tq, tk] = checkQkv(op, q, k, v, this.headDim);
    const g = resolveGridOptions(op, opts);
    checkGridTokens(op, 'q.shape[2]', tq, g);
    checkGridTokens(op, 'k.shape[2]', tk, g);
    const aK = this.pairs(this.relativeKeysY, this.relativeKeysX, opts, op); // (N, N, Dh)
    const aV = this.relativeValuesY && this.relativeValuesX ? this.pairs(this.relativeValuesY, this.relativeValuesX, opts, op) : null;
    return shawAttention(q, k, v, aK, aV, opts.bias);
  }
}
