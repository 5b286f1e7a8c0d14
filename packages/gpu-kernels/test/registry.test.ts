import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  BackendRegistry,
  backendInfo,
  createReferenceBackend,
  getBackend,
  getBackendByName,
  listBackends,
  type Backend,
  type BackendName,
} from '@formers/gpu-kernels';

/** A reference backend relabelled, so each test can tell which registration answered. */
function fake(name: BackendName, sync = true): Backend {
  return { ...createReferenceBackend(), name, sync };
}

function registry(env?: string) {
  const warn = vi.fn<(message: string) => void>();
  const r = new BackendRegistry({ env: () => env, warn });
  r.registerBackend('reference', () => createReferenceBackend(), { priority: 0, sync: true });
  return { r, warn };
}

describe('BackendRegistry', () => {
  it('picks the highest-priority synchronous backend by default, skipping async ones', () => {
    const { r, warn } = registry();
    r.registerBackend('cpu', () => fake('cpu'), { priority: 10, sync: true });
    r.registerBackend('wasm', () => fake('wasm'), { priority: 20, sync: true });
    r.registerBackend('webgpu', async () => fake('webgpu', false), { priority: 100, sync: false });
    expect(r.getBackend().name).toBe('wasm');
    expect(r.backendInfo()).toEqual({ requested: null, active: 'wasm', fallbackReason: null });
    expect(warn).not.toHaveBeenCalled();
  });

  it('falls back past a default whose factory throws, and reports it once', () => {
    const { r, warn } = registry();
    r.registerBackend('wasm', () => {
      throw new Error('WebAssembly.compile failed');
    }, { priority: 20, sync: true });
    expect(r.getBackend().name).toBe('reference');
    expect(r.backendInfo().fallbackReason).toContain('WebAssembly.compile failed');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('skips an unavailable default quietly', () => {
    const { r, warn } = registry();
    r.registerBackend('headlessgl', () => fake('headlessgl'), { priority: 30, sync: true, available: () => false });
    expect(r.getBackend().name).toBe('reference');
    expect(r.backendInfo().fallbackReason).toBeNull();
    expect(warn).not.toHaveBeenCalled();
  });

  it('honours FORMERS_BACKEND', () => {
    const { r } = registry('cpu');
    r.registerBackend('cpu', () => fake('cpu'), { priority: 10, sync: true });
    r.registerBackend('wasm', () => fake('wasm'), { priority: 20, sync: true });
    expect(r.getBackend().name).toBe('cpu');
    expect(r.backendInfo()).toEqual({ requested: 'cpu', active: 'cpu', fallbackReason: null });
  });

  it('rejects an unknown FORMERS_BACKEND, naming the variable and the choices', () => {
    const { r } = registry('cuda');
    expect(() => r.getBackend()).toThrow('FORMERS_BACKEND: unknown backend "cuda"; expected one of reference');
  });

  it('falls back when the requested backend fails, warns once naming both, and records the reason', () => {
    const { r, warn } = registry('cpu');
    r.registerBackend('cpu', () => {
      throw new Error('gpu.js failed to load');
    }, { priority: 10, sync: true });
    r.registerBackend('wasm', () => fake('wasm'), { priority: 20, sync: true });
    expect(r.getBackend().name).toBe('wasm');
    expect(r.backendInfo()).toEqual({ requested: 'cpu', active: 'wasm', fallbackReason: '"cpu": gpu.js failed to load' });
    expect(() => r.setBackendSync('cpu')).not.toThrow();
    expect(r.getBackend().name).toBe('wasm');
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/"cpu" was requested, using "wasm" instead: "cpu": gpu\.js failed to load/);
  });

  it('throws for unknown and unregistered names with the list of registered ones', async () => {
    const { r } = registry();
    r.registerBackend('wasm', () => fake('wasm'), { priority: 20, sync: true });
    await expect(r.setBackend('x' as BackendName)).rejects.toThrow(
      'setBackend: unknown backend "x"; expected one of wasm, reference',
    );
    expect(() => r.setBackendSync('webgl2')).toThrow(
      'setBackendSync: backend "webgl2" is not registered in this environment; expected one of wasm, reference',
    );
    expect(() => r.getBackendByName('nope' as BackendName)).toThrow('getBackendByName: unknown backend "nope"');
  });

  it('switches synchronously, and refuses setBackendSync for an async-only backend', () => {
    const { r } = registry();
    r.registerBackend('cpu', () => fake('cpu'), { priority: 10, sync: true });
    r.registerBackend('webgpu', async () => fake('webgpu', false), { priority: 100, sync: false });
    expect(r.setBackendSync('reference').name).toBe('reference');
    expect(r.getBackend().name).toBe('reference');
    expect(() => r.setBackendSync('webgpu')).toThrow(
      'setBackendSync: backend "webgpu" initialises asynchronously; use `await setBackend("webgpu")` instead',
    );
  });

  it('initialises an async backend with setBackend, and ready() waits for it', async () => {
    const { r } = registry();
    r.registerBackend('webgpu', async () => fake('webgpu', false), { priority: 100, sync: false });
    const pending = r.setBackend('webgpu');
    const readied = r.ready();
    expect((await pending).name).toBe('webgpu');
    expect((await readied).name).toBe('webgpu');
    expect(r.backendInfo()).toEqual({ requested: 'webgpu', active: 'webgpu', fallbackReason: null });
  });

  it('ready() honours an async FORMERS_BACKEND, and an async failure falls back with the reason', async () => {
    const ok = registry('webgpu');
    ok.r.registerBackend('webgpu', async () => fake('webgpu', false), { priority: 100, sync: false });
    expect((await ok.r.ready()).name).toBe('webgpu');

    const bad = registry('webgpu');
    bad.r.registerBackend('webgpu', async () => fake('webgpu', false), {
      priority: 100,
      sync: false,
      available: async () => false,
    });
    expect((await bad.r.ready()).name).toBe('reference');
    expect(bad.r.backendInfo()).toEqual({
      requested: 'webgpu',
      active: 'reference',
      fallbackReason: '"webgpu": not available in this environment',
    });
    expect(bad.warn).toHaveBeenCalledTimes(1);
  });

  it('getBackend() with an async FORMERS_BACKEND falls back to a sync backend and says why', () => {
    const { r, warn } = registry('webgpu');
    r.registerBackend('webgpu', async () => fake('webgpu', false), { priority: 100, sync: false });
    expect(r.getBackend().name).toBe('reference');
    expect(r.backendInfo().fallbackReason).toContain('initialises asynchronously');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('lists every known backend with registration, availability and sync', () => {
    const { r } = registry();
    r.registerBackend('headlessgl', () => fake('headlessgl'), { priority: 30, sync: true, available: () => false });
    r.registerBackend('webgpu', async () => fake('webgpu', false), { priority: 100, sync: false, available: async () => true });
    const byName = Object.fromEntries(r.listBackends().map((l) => [l.name, l]));
    expect(byName.reference).toMatchObject({ registered: true, available: true, sync: true });
    expect(byName.headlessgl).toMatchObject({ registered: true, available: false, sync: true });
    expect(byName.webgpu).toMatchObject({ registered: true, available: null, sync: false });
    expect(byName.webgl2).toMatchObject({ registered: false, available: false });
    expect(r.listBackends()).toHaveLength(7);
  });

  it('getBackendByName creates a backend without making it active', () => {
    const { r } = registry();
    r.registerBackend('cpu', () => fake('cpu'), { priority: -1, sync: true });
    expect(r.getBackendByName('cpu').name).toBe('cpu');
    expect(r.getBackend().name).toBe('reference');
    expect(r.getBackendByName('cpu')).toBe(r.getBackendByName('cpu'));
  });

  it('validates registrations', () => {
    const { r } = registry();
    expect(() => r.registerBackend('tpu' as BackendName, () => fake('cpu'), { priority: 1, sync: true })).toThrow(
      'registerBackend: unknown backend name "tpu"',
    );
    expect(() => r.registerBackend('cpu', () => fake('cpu'), { priority: Number.NaN, sync: true })).toThrow(
      'registerBackend: expected options.priority for "cpu" to be a number',
    );
  });
});

describe('the default registry', () => {
  const saved = process.env.FORMERS_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.FORMERS_BACKEND;
    else process.env.FORMERS_BACKEND = saved;
  });

  it('registers the reference backend at the lowest priority, synchronous', () => {
    const reference = listBackends().find((l) => l.name === 'reference');
    expect(reference).toMatchObject({ registered: true, sync: true, priority: 0 });
    const priorities = listBackends().filter((l) => l.registered).map((l) => l.priority ?? 0);
    expect(Math.min(...priorities)).toBe(0);
    expect(getBackendByName('reference').name).toBe('reference');
  });

  it('has an active synchronous backend and reports it', () => {
    const active = getBackend();
    expect(active.sync).toBe(true);
    expect(backendInfo().active).toBe(active.name);
  });
});
