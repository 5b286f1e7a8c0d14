/**
 * The position-encoding choice of a `VisionTransformer`, as a discriminated union (a bare string is shorthand for
 * `{ type }` with defaults):
 *
 * - `'none'`: no position information (a bag of patches; Dosovitskiy et al. 2021, table in appendix D.4).
 * - `'learned'`: ViT's learned absolute table `pos_embed`, resampled bicubically (timm's resample_abs_pos_embed)
 *   when the patch grid differs from the one it was built for.
 * - `'sincos2d'`: the fixed 2-D sin-cos table of MAE / MoCo v3, recomputed for every grid (no parameters).
 * - `'rope2d'`: 2-D rotary embedding of q and k in every block (Heo et al. 2024), `'axial'` or `'mixed'`.
 * - `'peg'`: CPVT's Position Encoding Generator (Chu et al. 2023), a depthwise conv with zero padding applied
 *   after the blocks listed in `positions` (default [0], after the first block, as CPVT).
 */
import { checkInt, checkOneOf } from './validate.js';

export type PositionEncodingType = 'none' | 'learned' | 'sincos2d' | 'rope2d' | 'peg';

export type PositionEncodingConfig =
  | { readonly type: 'none' }
  | { readonly type: 'learned' }
  | { readonly type: 'sincos2d'; readonly base?: number }
  | { readonly type: 'rope2d'; readonly mode?: 'axial' | 'mixed'; readonly base?: number }
  | { readonly type: 'peg'; readonly positions?: readonly number[]; readonly kernelSize?: number };

export type PositionEncodingOption = PositionEncodingType | PositionEncodingConfig;

export const POSITION_ENCODING_TYPES: readonly PositionEncodingType[] = ['none', 'learned', 'sincos2d', 'rope2d', 'peg'];

/** The option as a config object, checked; `depth` bounds the PEG positions. */
export function resolvePositionEncoding(op: string, option: PositionEncodingOption | undefined, depth: number): PositionEncodingConfig {
  const cfg: PositionEncodingConfig = typeof option === 'string' || option === undefined ? ({ type: option ?? 'learned' } as PositionEncodingConfig) : option;
  if (cfg === null || typeof cfg !== 'object') throw new Error(`${op}: expected opts.posEncoding to be a string or { type, ... }; got ${JSON.stringify(option)}`);
  checkOneOf(op, 'opts.posEncoding.type', cfg.type, POSITION_ENCODING_TYPES);
  if (cfg.type === 'peg') {
    const positions = cfg.positions ?? [0];
    if (!Array.isArray(positions) || positions.length === 0) {
      throw new Error(`${op}: expected opts.posEncoding.positions to be a non-empty array of block indices; got ${JSON.stringify(cfg.positions)}`);
    }
    positions.forEach((p, i) => {
      checkInt(op, `opts.posEncoding.positions[${i}]`, p, 0);
      if (p >= depth) throw new Error(`${op}: expected opts.posEncoding.positions[${i}] < depth (${depth}); got ${p}`);
    });
    if (new Set(positions).size !== positions.length) throw new Error(`${op}: expected distinct opts.posEncoding.positions; got ${JSON.stringify(positions)}`);
    return { ...cfg, positions: [...positions].sort((a, b) => a - b) };
  }
  if (cfg.type === 'rope2d') checkOneOf(op, 'opts.posEncoding.mode', cfg.mode ?? 'axial', ['axial', 'mixed']);
  return cfg;
}
