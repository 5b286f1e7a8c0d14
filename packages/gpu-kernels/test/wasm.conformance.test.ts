import { createWasmBackend } from '../src/wasm/index.js';
import { defineConformanceSuite } from './conformance/suite.js';

// The wasm backend's float32 matmul is its own packed GEMM (checked here and in wasm-gemm.test.ts); every other
// kernel is the reference one by design, so the suite mostly proves the delegation is wired correctly.
defineConformanceSuite('wasm', () => createWasmBackend(), { dtypes: ['float32', 'float64', 'int32'] });

// One thread means an unshared memory, so no result is resident: every kernel stages its operands through scratch
// (the path browsers without cross-origin isolation take). The default backend above reads uploads and results
// in place.
defineConformanceSuite('wasm, one thread (staged operands)', () => createWasmBackend({ threads: 1 }), { dtypes: ['float32', 'float64', 'int32'] });
