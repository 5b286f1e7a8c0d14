import { createGpujsBackend } from '../src/gpujs/index.js';
import { defineConformanceSuite } from './conformance/suite.js';
import { expectNoGpujsDegradation } from './gpujs-degradation.js';

// gpu.js webasm mode (synchronous, single-threaded f32x4 SIMD): the generated kernels compile to WebAssembly and
// compute in true float32. The same suite as every backend, with the project's float32 tolerances.
const made = expectNoGpujsDegradation('webasm');
defineConformanceSuite('gpujs webasm', () => made.track(createGpujsBackend('webasm', { warn: () => {} })), { dtypes: ['float32', 'int32'] });
