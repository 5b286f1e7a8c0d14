export { type Reduction } from './reduction.js';
export { crossEntropy, type CrossEntropyOptions } from './cross-entropy.js';
export { binaryCrossEntropyWithLogits, type BCEWithLogitsOptions } from './binary-cross-entropy.js';
export { mseLoss } from './mse.js';
export { CrossEntropyLoss, BCEWithLogitsLoss, MSELoss } from './loss-modules.js';
