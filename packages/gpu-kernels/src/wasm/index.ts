export { createWasmBackend, registerWasmBackend, type WasmBackend, type WasmBackendOptions } from './backend.js';
export type { WasmFeatures } from './features.js';
