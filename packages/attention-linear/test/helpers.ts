/** Test helpers: host-side reference math and closeness checks. */
import { expect } from 'vitest';
import { Generator, randn, type Tensor } from '@formers/tensor-core';

export function closeArrays(a: ArrayLike<number>, b: ArrayLike<number>, rtol: number, atol: number, what = ''): void {
  expect(a.length).toBe(b.length);
  for (let i = 0; i < a.length; i++) {
    if (!(Math.abs(a[i] - b[i]) <= atol + rtol * Math.abs(b[i]))) throw new Error(`${what} element ${i}: got ${a[i]}, expected ${b[i]}`);
  }
}

export function close(a: Tensor, b: Tensor, rtol = 1e-4, atol = 1e-5, what = ''): void {
  expect(a.shape).toEqual(b.shape);
  closeArrays(a.dataSync(), b.dataSync(), rtol, atol, what);
}

/** Random q, k, v (B, H, N, Dh) in float64 on the reference backend (gradcheck-ready). */
export function qkv(seed: number, B: number, H: number, Nq: number, Nk: number, Dh: number, dtype: 'float32' | 'float64' = 'float64'): [Tensor, Tensor, Tensor] {
  const g = new Generator(seed);
  const o = { dtype, generator: g, backend: 'reference' as const };
  return [randn([B, H, Nq, Dh], o), randn([B, H, Nk, Dh], o), randn([B, H, Nk, Dh], o)];
}

/** Explicit softmax attention on the host, float64: allowed(b, i, j) false = masked; fully masked rows give 0. */
export function naiveSoftmax(q: Tensor, k: Tensor, v: Tensor, opts: { scale?: number; allowed?: (b: number, h: number, i: number, j: number) => boolean; bias?: (b: number, h: number, i: number, j: number) => number } = {}): number[] {
  const [B, H, Nq, Dh] = q.shape;
  const Nk = k.shape[2];
  const Q = q.dataSync(), K = k.dataSync(), V = v.dataSync();
  const scale = opts.scale ?? 1 / Math.sqrt(Dh);
  const out: number[] = [];
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let i = 0; i < Nq; i++) {
    const s: number[] = [];
    for (let j = 0; j < Nk; j++) {
      if (opts.allowed && !opts.allowed(b, h, i, j)) { s.push(-Infinity); continue; }
      let d = 0;
      for (let c = 0; c < Dh; c++) d += Q[((b * H + h) * Nq + i) * Dh + c] * K[((b * H + h) * Nk + j) * Dh + c];
      s.push(d * scale + (opts.bias ? opts.bias(b, h, i, j) : 0));
    }
    const m = Math.max(...s);
    const e = s.map((x) => (m === -Infinity ? 0 : Math.exp(x - m)));
    const z = e.reduce((x, y) => x + y, 0);
    for (let c = 0; c < Dh; c++) {
      let acc = 0;
      for (let j = 0; j < Nk; j++) acc += z === 0 ? 0 : (e[j] / z) * V[((b * H + h) * Nk + j) * Dh + c];
      out.push(acc);
    }
  }
  return out;
}

export { testRope } from './test-rope.js';
