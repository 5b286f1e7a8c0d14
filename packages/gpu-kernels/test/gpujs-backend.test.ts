import { describe, expect, it, vi } from 'vitest';
import { BackendRegistry, createReferenceBackend, type BackendName } from '@formers/gpu-kernels';
import {
  DELEGATED_KERNELS,
  GPUJS_PRIORITY,
  KernelCache,
  createGpujsBackend,
  createGpujsThreadedWebasmBackend,
  registerGpujsBackends,
  unavailableReason,
  type GpujsBackend,
} from '../src/gpujs/index.js';

function view(data: Float32Array | Int32Array, shape: number[], dtype: 'float32' | 'int32' = 'float32') {
  const strides = shape.map((_, d) => shape.slice(d + 1).reduce((s, n) => s * n, 1));
  return { data, dtype, shape, strides, offset: 0 } as const;
}

function make(mode: 'cpu' | 'webasm' = 'cpu') {
  const warn = vi.fn<(message: string) => void>();
  const backend = createGpujsBackend(mode, { warn });
  return { backend, warn };
}

describe('gpu.js backends: registration', () => {
  it('registers the five modes between wasm (100) and reference (0), webgpu as the only async one', () => {
    const r = new BackendRegistry({ env: () => undefined, warn: () => {} });
    r.registerBackend('reference', createReferenceBackend, { priority: 0, sync: true });
    registerGpujsBackends((name, factory, options) => r.registerBackend(name, factory, options));
    const byName = Object.fromEntries(r.listBackends().map((l) => [l.name, l]));
    for (const mode of ['cpu', 'webasm', 'headlessgl', 'webgl2', 'webgpu'] as BackendName[]) {
      expect(byName[mode].registered).toBe(true);
      expect(byName[mode].priority).toBeGreaterThan(0);
      expect(byName[mode].priority).toBeLessThan(100);
    }
    expect(byName.webgpu.sync).toBe(false);
    expect(byName.cpu.sync && byName.webasm.sync && byName.headlessgl.sync && byName.webgl2.sync).toBe(true);
    // Honest checks: cpu and webasm run anywhere with WebAssembly; webgl2 needs a browser; webgpu is only known
    // asynchronously; headlessgl depends on the addon and a display.
    expect(byName.cpu.available).toBe(true);
    expect(byName.webasm.available).toBe(true);
    expect(byName.webgl2.available).toBe(false);
    expect(byName.webgpu.available).toBeNull();
    expect(byName.headlessgl.available).toBe(unavailableReason('headlessgl') === null);
    expect(GPUJS_PRIORITY.webasm).toBeGreaterThan(GPUJS_PRIORITY.cpu);
  });

  it('is reachable through FORMERS_BACKEND-style requests on a registry', () => {
    const r = new BackendRegistry({ env: () => 'webasm', warn: () => {} });
    r.registerBackend('reference', createReferenceBackend, { priority: 0, sync: true });
    registerGpujsBackends((name, factory, options) => r.registerBackend(name, factory, options));
    expect(r.getBackend().name).toBe('webasm');
    expect(r.backendInfo()).toEqual({ requested: 'webasm', active: 'webasm', fallbackReason: null });
  });

  it('falls back visibly when webgl2 is requested outside a browser', () => {
    const warn = vi.fn<(message: string) => void>();
    const r = new BackendRegistry({ env: () => 'webgl2', warn });
    r.registerBackend('reference', createReferenceBackend, { priority: 0, sync: true });
    registerGpujsBackends((name, factory, options) => r.registerBackend(name, factory, options));
    expect(r.getBackend().name).not.toBe('webgl2');
    expect(r.backendInfo().fallbackReason).toContain('"webgl2"');
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('offers webasm threads under the async contract: kernels return Promises with the same values', async () => {
    const threaded = await createGpujsThreadedWebasmBackend({ warn: () => {} });
    const plain = createGpujsBackend('webasm', { warn: () => {} });
    expect(threaded.sync).toBe(false);
    expect(plain.sync).toBe(true);
    // 8192 outputs: past gpu.js's 4096-cell threshold for splitting over the worker pool.
    const data = Float32Array.from({ length: 8192 }, (_, i) => Math.sin(i));
    const x = { data, dtype: 'float32', shape: [8192], strides: [1], offset: 0 } as const;
    const pending = threaded.unary('tanh', x, 'float32');
    expect(pending).toBeInstanceOf(Promise);
    expect(Array.from(await pending)).toEqual(Array.from(plain.unary('tanh', x, 'float32') as Float32Array));
    expect(() => createGpujsBackend('webasm', { threads: true })).toThrow('use `await createGpujsThreadedWebasmBackend()`');
    threaded.destroy();
    plain.destroy();
  });

  it('refuses to create an unavailable mode, naming the reason', () => {
    expect(() => createGpujsBackend('webgl2')).toThrow('createGpujsBackend: gpu.js mode "webgl2" is not available: webgl2 runs only in a browser');
  });
});

describe('gpu.js backends: dtypes and errors', () => {
  it('lists float32 and int32 only, and refuses float64 with an error naming the backend', () => {
    const { backend } = make();
    expect(backend.dtypes).toEqual(['float32', 'int32']);
    expect(() => backend.upload(new Float64Array(2), 'float64')).toThrow(
      'cpu.upload: float64 is not supported by the "cpu" backend (gpu.js computes in float32)',
    );
    const x = backend.upload(new Float32Array(4), 'float32');
    expect(() => backend.matmul(x, x, 'float64', { batch: 1, m: 2, n: 2, k: 2, transA: false, transB: false, strideA: 4, strideB: 4 })).toThrow(
      /cpu\.matmul: float64 is not supported by the "cpu" backend.*Use the "reference" or "wasm" backend/,
    );
    expect(() => backend.softmax(x, 'int32', { outer: 1, size: 4, inner: 1 }, false)).toThrow('cpu.softmax: expected dtype float32; got int32');
    backend.destroy();
  });

  it('rejects buffers too short for their layout before any kernel runs', () => {
    const { backend } = make();
    const x = backend.upload(new Float32Array(3), 'float32');
    expect(() => backend.reduce('sum', x, 'float32', { outer: 1, size: 4, inner: 1 })).toThrow(
      'cpu.reduce: expected x to hold at least 4 elements; got 3',
    );
    expect(() => backend.unary('exp', { data: x, dtype: 'float32', shape: [2], strides: [3], offset: 0 }, 'float32')).toThrow(
      'cpu.unary: expected x to hold at least 4 elements; got 3',
    );
    expect(() => backend.unary('exp', { data: x, dtype: 'float32', shape: [2], strides: [-1], offset: 0 }, 'float32')).toThrow(
      'cpu.unary: x addresses element -1, outside its buffer',
    );
    backend.destroy();
  });

  it('refuses buffers past 2^24 elements on the float32-indexed modes instead of addressing them wrongly', () => {
    const { backend } = make('webasm');
    const x = backend.upload(new Float32Array([1]), 'float32');
    const huge = { data: x, dtype: 'float32', shape: [2 ** 24 + 1], strides: [0], offset: 0 } as const;
    expect(() => backend.unary('exp', huge, 'float32')).toThrow(
      'webasm.unary: a buffer of 16777217 elements is beyond 2^24 = 16777216, the largest size float32 index arithmetic addresses exactly',
    );
    backend.destroy();
  });

  it('never mutates or retains the caller array', () => {
    const { backend } = make();
    const src = new Float32Array([1, 2, 3]);
    const h = backend.upload(src, 'float32');
    src[0] = 99;
    expect(Array.from(backend.readSync(h, 'float32', 3))).toEqual([1, 2, 3]);
    const out = backend.unary('neg', view(h as Float32Array, [3]), 'float32') as Float32Array;
    expect(Array.from(out)).toEqual([-1, -2, -3]);
    expect(Array.from(backend.readSync(h, 'float32', 3))).toEqual([1, 2, 3]);
    backend.destroy();
  });
});

describe('gpu.js backends: fallbacks are listed and warned once', () => {
  it('lists every delegated kernel from the start', () => {
    const { backend } = make();
    for (const k of ['unary:int32', 'binary:int32', 'where:int32', 'reduce:int32', 'gather:int32', 'scatterAdd:int32', 'concat:int32', 'cumsum:int32']) {
      expect(backend.fallbacks.get(k)).toBe(DELEGATED_KERNELS[k]);
    }
    // The kernels gpu.js runs are not listed.
    for (const k of ['unary', 'binary', 'where', 'reduce', 'matmul', 'softmax', 'layerNorm', 'rmsNorm', 'conv1d', 'conv2d', 'conv2dGradInput', 'conv2dGradWeight', 'gather', 'scatterAdd', 'concat', 'cumsum', 'linearRecurrence', 'fft']) {
      expect(backend.fallbacks.has(k)).toBe(false);
    }
    backend.destroy();
  });

  it('warns once per delegated kernel, on first use, and gives the reference result', () => {
    const { backend, warn } = make();
    const x = backend.upload(new Int32Array([1, 2, 3, 4]), 'int32');
    const p = { outer: 1, size: 4, inner: 1, reverse: false };
    expect(Array.from(backend.cumsum(x, 'int32', p) as Int32Array)).toEqual([1, 3, 6, 10]);
    backend.cumsum(x, 'int32', p);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toBe(`formers: cpu.cumsum: ${DELEGATED_KERNELS['cumsum:int32']}`);
    const i = backend.upload(new Int32Array([5, -7]), 'int32');
    backend.unary('abs', view(i, [2], 'int32'), 'int32');
    expect(warn).toHaveBeenCalledTimes(2);
    expect(warn.mock.calls[1][0]).toContain('cpu.unary: int32 unary ops run on the reference backend');
    // Every kernel has a gpu.js implementation in float32: a float32 FFT warns about nothing.
    const re = backend.upload(new Float32Array([1, 2, 3, 4]), 'float32');
    const im = backend.upload(new Float32Array(4), 'float32');
    const spectrum = backend.fft(re, im, 'float32', 1, 4, false) as { re: Float32Array; im: Float32Array };
    expect(Array.from(spectrum.re).map((v) => Math.round(v * 1e5) / 1e5)).toEqual([10, -2, -2, -2]);
    expect(Array.from(spectrum.im).map((v) => Math.round(v * 1e5) / 1e5 + 0)).toEqual([0, 2, 0, -2]);
    expect(warn).toHaveBeenCalledTimes(2);
    backend.destroy();
  });

  it('runs a float32 kernel on gpu.js without any warning', () => {
    const { backend, warn } = make('webasm');
    const x = backend.upload(new Float32Array([0, 1, 2, 3, 4, 5]), 'float32');
    const out = backend.softmax(x, 'float32', { outer: 2, size: 3, inner: 1 }, false) as Float32Array;
    expect(out[0] + out[1] + out[2]).toBeCloseTo(1, 6);
    expect(warn).not.toHaveBeenCalled();
    expect([...backend.fallbacks.keys()].some((k) => k.endsWith(':gpujs-cpu'))).toBe(false);
    backend.destroy();
  });
});

describe('gpu.js backends: kernel cache', () => {
  function matmul(backend: GpujsBackend, m: number, n: number, k: number) {
    const a = backend.upload(Float32Array.from({ length: m * k }, (_, i) => i % 5), 'float32');
    const b = backend.upload(Float32Array.from({ length: k * n }, (_, i) => (i % 3) - 1), 'float32');
    return backend.matmul(a, b, 'float32', { batch: 1, m, n, k, transA: false, transB: false, strideA: m * k, strideB: k * n }) as Float32Array;
  }

  it('does not recompile for a second call with the same shape, and compiles once per new shape', () => {
    const { backend } = make();
    const before = backend.cache.stats();
    const first = matmul(backend, 3, 4, 5);
    const afterFirst = backend.cache.stats();
    expect(afterFirst.compiles).toBe(before.compiles + 1);
    const second = matmul(backend, 3, 4, 5);
    const afterSecond = backend.cache.stats();
    expect(afterSecond.compiles).toBe(afterFirst.compiles);
    expect(afterSecond.hits).toBe(afterFirst.hits + 1);
    expect(Array.from(second)).toEqual(Array.from(first));
    // A result is the caller's own copy: a later call does not overwrite it.
    expect(second).not.toBe(first);
    matmul(backend, 3, 4, 6);
    expect(backend.cache.stats().compiles).toBe(afterSecond.compiles + 1);
    backend.destroy();
  });

  it('evicts and destroys the least recently used kernel beyond its capacity', () => {
    const cache = new KernelCache(2);
    const destroyed: string[] = [];
    const kernel = (name: string) => Object.assign(() => name, { destroy: () => destroyed.push(name) });
    cache.get('a', () => kernel('a'));
    cache.get('b', () => kernel('b'));
    cache.get('a', () => kernel('a2')); // a is now the most recent
    cache.get('c', () => kernel('c'));
    expect(destroyed).toEqual(['b']);
    expect(cache.has('a') && cache.has('c') && !cache.has('b')).toBe(true);
    expect(cache.stats()).toEqual({ compiles: 3, hits: 1, size: 2, evictions: 1 });
    cache.clear();
    expect(destroyed.sort()).toEqual(['a', 'b', 'c']);
    expect(cache.stats().size).toBe(0);
    expect(() => new KernelCache(0)).toThrow('KernelCache: expected capacity to be a positive integer; got 0');
  });

  it('releases everything on destroy, after which kernels refuse to run', () => {
    const { backend } = make();
    matmul(backend, 2, 2, 2);
    expect(backend.cache.stats().size).toBeGreaterThan(0);
    backend.destroy();
    expect(backend.cache.stats().size).toBe(0);
    expect(() => matmul(backend, 2, 2, 2)).toThrow('gpujs.matmul: the "cpu" backend was destroyed');
    backend.destroy(); // idempotent
  });
});
