import type { DType } from '@formers/gpu-kernels';
import type { ConformanceCase } from './case-types.js';
import { createRng, realData } from './rng.js';

/** Powers of two (radix-2), primes and composites (Bluestein), the trivial n = 1, and two long rows. */
const LENGTHS: readonly { n: number; batch: number; tags: readonly string[] }[] = [
  { n: 1, batch: 3, tags: ['edge'] },
  { n: 2, batch: 2, tags: ['pow2'] },
  { n: 3, batch: 2, tags: ['bluestein'] },
  { n: 5, batch: 1, tags: ['bluestein'] },
  { n: 8, batch: 3, tags: ['pow2'] },
  { n: 12, batch: 2, tags: ['bluestein'] },
  { n: 17, batch: 2, tags: ['bluestein'] },
  { n: 64, batch: 2, tags: ['pow2'] },
  { n: 100, batch: 1, tags: ['bluestein'] },
  { n: 4, batch: 0, tags: ['edge', 'empty'] },
  { n: 4096, batch: 1, tags: ['large', 'pow2'] },
  { n: 3000, batch: 1, tags: ['large', 'bluestein'] },
];

export function fftCases(seed: number, dtypes: readonly DType[]): ConformanceCase[] {
  const cases: ConformanceCase[] = [];
  const rng = createRng(seed + 90);
  for (const dtype of dtypes.filter((d) => d !== 'int32')) {
    for (const { n, batch, tags } of LENGTHS) {
      for (const inverse of [false, true]) {
        const re = realData(rng, dtype, batch * n);
        const im = realData(rng, dtype, batch * n);
        cases.push({
          id: `fft/${inverse ? 'inverse' : 'forward'}/${dtype}/n${n}-b${batch}`,
          kernel: 'fft',
          dtype,
          tags,
          inputs: [{ data: re, dtype }, { data: im, dtype }],
          outputs: [
            { dtype, size: batch * n },
            { dtype, size: batch * n },
          ],
          scale: 'fft-row',
          rowLength: n,
          invoke: async (b, [hr, hi]) => {
            const r = await b.fft(hr, hi, dtype, batch, n, inverse);
            return [r.re, r.im];
          },
        });
      }
    }
  }
  return cases;
}
