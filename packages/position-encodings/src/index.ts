export { t5RelativePositionBucket, t5RelativePositionBuckets, type T5BucketOptions, type T5BucketGridOptions } from './t5-bucket.js';
export { T5RelativePositionBias, type T5RelativePositionBiasOptions } from './t5-relative-position-bias.js';
export { T5RelativePositionBias2d, type T5RelativePositionBias2dOptions } from './t5-relative-position-bias-2d.js';
export { alibiSlopes, alibiBias, ALiBi, type AlibiBiasOptions, type ALiBiOptions } from './alibi.js';
export {
  sinusoidalTableHost,
  sinusoidalPositionEncoding,
  SinusoidalPositionalEncoding,
  type SinusoidalLayout,
  type SinusoidalOptions,
  type SinusoidalPositionalEncodingOptions,
} from './sinusoidal.js';
export { sinCos2dPositionEncoding, type SinCos2dOptions, type GridSize } from './sincos-2d.js';
export { ropeParameters, type RopeScaling, type RopeScalingType, type RopeParameters } from './rope-parameters.js';
export { applyRotary, rotateHalf, rotateInterleaved, type RotaryLayout } from './rotary.js';
export { RotaryEmbedding, type RotaryEmbeddingOptions, type RotaryPositionOptions } from './rotary-embedding.js';
export {
  RotaryEmbedding2d,
  type Rotary2dMode,
  type RotaryEmbedding2dOptions,
  type RotaryEmbedding2dForwardOptions,
} from './rotary-embedding-2d.js';
export { LearnedPositionalEmbedding, type LearnedPositionalEmbeddingOptions } from './learned-positional-embedding.js';
export { LearnedPositionalEmbedding2d, type LearnedPositionalEmbedding2dOptions } from './learned-positional-embedding-2d.js';
export { resampleAbsPosEmbed, type ResampleAbsPosEmbedOptions } from './resample-abs-pos-embed.js';
export type { TableOptions } from './host-tensor.js';
export { PositionEncodingGenerator, type PositionEncodingGeneratorOptions } from './peg.js';
export { PositionEncodingGenerator1d, type PositionEncodingGenerator1dOptions } from './peg-1d.js';
export { ropeLinearAttention, type RopeLinearAttentionOptions } from './rope-linear-attention.js';
export { FloaterPositionEncoding, type FloaterOptions } from './floater.js';
export { MultiplicativePositionalEmbedding, type MultiplicativePositionalEmbeddingOptions } from './multiplicative.js';
export {
  ShawRelativePosition,
  shawRelativeIndex,
  type ShawRelativePositionOptions,
  type ShawAttentionOptions,
} from './shaw-relative-position.js';
export { ShawRelativePosition2d, type ShawAttention2dOptions } from './shaw-relative-position-2d.js';
export { TransformerXLRelativePosition, relShift, type TransformerXLRelativePositionOptions } from './transformer-xl-relative.js';
export {
  DebertaRelativeAttention,
  debertaLogBucketPosition,
  type DebertaPositionTerm,
  type DebertaRelativeAttentionOptions,
} from './deberta-relative.js';
export { DebertaRelativeAttention2d } from './deberta-relative-2d.js';
export { ComplexOrderEmbedding, type ComplexOrderEmbeddingOptions } from './complex-order-embedding.js';
export { RelativePositionBias2d, relativePositionIndex2d, type RelativePositionBias2dOptions } from './relative-position-bias-2d.js';
export { alibiBias2d, type AlibiBias2dOptions } from './alibi-2d.js';
export { gridOffsets2d, type GridOptions, type PlacementOptions } from './grid-2d.js';
