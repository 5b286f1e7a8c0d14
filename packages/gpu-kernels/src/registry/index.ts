export { BACKEND_NAMES, isBackendName } from './backend-names.js';
export {
  BackendRegistry,
  type BackendFactory,
  type BackendInfo,
  type BackendListing,
  type BackendRegistration,
  type BackendRegistryOptions,
} from './backend-registry.js';
export {
  REFERENCE_PRIORITY,
  backendInfo,
  getBackend,
  getBackendByName,
  listBackends,
  loadBackend,
  probeBackends,
  ready,
  registerBackend,
  setBackend,
  setBackendSync,
} from './default-registry.js';
