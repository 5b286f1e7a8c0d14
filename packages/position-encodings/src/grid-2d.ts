/**
 * The H x W patch grid shared by every 2-D variant of this package: token layout, per-axis offsets and the
 * per-axis channel split.
 *
 * Layout: `numPrefixTokens` tokens (class, register or distillation tokens) come first, then the H W patches in
 * row-major order (patch a is at row floor(a / W), column a mod W), as timm's ViT lays them out. Prefix tokens are
 * not on the grid: every 2-D family here gives them no position (an absolute encoding leaves them unchanged, a
 * relative one adds nothing to any pair that involves them), as timm's `no_embed_class` and our `alibiBias2d` do.
 *
 * Relative families take the offset between two patches per axis, (dy, dx) = (row_i - row_j, col_i - col_j)
 * (query minus key, timm's `relative_coords` for Swin), and map each axis through their own 1-D index function
 * into separate row and column tables: the bias and contextual modes with the "cross" (per-direction) method of
 * iRPE (Wu et al. 2021, "Rethinking and Improving Relative Position Encoding for Vision Transformer", ICCV 2021,
 * sec. 3), so a 2-D term is a row-offset term plus a column-offset term. Absolute families split channels: the
 * first D/2 encode the column and the last D/2 the row, as `sinCos2dPositionEncoding` (MAE) and axial 2-D RoPE.
 */
import { cat, gather, ones, tensor, zeros, type Tensor } from '@formers/tensor-core';
import { resolveGrid, type GridSize } from './sincos-2d.js';
import { checkInt } from './validate.js';

/** Where a 2-D variant reads its grid: the patch grid [H, W] and the tokens before it. */
export interface GridOptions {
  /** The patch grid [H, W], or H for a square one. */
  readonly gridSize: GridSize;
  /** Tokens before the patches (class token and the like), given no position (default 0). */
  readonly numPrefixTokens?: number;
}

export interface ResolvedGrid {
  readonly h: number;
  readonly w: number;
  /** Prefix tokens P. */
  readonly prefix: number;
  /** Tokens N = P + H W. */
  readonly n: number;
}

/** Validate `opts.gridSize` and `opts.numPrefixTokens` at a public boundary named `op`. */
export function resolveGridOptions(op: string, opts: GridOptions | undefined): ResolvedGrid {
  if (opts === undefined || opts === null || typeof opts !== 'object') {
    throw new Error(`${op}: expected opts { gridSize: [H, W], numPrefixTokens? }; got ${String(opts)}`);
  }
  const [h, w] = resolveGrid(op, 'opts.gridSize', opts.gridSize);
  const prefix = checkInt(op, 'opts.numPrefixTokens', opts.numPrefixTokens ?? 0, 0);
  return { h, w, prefix, n: prefix + h * w };
}

/** Where an absolute encoding places its tokens: a 1-D offset, or a 2-D grid (`gridSize`, `numPrefixTokens`). */
export interface PlacementOptions extends Partial<GridOptions> {
  /** First position of a 1-D sequence (default 0); not with gridSize. */
  readonly offset?: number;
}

/**
 * The placement of `tokens` tokens: `{ grid }` when opts.gridSize is given (the count checked against P + H W,
 * `tokensName` naming the axis), else `{ offset }`. Mixing offset with a grid, or numPrefixTokens without one, is an
 * error rather than a silently ignored option.
 */
export function resolvePlacement(op: string, opts: PlacementOptions, tokens: number, tokensName: string): { grid: ResolvedGrid } | { offset: number } {
  if (opts.gridSize === undefined) {
    if (opts.numPrefixTokens !== undefined) throw new Error(`${op}: expected opts.gridSize with opts.numPrefixTokens; got numPrefixTokens ${opts.numPrefixTokens} alone`);
    return { offset: checkInt(op, 'opts.offset', opts.offset ?? 0, 0) };
  }
  if (opts.offset !== undefined) throw new Error(`${op}: expected opts.offset or opts.gridSize, not both; got offset ${opts.offset}`);
  const grid = resolveGridOptions(op, opts as GridOptions);
  checkGridTokens(op, tokensName, tokens, grid);
  return { grid };
}

/** Throw unless a token count (`name`, an axis of a tensor) is P + H W. */
export function checkGridTokens(op: string, name: string, tokens: number, g: ResolvedGrid): void {
  if (tokens !== g.n) {
    throw new Error(
      `${op}: expected ${name} = numPrefixTokens + H*W = ${g.prefix} + ${g.h}*${g.w} = ${g.n} tokens; got ${tokens}`,
    );
  }
}

/** Query-minus-key offsets between patches, dy and dx (H W, H W) host ints; pair (a, b) at a H W + b. */
export function gridOffsets2d(h: number, w: number): { dy: Int32Array; dx: Int32Array } {
  const n = h * w;
  const dy = new Int32Array(n * n);
  const dx = new Int32Array(n * n);
  for (let a = 0; a < n; a++) {
    for (let b = 0; b < n; b++) {
      dy[a * n + b] = Math.floor(a / w) - Math.floor(b / w);
      dx[a * n + b] = (a % w) - (b % w);
    }
  }
  return { dy, dx };
}

/**
 * Per-axis table indices (N, N) for all tokens: entry (i, j) of `y` is rowIndex(dy(i, j)) and of `x`
 * colIndex(dx(i, j)), query-minus-key offsets; a pair with a prefix token gets `prefixIndex` on both axes (a
 * family points it at a zero row, so that pair has no position term).
 */
export function gridRelativeIndex(
  g: ResolvedGrid,
  index: (offset: number) => number,
  prefixIndex: number,
): { y: Int32Array; x: Int32Array } {
  const { dy, dx } = gridOffsets2d(g.h, g.w);
  const patches = g.h * g.w;
  const y = new Int32Array(g.n * g.n).fill(prefixIndex);
  const x = new Int32Array(g.n * g.n).fill(prefixIndex);
  for (let a = 0; a < patches; a++) {
    for (let b = 0; b < patches; b++) {
      const at = (g.prefix + a) * g.n + g.prefix + b;
      y[at] = index(dy[a * patches + b]);
      x[at] = index(dx[a * patches + b]);
    }
  }
  return { y, x };
}

/** Row and column of every patch (H W) host ints, for the absolute families. */
export function gridCoordinates(h: number, w: number): { rows: Int32Array; cols: Int32Array } {
  const rows = Int32Array.from({ length: h * w }, (_, a) => Math.floor(a / w));
  const cols = Int32Array.from({ length: h * w }, (_, a) => a % w);
  return { rows, cols };
}

/** Throw unless a channel count can be split in half between the two axes. */
export function checkEvenChannels(op: string, name: string, dim: number): void {
  if (dim % 2 !== 0) throw new Error(`${op}: expected ${name} to be even in 2-D (half the channels per axis); got ${dim}`);
}

/**
 * A 1-D table (L, D) read on the grid: row a of the result (H W, D) is [table[col_a, :D/2] | table[row_a, D/2:]],
 * the first half of the channels at the patch's column, the second half at its row. Differentiable (index
 * selects and a cat), so gradients reach the 1-D table.
 */
export function axialTable(table: Tensor, h: number, w: number): Tensor {
  const d = table.shape[1];
  const { rows, cols } = gridCoordinates(h, w);
  const opts = { dtype: 'int32' as const, shape: [h * w], backend: table.backend };
  const colIdx = tensor(cols, opts); // (H W)
  const rowIdx = tensor(rows, opts); // (H W)
  const colHalf = table.narrow(1, 0, d / 2).indexSelect(0, colIdx); // (H W, D/2)
  const rowHalf = table.narrow(1, d / 2, d / 2).indexSelect(0, rowIdx); // (H W, D/2)
  return cat([colHalf, rowHalf], 1); // (H W, D)
}

/** Prepend P rows of `fill` (0 for additive, 1 for multiplicative encodings) to a grid table (H W, D). */
export function withPrefixRows(table: Tensor, prefix: number, fill: 0 | 1): Tensor {
  if (prefix === 0) return table;
  const make = fill === 0 ? zeros : ones;
  const rows = make([prefix, table.shape[1]], { dtype: table.dtype, backend: table.backend }); // (P, D)
  return cat([rows, table], 0); // (P + H W, D)
}

/** x with one zero slice appended along `dim` (the "no position" entry a prefix token's index points at). */
export function appendZero(x: Tensor, dim: number): Tensor {
  const shape = x.shape.map((s, i) => (i === dim ? 1 : s));
  return cat([x, zeros(shape, { dtype: x.dtype, backend: x.backend })], dim);
}

/**
 * Scores per relative index (B, H, Tq, R) onto the token grid (B, H, Tq, Tk): entry (i, j) is
 * scores[..., i, index[i Tk + j]], where index R (one past the last) reads zero, i.e. no position term.
 */
export function gatherRelativeScores(scores: Tensor, index: Int32Array, keyLength: number): Tensor {
  const [b, h, tq] = scores.shape;
  const idx = tensor(index, { dtype: 'int32', shape: [1, 1, tq, keyLength], backend: scores.backend }).expand([b, h, tq, keyLength]); // (B, H, Tq, Tk)
  return gather(appendZero(scores, 3), 3, idx); // (B, H, Tq, Tk)
}

/**
 * A per-axis table (R, C) read on the token grid: (N N, C) with row (i, j) = tableY[y[i N + j]] + tableX[x[i N + j]],
 * where index R on either axis reads zero (prefix pairs: no position).
 */
export function sumAxisTables(tableY: Tensor, y: Int32Array, tableX: Tensor, x: Int32Array): Tensor {
  const opts = { dtype: 'int32' as const, shape: [y.length], backend: tableY.backend };
  const fromY = appendZero(tableY, 0).indexSelect(0, tensor(y, opts)); // (N N, C)
  const fromX = appendZero(tableX, 0).indexSelect(0, tensor(x, opts)); // (N N, C)
  return fromY.add(fromX); // (N N, C)
}
