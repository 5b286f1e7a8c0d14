export { createReferenceBackend, referenceBackend } from './backend.js';
export { viewOffsets, isContiguous, sizeOf } from './strided.js';
export { erf, erfc } from './erf.js';
export type { SyncBackend, SyncKernels } from './sync-backend.js';
