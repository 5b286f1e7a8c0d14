export * from './types.js';
export {
  createReferenceBackend,
  isContiguous,
  referenceBackend,
  viewOffsets,
  type SyncBackend,
  type SyncKernels,
} from './reference/index.js';
export * from './registry/index.js';
export * from './gpujs/index.js';
