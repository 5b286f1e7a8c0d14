import { createGpujsThreadedWebasmBackend } from '../src/gpujs/index.js';
import { defineConformanceSuite } from './conformance/suite.js';
import { expectNoGpujsDegradation } from './gpujs-degradation.js';

// gpu.js webasm under its async contract: every kernel returns a Promise, and kernels with at least 4096 outputs
// (the large cases here) split over a worker_threads pool. Same suite, same float32 tolerances.
const made = expectNoGpujsDegradation('webasm (threads)');
defineConformanceSuite('gpujs webasm threads', async () => made.track(await createGpujsThreadedWebasmBackend({ warn: () => {} })), {
  dtypes: ['float32', 'int32'],
});
