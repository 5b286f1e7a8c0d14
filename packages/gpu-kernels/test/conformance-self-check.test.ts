import { describe, expect, it } from 'vitest';
import { createReferenceBackend, type Backend, type TypedArray, type View } from '@formers/gpu-kernels';
import { KERNEL_NAMES, runConformance, type KernelName } from './conformance/cases.js';

/** The suite must be able to fail: each broken backend below differs from the reference in one kernel. */
function broken(kernel: KernelName, patch: Partial<Backend<TypedArray>>): [KernelName, Backend] {
  return [kernel, { ...createReferenceBackend(), ...patch } as Backend];
}

const ref = createReferenceBackend();

const brokenBackends: [string, [KernelName, Backend]][] = [
  ['matmul ignoring transB', broken('matmul', { matmul: (a, b, d, p) => ref.matmul(a, b, d, { ...p, transB: false }) })],
  [
    'fft inverse without 1/n',
    broken('fft', {
      fft: (re, im, d, batch, n, inverse) => {
        const r = ref.fft(re, im, d, batch, n, inverse) as { re: TypedArray; im: TypedArray };
        if (inverse) for (const a of [r.re, r.im]) for (let i = 0; i < a.length; i++) a[i] *= n;
        return r;
      },
    }),
  ],
  [
    'unary ignoring strides',
    broken('unary', {
      unary: (op, x: View<TypedArray>, out) =>
        ref.unary(op, { ...x, strides: x.shape.map((_, d) => x.shape.slice(d + 1).reduce((s, e) => s * e, 1)), offset: 0 }, out),
    }),
  ],
  ['cumsum ignoring reverse', broken('cumsum', { cumsum: (x, d, p) => ref.cumsum(x, d, { ...p, reverse: false }) })],
  ['softmax returning log_softmax', broken('softmax', { softmax: (x, d, l) => ref.softmax(x, d, l, true) })],
  [
    'conv2dGradInput ignoring dilation',
    broken('conv2dGradInput', { conv2dGradInput: (dy, w, d, p) => ref.conv2dGradInput(dy, w, d, { ...p, dilationH: 1, dilationW: 1 }) }),
  ],
];

describe('the conformance suite detects broken kernels', () => {
  for (const [label, [kernel, backend]] of brokenBackends) {
    it(label, async () => {
      const report = await runConformance(backend, createReferenceBackend(), {
        dtypes: ['float32'],
        skip: KERNEL_NAMES.filter((k) => k !== kernel),
      });
      expect(report.failures.length).toBeGreaterThan(0);
      expect(report.failures.every((f) => f.id.startsWith(`${kernel}/`))).toBe(true);
    });
  }

  it('passes the reference against itself on the same kernels', async () => {
    const report = await runConformance(createReferenceBackend(), createReferenceBackend(), {
      dtypes: ['float32'],
      skip: KERNEL_NAMES.filter((k) => !['matmul', 'fft', 'unary', 'cumsum'].includes(k)),
    });
    expect(report.failures).toEqual([]);
    expect(report.passed).toBeGreaterThan(100);
  });
});
