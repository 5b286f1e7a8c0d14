/**
 * The same op code on an asynchronous backend: a fake backend that wraps the reference kernels and returns every
 * result as a Promise (like WebGPU). Storage becomes pending, `await t.data()` works and `dataSync()` errors.
 */
import { createReferenceBackend, type Backend, type TypedArray } from '@formers/gpu-kernels';
import { describe, expect, it } from 'vitest';
import {
  Generator, add, conv2d, layerNorm, linear, matmul, randn, softmax, sum, tensor, gelu, fft, cat, gather, interpolate, Tensor,
} from '../src/index.js';

function fakeAsyncBackend(): Backend<TypedArray> {
  const inner = createReferenceBackend();
  const later = <T>(v: T): Promise<T> => new Promise((resolve) => setTimeout(() => resolve(v), 0));
  const wrapped: Record<string, unknown> = {};
  for (const key of ['unary', 'binary', 'where', 'reduce', 'matmul', 'softmax', 'layerNorm', 'rmsNorm', 'conv1d', 'conv2d',
    'conv2dGradInput', 'conv2dGradWeight', 'gather', 'scatterAdd', 'concat', 'cumsum', 'linearRecurrence', 'fft'] as const) {
    const fn = inner[key] as (...a: unknown[]) => unknown;
    wrapped[key] = (...args: unknown[]) => later(fn(...args));
  }
  return {
    ...inner,
    ...(wrapped as object),
    name: 'webgpu',
    sync: false,
    readSync: () => {
      throw new Error('fake async backend: readSync is not available');
    },
    read: (h: TypedArray, dtype, size) => later(inner.readSync(h, dtype, size)),
  } as Backend<TypedArray>;
}

/** A small network: linear -> gelu -> layerNorm -> conv -> softmax -> loss, forward and backward. */
function run(backend: Backend | 'reference') {
  const g = new Generator(3);
  const opts = { backend, generator: g };
  const x = randn([2, 4], opts);
  const w = randn([6, 4], opts).requiresGrad_();
  const b = randn([6], opts).requiresGrad_();
  const k = randn([2, 1, 2, 2], opts).requiresGrad_();
  const h = layerNorm(gelu(linear(x, w, b)), 6); // (2, 6)
  const img = h.reshape(1, 1, 3, 4); // (1, 1, 3, 4)
  const c = conv2d(img, k, null, { padding: 1 }); // (1, 2, 4, 5)
  const up = interpolate(c, { size: [5, 6], mode: 'bilinear' });
  const p = softmax(up.flatten(1), -1);
  const spec = fft(p.reshape(-1));
  const idx = tensor(new Int32Array([0, 3, 1]), { backend, shape: [1, 3] });
  const picked = gather(cat([p, p], 0), 1, idx);
  const loss = add(sum(matmul(p, p.t())), add(sum(spec.abs()), sum(picked)));
  loss.backward();
  return { loss, grads: [w.grad!, b.grad!, k.grad!] };
}

describe('asynchronous backend', () => {
  it('runs the same code, with pending storage, awaitable readback and a clear dataSync error', async () => {
    const expected = run('reference');
    const backend = fakeAsyncBackend();
    const got = run(backend);
    expect(got.loss.isPending).toBe(true);
    expect(() => got.loss.dataSync()).toThrow('dataSync: tensor [] on backend "webgpu" is computed asynchronously; use `await t.data()` instead');
    expect(() => got.loss.item()).toThrow(/use `await t.data\(\)`/);
    const value = await got.loss.data();
    expect(value[0]).toBe(expected.loss.item());
    for (let i = 0; i < 3; i++) {
      expect(Array.from(await got.grads[i].data())).toEqual(Array.from(expected.grads[i].dataSync()));
    }
    expect(await got.grads[0].array()).toEqual(expected.grads[0].tolist());
    const realized = await got.grads[1].realize();
    expect(realized).toBe(got.grads[1]);
  });

  it('refuses to mix backends in one op, naming both, and moves tensors with to()', async () => {
    const backend = fakeAsyncBackend();
    const a = tensor([1, 2, 3], { backend });
    const b = tensor([1, 1, 1], { backend: 'reference' });
    expect(() => add(a, b)).toThrow('add: expected all tensors on one backend; got "webgpu" and "reference" (move one with .to(backendName))');
    const moved = b.to(backend);
    expect(moved.backend).toBe(backend);
    expect(Array.from(await add(a, moved).data())).toEqual([2, 3, 4]);
    const back = a.to('reference');
    expect(back.isPending).toBe(true);
    expect(Array.from(await back.data())).toEqual([1, 2, 3]);
    // Gradients flow back across the move.
    const w = tensor([1, 2], { backend: 'reference', requiresGrad: true });
    const loss = sum(w.to(backend).mul(3));
    loss.backward();
    expect(w.grad).toBeInstanceOf(Tensor);
    expect(Array.from(await w.grad!.data())).toEqual([3, 3]);
  });
});
