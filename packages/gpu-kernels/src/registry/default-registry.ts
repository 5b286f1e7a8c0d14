import type { Backend, BackendName } from '../types.js';
import * as gpujs from '../gpujs/index.js';
import { createReferenceBackend } from '../reference/backend.js';
import * as wasm from '../wasm/index.js';
import {
  BackendRegistry,
  type BackendFactory,
  type BackendInfo,
  type BackendListing,
  type BackendRegistration,
} from './backend-registry.js';

/** The reference backend's priority: below every other backend, so it is the default only when nothing else runs. */
export const REFERENCE_PRIORITY = 0;

let registry: BackendRegistry | null = null;

/**
 * The process-wide registry, created on first use so importing the package has no side effects. It registers
 * the reference backend, then lets the wasm and gpu.js modules register theirs through the same `registerBackend`
 * (each module exports a registration function; a module that does not export it yet is skipped).
 */
function defaultRegistry(): BackendRegistry {
  if (registry) return registry;
  const created = new BackendRegistry();
  registry = created;
  created.registerBackend('reference', createReferenceBackend, { priority: REFERENCE_PRIORITY, sync: true });
  const register = (name: BackendName, factory: BackendFactory, options: BackendRegistration) =>
    created.registerBackend(name, factory, options);
  const registerWasm = (wasm as Record<string, unknown>)['registerWasmBackend'];
  if (typeof registerWasm === 'function') registerWasm(register);
  const registerGpujs = (gpujs as Record<string, unknown>)['registerGpujsBackends'];
  if (typeof registerGpujs === 'function') registerGpujs(register);
  return created;
}

/**
 * Register (or replace) a backend. `priority` orders the default choice (higher first; the reference backend is
 * 0), `sync` says whether the factory and kernels are synchronous, and `available` is a cheap environment check.
 */
export function registerBackend(name: BackendName, factory: BackendFactory, options: BackendRegistration): void {
  defaultRegistry().registerBackend(name, factory, options);
}

/**
 * The active backend. The first call picks one: FORMERS_BACKEND if set (in Node), else the highest-priority
 * synchronous backend that starts. A backend that fails to start falls back to the next one, with one
 * console.warn and the reason in `backendInfo()`.
 */
export function getBackend(): Backend {
  return defaultRegistry().getBackend();
}

/** Switch the active backend, awaiting an asynchronous initialisation (webgpu). Falls back as `getBackend` does. */
export function setBackend(name: BackendName): Promise<Backend> {
  return defaultRegistry().setBackend(name);
}

/** Switch the active backend synchronously; throws for a backend that only initialises asynchronously. */
export function setBackendSync(name: BackendName): Backend {
  return defaultRegistry().setBackendSync(name);
}

/** The active backend once it is ready (awaits a pending `setBackend` or an asynchronous FORMERS_BACKEND). */
export function ready(): Promise<Backend> {
  return defaultRegistry().ready();
}

/** A specific synchronous backend (or one already loaded), created on first use, without making it active. */
export function getBackendByName(name: BackendName): Backend {
  return defaultRegistry().getBackendByName(name);
}

/** A specific backend, awaiting its initialisation, without making it active. */
export function loadBackend(name: BackendName): Promise<Backend> {
  return defaultRegistry().loadBackend(name);
}

/** Every known backend name: registered, available here (null when only an async check can tell), sync. */
export function listBackends(): BackendListing[] {
  return defaultRegistry().listBackends();
}

/** `listBackends` with asynchronous availability checks resolved. */
export function probeBackends(): Promise<BackendListing[]> {
  return defaultRegistry().probeBackends();
}

/** Requested backend, active backend and the fallback reason (null when the request was honoured). */
export function backendInfo(): BackendInfo {
  return defaultRegistry().backendInfo();
}
