export { Tensor, resolveBackend, type BackendLike, type TensorLike, type NestedArray, type Storage } from './tensor.js';
export type { DType } from '@formers/gpu-kernels';
export {
  tensor,
  scalar,
  full,
  zeros,
  ones,
  fullLike,
  zerosLike,
  onesLike,
  arange,
  linspace,
  eye,
  rand,
  randn,
  randint,
  randLike,
  randnLike,
  randperm,
  uniform,
  normal,
  type TensorOptions,
  type RandomOptions,
} from './creation.js';
export { Generator, manualSeed, defaultGenerator } from './random.js';
export { isGradEnabled, setGradEnabled, noGrad, enableGrad } from './grad-mode.js';
export { backward, grad, record, record1, needsGrad, Node, type BackwardFn, type BackwardOptions } from './autograd.js';
export { tidy, keep } from './scope.js';
export { broadcastShapes, numelOf, contiguousStrides } from './shape.js';
export * from './ops/elementwise.js';
export * from './ops/views.js';
export * from './ops/reduce.js';
export * from './ops/matmul.js';
export * from './ops/softmax.js';
export * from './ops/join.js';
export * from './ops/indexing.js';
export * from './ops/scan.js';
export { layerNorm, rmsNorm, type LayerNormOptions as LayerNormFnOptions, type RmsNormOptions } from './ops/normalization.js';
export { conv1d, conv2d, type ConvPadding, type Conv1dOptions as Conv1dFnOptions, type Conv2dOptions as Conv2dFnOptions } from './ops/conv.js';
export * from './ops/dropout.js';
export * from './ops/fft.js';
export * from './ops/interpolate.js';
export * from './complex.js';
export * from './nn/index.js';
/** torch.nn-style namespace: `new nn.Linear(4, 8)`, `nn.init.truncNormal_(w)`. */
export * as nn from './nn/index.js';
/** torch.optim-style namespace. */
export * as optim from './optim/index.js';
export * from './optim/index.js';
export * from './losses/index.js';
export * from './io/index.js';
export { gradcheck, assertGradcheck, type GradcheckOptions, type GradcheckResult, type GradcheckOutput } from './gradcheck.js';
export { F } from './functional.js';
