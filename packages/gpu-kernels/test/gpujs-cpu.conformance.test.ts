import { createGpujsBackend } from '../src/gpujs/index.js';
import { defineConformanceSuite } from './conformance/suite.js';
import { expectNoGpujsDegradation } from './gpujs-degradation.js';

// gpu.js cpu mode: the generated kernels run as plain JavaScript. The same suite as every backend, with the
// project's float32 tolerances. float64 is not offered (see gpujs-backend.test.ts for its error); int32 runs the
// casts and argmax/argmin on gpu.js and the int32 arithmetic delegated to the reference (listed in fallbacks).
const made = expectNoGpujsDegradation('cpu');
defineConformanceSuite('gpujs cpu', () => made.track(createGpujsBackend('cpu', { warn: () => {} })), { dtypes: ['float32', 'int32'] });
