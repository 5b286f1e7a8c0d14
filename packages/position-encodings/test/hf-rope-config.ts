/** HF rope_scaling configs (torch-side names, as the golden cases store them) to our ropeParameters options. */
import type { RopeScaling } from '../src/index.js';

export type HfRopeConfig = Record<string, number | string | boolean | undefined>;

/** The HF-style config of a golden case as our options. */
export function hfRopeOptions(c: HfRopeConfig): { dim: number; base: number; scaling: RopeScaling; seqLen?: number } {
  const dim = c.dim as number;
  const base = c.base as number;
  const num = (k: string) => c[k] as number;
  switch (c.rope_type) {
    case 'default':
      return { dim, base, scaling: { type: 'default' } };
    case 'linear':
      return { dim, base, scaling: { type: 'linear', factor: num('factor') } };
    case 'dynamic':
      return { dim, base, seqLen: num('seq_len'), scaling: { type: 'dynamic', factor: num('factor'), maxPositionEmbeddings: num('max_position_embeddings') } };
    case 'yarn':
      return {
        dim,
        base,
        scaling: {
          type: 'yarn',
          factor: num('factor'),
          maxPositionEmbeddings: num('max_position_embeddings'),
          originalMaxPositionEmbeddings: c.original_max_position_embeddings as number | undefined,
          betaFast: c.beta_fast as number | undefined,
          betaSlow: c.beta_slow as number | undefined,
          mscale: c.mscale as number | undefined,
          mscaleAllDim: c.mscale_all_dim as number | undefined,
          truncate: c.truncate as boolean | undefined,
        },
      };
    case 'llama3':
      return {
        dim,
        base,
        scaling: {
          type: 'llama3',
          factor: num('factor'),
          lowFreqFactor: num('low_freq_factor'),
          highFreqFactor: num('high_freq_factor'),
          originalMaxPositionEmbeddings: num('original_max_position_embeddings'),
        },
      };
    default:
      throw new Error(`unknown case type ${String(c.rope_type)}`);
  }
}

