/**
 * The fixed 2-D sin-cos table for image patches, as MAE (He et al. 2022, "Masked Autoencoders Are Scalable Vision
 * Learners") and MoCo v3 (Chen, Xie and He 2021) use it.
 *
 * For a grid of H x W patches in row-major order (row r, column c), the first D/2 columns are the 1-D [sin | cos]
 * table (frequencies 10000^(-i/(D/4)), i = 0 .. D/4 - 1) of the column index c, and the last D/2 columns the same
 * table of the row index r. (MAE builds the grid with meshgrid(w, h), so its "emb_h" half actually holds the column
 * coordinate; we keep that order so MAE/timm tables match.) With `clsToken`, a zero row is prepended for the class token.
 */
import type { Tensor } from '@formers/tensor-core';
import { tableTensor, type TableOptions } from './host-tensor.js';
import { checkInt } from './validate.js';

export interface SinCos2dOptions extends TableOptions {
  /** Prepend a zero row for a class token (default false). */
  readonly clsToken?: boolean;
  /** Frequency base (default 10000). */
  readonly base?: number;
}

/** Grid size as a number (square) or [H, W]. */
export type GridSize = number | readonly [number, number];

export function resolveGrid(op: string, name: string, grid: GridSize): [number, number] {
  const hw = typeof grid === 'number' ? [grid, grid] : grid;
  if (!Array.isArray(hw) || hw.length !== 2) throw new Error(`${op}: expected ${name} to be a number or [H, W]; got ${JSON.stringify(grid)}`);
  return [checkInt(op, `${name}[0]`, hw[0]), checkInt(op, `${name}[1]`, hw[1])];
}

/** The table ((clsToken ? 1 : 0) + H W, D) of MAE's get_2d_sincos_pos_embed; D must be divisible by 4. */
export function sinCos2dPositionEncoding(dim: number, gridSize: GridSize, opts: SinCos2dOptions = {}): Tensor {
  const op = 'sinCos2dPositionEncoding';
  checkInt(op, 'dim', dim);
  if (dim % 4 !== 0) throw new Error(`${op}: expected dim to be divisible by 4 (sin and cos of two axes); got ${dim}`);
  const [h, w] = resolveGrid(op, 'gridSize', gridSize);
  const base = opts.base ?? 10000;
  const prefix = opts.clsToken ? 1 : 0;
  const quarter = dim / 4;
  const out = new Float64Array((prefix + h * w) * dim);
  for (let r = 0; r < h; r++) {
    for (let c = 0; c < w; c++) {
      const row = (prefix + r * w + c) * dim;
      for (let i = 0; i < quarter; i++) {
        const omega = base ** (-i / quarter);
        out[row + i] = Math.sin(c * omega);
        out[row + quarter + i] = Math.cos(c * omega);
        out[row + 2 * quarter + i] = Math.sin(r * omega);
        out[row + 3 * quarter + i] = Math.cos(r * omega);
      }
    }
  }
  return tableTensor(op, out, [prefix + h * w, dim], opts); // (prefix + H W, D)
}
