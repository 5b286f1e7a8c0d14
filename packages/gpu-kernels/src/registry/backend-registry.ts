import type { Backend, BackendName } from '../types.js';
import { BACKEND_NAMES, isBackendName } from './backend-names.js';

/** Creates a backend; may be async (webgpu adapters, threaded wasm). */
export type BackendFactory = () => Backend | Promise<Backend>;

export interface BackendRegistration {
  /** Higher wins when formers picks the default; the reference backend registers the lowest. */
  readonly priority: number;
  /** True when the factory returns synchronously and every kernel is synchronous. */
  readonly sync: boolean;
  /** A cheap check that the environment can run this backend (a `gl` addon, `navigator.gpu`, ...). */
  readonly available?: () => boolean | Promise<boolean>;
}

export interface BackendListing {
  readonly name: BackendName;
  readonly registered: boolean;
  /**
   * Whether it can run here: true once created, false once its check or factory failed, the result of a
   * synchronous `available()` otherwise, and null when that is only known asynchronously (see `probeBackends`).
   */
  readonly available: boolean | null;
  readonly sync: boolean;
  readonly priority: number | null;
}

export interface BackendInfo {
  /** The backend asked for by `setBackend`/`setBackendSync` or FORMERS_BACKEND, or null for the default. */
  readonly requested: BackendName | null;
  /** The backend that actually runs the kernels. */
  readonly active: BackendName;
  /** Why the active backend is not the requested one (or not the highest-priority default), else null. */
  readonly fallbackReason: string | null;
}

export interface BackendRegistryOptions {
  /** Reads the FORMERS_BACKEND request; default: `globalThis.process?.env.FORMERS_BACKEND`. */
  readonly env?: () => string | undefined;
  /** Reports a fallback; default: console.warn. Called once per (requested, actual) pair. */
  readonly warn?: (message: string) => void;
}

interface Entry extends BackendRegistration {
  readonly name: BackendName;
  readonly factory: BackendFactory;
  readonly order: number;
}

/** Why a backend could not start: it was missing, unavailable, async-only where sync was needed, or it threw. */
interface Failure {
  readonly kind: 'unavailable' | 'async' | 'failed';
  readonly reason: string;
}

type Attempt = { backend: Backend } | { failure: Failure };

function isPromise<T>(x: unknown): x is Promise<T> {
  return typeof (x as { then?: unknown } | null)?.then === 'function';
}

function messageOf(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function defaultEnv(): string | undefined {
  const proc = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process;
  const value = proc?.env?.FORMERS_BACKEND;
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

/**
 * Which backend runs the kernels. Backends register a factory with a priority; the first `getBackend()` picks
 * FORMERS_BACKEND when it is set, else the highest-priority synchronous backend whose factory succeeds. A backend
 * that fails to start is never replaced silently: the fallback is warned about once and `backendInfo()` reports
 * the requested backend, the active one and the reason.
 */
export class BackendRegistry {
  private readonly entries = new Map<BackendName, Entry>();
  private readonly instances = new Map<BackendName, Backend>();
  private readonly failures = new Map<BackendName, Failure>();
  private readonly warned = new Set<string>();
  private readonly env: () => string | undefined;
  private readonly warn: (message: string) => void;
  private active: Backend | null = null;
  private info: BackendInfo | null = null;
  private pending: Promise<Backend> | null = null;
  private generation = 0;
  private registrations = 0;

  constructor(options: BackendRegistryOptions = {}) {
    this.env = options.env ?? defaultEnv;
    this.warn = options.warn ?? ((message) => console.warn(message));
  }

  /** Register (or replace) a backend factory under one of the known backend names. */
  registerBackend(name: BackendName, factory: BackendFactory, registration: BackendRegistration): void {
    if (!isBackendName(name)) {
      throw new Error(`registerBackend: unknown backend name "${String(name)}"; expected one of ${BACKEND_NAMES.join(', ')}`);
    }
    if (typeof factory !== 'function') {
      throw new Error(`registerBackend: expected factory for "${name}" to be a function; got ${typeof factory}`);
    }
    if (!registration || typeof registration.priority !== 'number' || Number.isNaN(registration.priority)) {
      throw new Error(`registerBackend: expected options.priority for "${name}" to be a number; got ${String(registration?.priority)}`);
    }
    if (typeof registration.sync !== 'boolean') {
      throw new Error(`registerBackend: expected options.sync for "${name}" to be a boolean; got ${String(registration.sync)}`);
    }
    this.entries.set(name, { ...registration, name, factory, order: this.registrations++ });
    this.instances.delete(name);
    this.failures.delete(name);
  }

  /** The active backend; on the first call, picks the default (see the class comment). */
  getBackend(): Backend {
    if (this.active) return this.active;
    const requested = this.requestFromEnv();
    return this.activateSync(requested, 'getBackend');
  }

  /** Make `name` the active backend, waiting for an asynchronous initialisation if it has one. */
  setBackend(name: BackendName): Promise<Backend> {
    try {
      this.validate(name, 'setBackend');
    } catch (e) {
      return Promise.reject(e);
    }
    const generation = ++this.generation;
    const promise = this.activateAsync(name, generation);
    this.pending = promise;
    const clear = () => {
      if (this.pending === promise) this.pending = null;
    };
    promise.then(clear, clear);
    return promise;
  }

  /** Make `name` the active backend now; throws for a backend that only initialises asynchronously. */
  setBackendSync(name: BackendName): Backend {
    const entry = this.validate(name, 'setBackendSync');
    if (!entry.sync) {
      throw new Error(
        `setBackendSync: backend "${name}" initialises asynchronously; use \`await setBackend("${name}")\` instead`,
      );
    }
    this.generation++;
    this.pending = null;
    return this.activateSync(name, 'setBackendSync');
  }

  /**
   * Resolves with the active backend once it is ready: waits for a `setBackend` in flight, and honours an
   * asynchronous FORMERS_BACKEND (e.g. webgpu) that `getBackend()` alone cannot start.
   */
  ready(): Promise<Backend> {
    if (this.pending) return this.pending;
    if (this.active) return Promise.resolve(this.active);
    const requested = this.requestFromEnv();
    if (requested && !this.entries.get(requested)?.sync) return this.setBackend(requested);
    try {
      return Promise.resolve(this.getBackend());
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /**
   * A specific backend, created on first use, without making it active (for conformance tests, benchmarks and
   * per-kernel delegation). Throws when it cannot start, and for an async backend not yet created by
   * `loadBackend`/`setBackend`.
   */
  getBackendByName(name: BackendName): Backend {
    const entry = this.validate(name, 'getBackendByName');
    const cached = this.instances.get(name);
    if (cached) return cached;
    if (!entry.sync) {
      throw new Error(
        `getBackendByName: backend "${name}" initialises asynchronously; use \`await loadBackend("${name}")\` first`,
      );
    }
    const attempt = this.trySync(name);
    if ('failure' in attempt) throw new Error(`getBackendByName: backend "${name}" failed to start: ${attempt.failure.reason}`);
    return attempt.backend;
  }

  /** Like `getBackendByName`, for any backend, waiting for an asynchronous initialisation. */
  async loadBackend(name: BackendName): Promise<Backend> {
    this.validate(name, 'loadBackend');
    const attempt = await this.tryAsync(name);
    if ('failure' in attempt) throw new Error(`loadBackend: backend "${name}" failed to start: ${attempt.failure.reason}`);
    return attempt.backend;
  }

  /** Every known backend name with whether it is registered, whether it can run here, and whether it is sync. */
  listBackends(): BackendListing[] {
    return BACKEND_NAMES.map((name) => {
      const entry = this.entries.get(name);
      if (!entry) return { name, registered: false, available: false, sync: false, priority: null };
      return { name, registered: true, available: this.knownAvailability(entry), sync: entry.sync, priority: entry.priority };
    });
  }

  /** Like `listBackends`, but resolves asynchronous availability checks first. Creates no backend. */
  async probeBackends(): Promise<BackendListing[]> {
    const listings = this.listBackends();
    return Promise.all(
      listings.map(async (l) => {
        if (l.available !== null) return l;
        const entry = this.entries.get(l.name)!;
        let available = false;
        try {
          available = (await entry.available!()) === true;
        } catch {
          available = false;
        }
        return { ...l, available };
      }),
    );
  }

  /** The requested backend, the active one and why they differ. Picks the default first if none is active. */
  backendInfo(): BackendInfo {
    this.getBackend();
    return this.info!;
  }

  // ---- internals ---------------------------------------------------------------------------------------------

  private knownAvailability(entry: Entry): boolean | null {
    if (this.instances.has(entry.name)) return true;
    if (this.failures.has(entry.name)) return false;
    if (!entry.available) return true;
    try {
      const r = entry.available();
      if (isPromise(r)) {
        (r as Promise<boolean>).catch(() => {});
        return null;
      }
      return r === true;
    } catch {
      return false;
    }
  }

  private registeredNames(): BackendName[] {
    return [...this.entries.values()]
      .sort((a, b) => b.priority - a.priority || a.order - b.order)
      .map((e) => e.name);
  }

  private validate(name: unknown, caller: string): Entry {
    const entry = isBackendName(name) ? this.entries.get(name) : undefined;
    if (!entry) {
      const what = isBackendName(name) ? `backend "${name}" is not registered in this environment` : `unknown backend "${String(name)}"`;
      throw new Error(`${caller}: ${what}; expected one of ${this.registeredNames().join(', ')}`);
    }
    return entry;
  }

  private requestFromEnv(): BackendName | null {
    const raw = this.env();
    if (raw === undefined) return null;
    this.validate(raw, 'FORMERS_BACKEND');
    return raw as BackendName;
  }

  private trySync(name: BackendName): Attempt {
    const cached = this.instances.get(name);
    if (cached) return { backend: cached };
    const failed = this.failures.get(name);
    if (failed) return { failure: failed };
    const entry = this.entries.get(name)!;
    if (!entry.sync) return { failure: { kind: 'async', reason: `"${name}" initialises asynchronously (use await setBackend)` } };
    try {
      if (entry.available) {
        const ok = entry.available();
        if (isPromise(ok)) {
          (ok as Promise<boolean>).catch(() => {});
          // The check is async although the backend is sync: the factory below is the real test.
        } else if (!ok) {
          return this.fail(name, { kind: 'unavailable', reason: 'not available in this environment' });
        }
      }
      const made = entry.factory();
      if (isPromise(made)) {
        (made as Promise<Backend>).catch(() => {});
        return this.fail(name, { kind: 'failed', reason: 'registered as sync but its factory returned a Promise' });
      }
      this.instances.set(name, made);
      return { backend: made };
    } catch (e) {
      return this.fail(name, { kind: 'failed', reason: messageOf(e) });
    }
  }

  private async tryAsync(name: BackendName): Promise<Attempt> {
    const cached = this.instances.get(name);
    if (cached) return { backend: cached };
    const failed = this.failures.get(name);
    if (failed) return { failure: failed };
    const entry = this.entries.get(name)!;
    try {
      if (entry.available && !(await entry.available())) {
        return this.fail(name, { kind: 'unavailable', reason: 'not available in this environment' });
      }
      const made = await entry.factory();
      this.instances.set(name, made);
      return { backend: made };
    } catch (e) {
      return this.fail(name, { kind: 'failed', reason: messageOf(e) });
    }
  }

  private fail(name: BackendName, failure: Failure): Attempt {
    this.failures.set(name, failure);
    return { failure };
  }

  /**
   * Start `requested` (or, for null, the default order), falling back down the priority order over synchronous
   * backends. In the default order a backend that is unavailable or async is skipped quietly, but one whose
   * factory throws is reported, since it was expected to work here.
   */
  private activateSync(requested: BackendName | null, caller: string): Backend {
    const order = this.registeredNames().filter((n) => n !== requested);
    const failures: string[] = [];
    const tryOne = (name: BackendName, isRequest: boolean): Backend | null => {
      const attempt = this.trySync(name);
      if ('backend' in attempt) return attempt.backend;
      if (isRequest || attempt.failure.kind === 'failed') failures.push(`"${name}": ${attempt.failure.reason}`);
      return null;
    };
    let backend = requested ? tryOne(requested, true) : null;
    let name = requested;
    for (const candidate of order) {
      if (backend) break;
      if (!this.entries.get(candidate)!.sync) continue;
      backend = tryOne(candidate, false);
      name = candidate;
    }
    if (!backend || !name) {
      throw new Error(`${caller}: no backend could start; ${failures.join('; ') || 'none is registered'}`);
    }
    this.commit(requested, name, backend, failures);
    return backend;
  }

  private async activateAsync(requested: BackendName, generation: number): Promise<Backend> {
    const failures: string[] = [];
    let backend: Backend | null = null;
    let active: BackendName = requested;
    for (const name of [requested, ...this.registeredNames().filter((n) => n !== requested)]) {
      const attempt = await this.tryAsync(name);
      if ('backend' in attempt) {
        backend = attempt.backend;
        active = name;
        break;
      }
      if (name === requested || attempt.failure.kind === 'failed') failures.push(`"${name}": ${attempt.failure.reason}`);
    }
    if (!backend) throw new Error(`setBackend: no backend could start; ${failures.join('; ')}`);
    // A later setBackend/setBackendSync wins over this one if it was called while this one was initialising.
    if (generation === this.generation) this.commit(requested, active, backend, failures);
    return backend;
  }

  private commit(requested: BackendName | null, name: BackendName, backend: Backend, failures: string[]): void {
    const fallbackReason = failures.length > 0 ? failures.join('; ') : null;
    this.active = backend;
    this.info = { requested, active: name, fallbackReason };
    if (fallbackReason !== null) {
      const key = `${requested ?? '(default)'}->${name}`;
      if (!this.warned.has(key)) {
        this.warned.add(key);
        const asked = requested ? `backend "${requested}" was requested` : 'the default backend could not start';
        this.warn(`formers: ${asked}, using "${name}" instead: ${fallbackReason}`);
      }
    }
  }
}
