export {
  Module,
  type StateDict,
  type StateDictLike,
  type LoadStateDictOptions,
  type LoadStateDictResult,
  type RegisterBufferOptions,
  type RegisterParameterOptions,
} from './module.js';
export { functionalCall } from './functional-call.js';
export { type FactoryOptions } from './factory.js';
export { Linear, type LinearOptions } from './linear.js';
export { Embedding, type EmbeddingOptions } from './embedding.js';
export { LayerNorm, type LayerNormLayerOptions } from './layer-norm.js';
export { RMSNorm, type RMSNormOptions } from './rms-norm.js';
export { Conv1d, Conv2d, type Conv1dLayerOptions, type Conv2dLayerOptions, type ConvLayerOptions, type PaddingMode } from './conv.js';
export { Dropout } from './dropout.js';
export { GELU, SiLU, ReLU, Tanh, Sigmoid, Identity, type GELUOptions } from './activation.js';
export { MLP, type MLPOptions } from './mlp.js';
export { Sequential, type TensorModule } from './sequential.js';
export { ModuleList } from './module-list.js';
export * as init from './init.js';
