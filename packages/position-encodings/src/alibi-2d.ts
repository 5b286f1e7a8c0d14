/**
 * 2-D ALiBi for image patches, as CROMA (Fuller, Millard and Green 2023, "CROMA: Remote Sensing Representations
 * with Contrastive Radar-Optical Masked Autoencoders", NeurIPS 2023, sec. 3.1) extends ALiBi (Press et al. 2022):
 * head h adds -m_h * ||(r_i, c_i) - (r_j, c_j)||_2, the Euclidean distance between the two patches on the grid,
 * with the slopes of 1-D ALiBi. Nothing is learned and nothing depends on the grid size, so it extrapolates to larger
 * images as 1-D ALiBi does to longer texts. Prefix tokens (class) get no bias (our choice; CROMA has none).
 */
import { tensor, type Tensor, type TensorOptions } from '@formers/tensor-core';
import { alibiSlopes } from './alibi.js';
import { resolveGrid, type GridSize } from './sincos-2d.js';
import { checkInt } from './validate.js';

export interface AlibiBias2dOptions extends Pick<TensorOptions, 'backend' | 'dtype'> {
  /** Tokens before the patches, whose rows and columns stay 0 (default 0). */
  readonly numPrefixTokens?: number;
}

/** The bias (1, H, N, N), N = prefix + H W, entry [0, h, i, j] = -m_h * distance(patch i, patch j). */
export function alibiBias2d(numHeads: number, gridSize: GridSize, opts: AlibiBias2dOptions = {}): Tensor {
  const op = 'alibiBias2d';
  const slopes = alibiSlopes(checkInt(op, 'numHeads', numHeads));
  const [gh, gw] = resolveGrid(op, 'gridSize', gridSize);
  const p = checkInt(op, 'opts.numPrefixTokens', opts.numPrefixTokens ?? 0, 0);
  const patches = gh * gw;
  const n = p + patches;
  const out = new Float64Array(numHeads * n * n);
  for (let h = 0; h < numHeads; h++) {
    for (let a = 0; a < patches; a++) {
      for (let b = 0; b < patches; b++) {
        const dist = Math.hypot(Math.floor(a / gw) - Math.floor(b / gw), (a % gw) - (b % gw));
        out[(h * n + p + a) * n + p + b] = -slopes[h] * dist;
      }
    }
  }
  const dtype = opts.dtype ?? 'float32';
  return tensor(dtype === 'float64' ? out : Float32Array.from(out), { shape: [1, numHeads, n, n], dtype, backend: opts.backend }); // (1, H, N, N)
}
