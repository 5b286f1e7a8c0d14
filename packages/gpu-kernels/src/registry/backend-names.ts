import type { BackendName } from '../types.js';

/** Every backend name formers knows, in the order the docs list them. */
export const BACKEND_NAMES: readonly BackendName[] = [
  'reference',
  'wasm',
  'cpu',
  'webasm',
  'headlessgl',
  'webgl2',
  'webgpu',
];

export function isBackendName(name: unknown): name is BackendName {
  return typeof name === 'string' && (BACKEND_NAMES as readonly string[]).includes(name);
}
