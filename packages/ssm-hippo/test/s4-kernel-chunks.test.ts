import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Generator, assertGradcheck, noGrad, type Tensor } from '@formers/tensor-core';
import { S4, s4Kernel } from '../src/index.js';
import { s4KernelChunked } from '../src/s4.js';

/** More frequencies than any test's L has, so the kernel is computed in one chunk (the unchunked computation). */
const ONE_CHUNK = 1 << 30;

/** The finite frequencies the kernel evaluates for length L (the Nyquist one of even L is separate). */
const freqs = (L: number) => Math.floor((L - 1) / 2) + 1;

/**
 * Chunking changes no per-frequency arithmetic, only which frequencies share a batched matmul, so the two kernels
 * may differ by at most a rounding of K^ per frequency. K = irfft(K^) sums F terms divided by L, and
 * |K^_k| <= sum_l |K_l|, so a relative rounding eps of every K^_k moves each K_l by at most 2 eps sum_l |K_l|
 * (a few roundings: 8 eps).
 */
function expectSameKernel(got: Tensor, want: Tensor): void {
  expect(got.shape).toEqual(want.shape);
  const eps = want.dtype === 'float64' ? 2 ** -52 : 2 ** -23;
  const [H, L] = want.shape;
  const a = got.dataSync();
  const b = want.dataSync();
  for (let h = 0; h < H; h++) {
    let scale = 0;
    for (let l = 0; l < L; l++) scale += Math.abs(b[h * L + l]);
    for (let l = 0; l < L; l++) expect(Math.abs(a[h * L + l] - b[h * L + l])).toBeLessThanOrEqual(8 * eps * scale);
  }
}

describe('S4 kernel in chunks of frequencies', () => {
  it('equals the one-chunk kernel for any L and chunk size, odd and even L, chunks that do not divide F (float64, reference)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1e6 }),
        fc.integer({ min: 1, max: 300 }),
        fc.integer({ min: 1, max: 40 }),
        fc.constantFrom(2, 4, 8),
        (seed, L, chunk, N) => {
          const layer = new S4(3, { dState: N, lMax: L, dtMin: 0.01, dtMax: 0.5, dtype: 'float64', backend: 'reference', generator: new Generator(seed) });
          expectSameKernel(s4KernelChunked(layer.params(), L, { chunk }), s4KernelChunked(layer.params(), L, { chunk: ONE_CHUNK }));
        },
      ),
      { seed: 7, numRuns: 40 },
    );
  });

  it('equals the one-chunk kernel (float32, default backend), including the default chunk at L past it', () => {
    for (const [L, chunk] of [[9, 2], [64, 5], [101, 7], [256, 33], [257, 128]]) {
      expect(freqs(L) % chunk).not.toBe(0); // the last chunk is a partial one
      const layer = new S4(4, { dState: 8, lMax: L, generator: new Generator(L) });
      expectSameKernel(s4KernelChunked(layer.params(), L, { chunk }), s4KernelChunked(layer.params(), L, { chunk: ONE_CHUNK }));
    }
    // The default chunk (2048 frequencies): L = 4097 leaves one frequency for a second chunk, L = 6000 (even, with
    // the Nyquist term) splits 2999 frequencies 2048 + 951.
    for (const L of [4097, 6000]) {
      const layer = new S4(2, { dState: 4, lMax: L, generator: new Generator(L) });
      const want = s4KernelChunked(layer.params(), L, { chunk: ONE_CHUNK });
      expectSameKernel(noGrad(() => layer.kernel(L)), want);
      expectSameKernel(s4Kernel(layer.params(), L), want);
    }
  });

  it('recording autograd (no per-chunk tidy) gives the same values as noGrad (per-chunk tidy)', () => {
    const L = 4500; // 2250 frequencies: two chunks at the default size
    const layer = new S4(2, { dState: 4, lMax: L, dtype: 'float64', backend: 'reference', generator: new Generator(5) });
    const recorded = layer.kernel(L);
    expect(recorded.requiresGrad).toBe(true);
    expectSameKernel(noGrad(() => layer.kernel(L)), recorded);
  });

  it('gradcheck through the chunked kernel, and its gradients equal the one-chunk ones (float64)', () => {
    for (const [L, chunk] of [[11, 2], [12, 4]]) {
      // L = 11: 6 frequencies in chunks 2 + 2 + 2; L = 12: 6 in 4 + 2, plus the Nyquist term.
      const layer = new S4(2, { dState: 4, lMax: L, dtMin: 0.05, dtMax: 0.3, dtype: 'float64', backend: 'reference', generator: new Generator(L) });
      const k = layer.ssmKernel;
      const inputs = [k.logDt, k.logAReal, k.AImag, k.P, k.B, k.C];
      const kernel = (c: number) => (logDt: Tensor, logAReal: Tensor, AImag: Tensor, P: Tensor, B: Tensor, C: Tensor) =>
        s4KernelChunked({ logDt, logAReal, AImag, P, B, C }, L, { chunk: c });
      assertGradcheck(kernel(chunk), inputs);
      // The same weighted loss through both paths: the chunked graph must carry the same gradients.
      const grads = (c: number) => {
        for (const t of inputs) t.grad = null;
        const K = kernel(c)(...(inputs as [Tensor, Tensor, Tensor, Tensor, Tensor, Tensor]));
        K.mul(K).sum().backward();
        return inputs.map((t) => Array.from(t.grad!.dataSync()));
      };
      const a = grads(chunk);
      const b = grads(ONE_CHUNK);
      a.forEach((g, i) => g.forEach((v, j) => expect(Math.abs(v - b[i][j])).toBeLessThanOrEqual(1e-12 * (1 + Math.abs(b[i][j])))));
    }
  });

  it('rejects a bad chunk size', () => {
    const layer = new S4(2, { dState: 4, lMax: 8 });
    expect(() => s4KernelChunked(layer.params(), 8, { chunk: 0 })).toThrow(/s4Kernel: expected opts.chunk to be an integer >= 1; got 0/);
    expect(() => s4KernelChunked(layer.params(), 8, { chunk: 2.5 })).toThrow(/s4Kernel: expected opts.chunk to be an integer >= 1; got 2.5/);
  });
});
