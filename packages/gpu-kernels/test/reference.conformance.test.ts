import { createReferenceBackend } from '@formers/gpu-kernels';
import { createNaiveBackend } from './conformance/naive-backend.js';
import { defineConformanceSuite } from './conformance/suite.js';

// The reference backend is the oracle for every other backend, so here it is checked against an independent,
// deliberately naive implementation (naive DFT, gather-form convolutions, closed-form recurrence, O(T^2) prefix
// sums, erf by quadrature) rather than against itself.
defineConformanceSuite('reference', createReferenceBackend, {
  dtypes: ['float32', 'float64', 'int32'],
  against: createNaiveBackend,
  // The oracle's erf is Simpson quadrature (4000 steps per value): far too slow for 1e5 elements. gelu's math is
  // checked by the small cases, and indexing at scale by the large identity/exp cases.
  skip: ['unary/gelu/float32/large', 'unary/gelu/float64/large'],
});
