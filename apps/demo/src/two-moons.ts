import { Generator, tensor, type Tensor } from '@formers/tensor-core';

export interface TwoMoons {
  /** (N, 2) float32 points. */
  x: Tensor;
  /** (N,) int32 class labels, 0 or 1. */
  y: Tensor;
}

/**
 * The classic "two moons" toy set: two interleaved half circles with Gaussian noise. Generated from a seeded
 * Generator, so a seed gives the same points on every backend and every run.
 */
export function twoMoons(options: { n: number; noise?: number; seed?: number }): TwoMoons {
  const { n, noise = 0.1, seed = 0 } = options;
  if (!Number.isInteger(n) || n < 2) throw new Error(`twoMoons: expected n to be an integer >= 2; got ${n}`);
  const gen = new Generator(seed);
  const xs = new Float32Array(n * 2);
  const ys = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    const angle = Math.PI * gen.nextDouble();
    // Upper moon centred at the origin; the lower one shifted by (1, 0.5) and flipped.
    const px = cls === 0 ? Math.cos(angle) : 1 - Math.cos(angle);
    const py = cls === 0 ? Math.sin(angle) : 0.5 - Math.sin(angle);
    xs[2 * i] = px + noise * gen.nextNormal();
    xs[2 * i + 1] = py + noise * gen.nextNormal();
    ys[i] = cls;
  }
  return { x: tensor(xs, { shape: [n, 2] }), y: tensor(ys, { shape: [n], dtype: 'int32' }) };
}
