export {
  Optimizer,
  type BaseOptimizerOptions,
  type OptimizerStateDict,
  type ParamGroup,
  type ParamGroupInput,
  type ParamState,
  type ParamsInput,
} from './optimizer.js';
export { SGD, type SGDOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { clipGradNorm_, type ClipGradNormOptions } from './clip-grad.js';
export {
  LRScheduler,
  LambdaLR,
  CosineAnnealingLR,
  cosineWithWarmup,
  cosineWithWarmupLr,
  type CosineWithWarmupOptions,
} from './lr-scheduler.js';
