/**
 * Named model configurations. The ViT sizes are timm's (`vit_tiny_patch16_224` = DeiT-Ti width, etc.); CPVT-Ti is
 * DeiT-Ti with a PEG after block 0 and the learned table removed (Chu et al. 2023, table 1), and CPVT-Ti-GAP
 * also drops the class token for global average pooling (their best variant, section 4.2). The `*_test` configs
 * are tiny models for tests, demos and the CPVT experiment.
 */
import { VisionTransformer, type VisionTransformerOptions } from './vision-transformer.js';

const VIT_TI = { embedDim: 192, depth: 12, numHeads: 3 } as const;

export const MODEL_CONFIGS = {
  vit_tiny_patch16_224: { imgSize: 224, patchSize: 16, ...VIT_TI },
  vit_small_patch16_224: { imgSize: 224, patchSize: 16, embedDim: 384, depth: 12, numHeads: 6 },
  vit_base_patch16_224: { imgSize: 224, patchSize: 16, embedDim: 768, depth: 12, numHeads: 12 },
  cpvt_ti: { imgSize: 224, patchSize: 16, ...VIT_TI, posEncoding: { type: 'peg', positions: [0] } },
  cpvt_ti_gap: { imgSize: 224, patchSize: 16, ...VIT_TI, posEncoding: { type: 'peg', positions: [0] }, classToken: false, globalPool: 'avg' },
  /** 32 px, 4 px patches (8 x 8 grid), D 32, 2 blocks: small enough for unit tests. */
  vit_test: { imgSize: 32, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, numClasses: 10 },
  /** The CPVT-GAP layout at test size. */
  cpvt_test_gap: { imgSize: 32, patchSize: 4, embedDim: 32, depth: 2, numHeads: 2, numClasses: 10, posEncoding: 'peg', classToken: false, globalPool: 'avg' },
} as const satisfies Record<string, VisionTransformerOptions>;

export type ModelName = keyof typeof MODEL_CONFIGS;

export const MODEL_NAMES = Object.keys(MODEL_CONFIGS) as ModelName[];

/** Build a named model; `overrides` replace any option (numClasses, posEncoding, attention, dtype, ...). */
export function createModel(name: ModelName, overrides: VisionTransformerOptions = {}): VisionTransformer {
  const base = (MODEL_CONFIGS as Record<string, VisionTransformerOptions>)[name];
  if (!base) throw new Error(`createModel: expected name to be one of ${MODEL_NAMES.join(', ')}; got ${JSON.stringify(name)}`);
  return new VisionTransformer({ ...base, ...overrides });
}
