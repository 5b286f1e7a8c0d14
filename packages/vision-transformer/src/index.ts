export { PatchEmbed, type PatchEmbedOptions, type PatchEmbedOutput } from './patch-embed.js';
export { DropPath, type DropPathOptions } from './drop-path.js';
export { LayerScale, type LayerScaleOptions } from './layer-scale.js';
export { Attention, type AttentionOptions, type AttentionCoreLike, type QK2dTransform, type TokenLayout } from './attention.js';
export { Block, type BlockOptions } from './block.js';
export {
  resolvePositionEncoding,
  POSITION_ENCODING_TYPES,
  type PositionEncodingType,
  type PositionEncodingConfig,
  type PositionEncodingOption,
} from './position-encoding-config.js';
export {
  VisionTransformer,
  type VisionTransformerOptions,
  type VisionTransformerFeatures,
  type GlobalPool,
  type AttentionOption,
} from './vision-transformer.js';
export { MODEL_CONFIGS, MODEL_NAMES, createModel, type ModelName } from './configs.js';
export { SyntheticShapes, SHAPES, TEXTURES, stackImages, type Scene, type ShapeName, type TextureName, type RenderedImage, type SyntheticShapesOptions } from './synthetic-shapes.js';
export { IMAGENET_MEAN, IMAGENET_STD, normalize, randomHorizontalFlip, randomResizedCrop, resizedCrop, type RandomResizedCropOptions } from './transforms.js';
export { decodeImage, toRgbFloat, evalTransform, type DecodedImage, type EvalTransformOptions } from './image-io.js';
export { saveCheckpoint, loadCheckpoint, CHECKPOINT_FORMAT, type CheckpointExtra } from './checkpoint.js';
export { createProgress, type ProgressReporter } from './progress.js';
export { Trainer, type TrainerOptions, type StepResult, type ImageDataset, type ImageClassifier } from './trainer.js';
