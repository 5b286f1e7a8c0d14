import fc from 'fast-check';
import { Generator, gradcheck, randn, tensor, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { RotaryEmbedding2d, type RotaryLayout } from '../src/index.js';
import { expectClose, expectParamGradcheck, golden, goldenConfig, goldenTensor, weightedSum } from './helpers.js';

interface Rope2dCase {
  mode: 'axial' | 'mixed';
  layout: RotaryLayout;
  dim: number;
  num_heads: number;
  base?: number;
  grid: [number, number];
  num_prefix_tokens: number;
}

const f64 = (data: number[], shape: number[]) => tensor(Float64Array.from(data), { shape, dtype: 'float64' });
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

describe('RotaryEmbedding2d against PyTorch (Heo et al. 2024, RoPE-Axial and RoPE-Mixed)', () => {
  for (const name of ['rope2d_axial', 'rope2d_axial_rotate_half', 'rope2d_mixed', 'rope2d_mixed_rotate_half']) {
    it(`forward and gradients match: ${name}`, () => {
      const c = goldenConfig<Rope2dCase>(name);
      const rope = new RotaryEmbedding2d({ dim: c.dim, mode: c.mode, layout: c.layout, numHeads: c.num_heads, base: c.base });
      if (c.mode === 'mixed') {
        // The golden's frequencies load through the state dict, under the paper's parameter name.
        rope.loadStateDict(new Map([['freqs', goldenTensor(`${name}.freqs`)]]));
      } else {
        expect(rope.base).toBe(100);
        expect([...rope.stateDict().keys()]).toEqual([]);
      }
      const q = goldenTensor(`${name}.q`, { requiresGrad: true });
      const [out] = rope.call(q, q, { gridSize: c.grid, numPrefixTokens: c.num_prefix_tokens });
      expect(out.shape).toEqual(golden(`${name}.output`).shape);
      expectClose(out.dataSync(), golden(`${name}.output`).data);
      out.mul(goldenTensor(`${name}.cotangent`)).sum().backward();
      expectClose(q.grad!.dataSync(), golden(`${name}.grad_q`).data, {}, 'grad q');
      if (c.mode === 'mixed') expectClose(rope.freqs!.grad!.dataSync(), golden(`${name}.grad_freqs`).data, {}, 'grad freqs');
    });
  }
});

describe('RotaryEmbedding2d properties', () => {
  const arbVec = (n: number) => fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n });
  const d = 8;
  /** A single token (1, heads, 1, Dh) at grid position (y, x): a 1 x 1 grid after y*W + x - 1 dummy tokens is not
   * possible, so place the token in a grid of (y + 1) x (x + 1) and read the last patch. */
  const rotateAt = (rope: RotaryEmbedding2d, v: number[], y: number, x: number, heads: number) => {
    const n = (y + 1) * (x + 1);
    const data = new Float64Array(heads * n * d);
    for (let h = 0; h < heads; h++) data.set(v, (h * n + n - 1) * d);
    const out = rope.rotate(tensor(data, { shape: [1, heads, n, d], dtype: 'float64' }), { gridSize: [y + 1, x + 1] });
    return Array.from(out.dataSync().slice((n - 1) * d, n * d)); // head 0, last patch
  };

  for (const mode of ['axial', 'mixed'] as const) {
    for (const layout of ['interleaved', 'rotate-half'] as const) {
      it(`${mode} ${layout}: preserves norms, the origin is the identity, scores depend only on the 2-D offset`, () => {
        const rope = new RotaryEmbedding2d({ dim: d, mode, layout, numHeads: 1, dtype: 'float64', generator: new Generator(5) });
        const pos = fc.integer({ min: 0, max: 6 });
        fc.assert(
          fc.property(arbVec(d), arbVec(d), pos, pos, pos, pos, pos, pos, (q, k, ym, xm, yn, xn, dy, dx) => {
            const rq = rotateAt(rope, q, ym, xm, 1);
            const rk = rotateAt(rope, k, yn, xn, 1);
            expect(Math.hypot(...rq)).toBeCloseTo(Math.hypot(...q), 10);
            const rq2 = rotateAt(rope, q, ym + dy, xm + dx, 1);
            const rk2 = rotateAt(rope, k, yn + dy, xn + dx, 1);
            expect(dot(rq2, rk2)).toBeCloseTo(dot(rq, rk), 8);
            expectClose(rotateAt(rope, q, 0, 0, 1), q, { rtol: 0, atol: 0 }, 'R_(0,0) x');
          }),
          { seed: 42, numRuns: 40 },
        );
      });
    }
  }

  it('axial: the column pairs move with x only and the row pairs with y only', () => {
    const rope = new RotaryEmbedding2d({ dim: d, dtype: 'float64' });
    const { cos } = rope.cosSin([3, 4]); // (12, 8), interleaved: pairs 0,1 are columns, 2,3 rows
    const c = cos.dataSync();
    const at = (t: number, f: number) => c[t * d + f];
    // tokens 1 (y 0, x 1) and 5 (y 1, x 1) share the column angles; tokens 4 (y 1, x 0) and 5 share the row angles
    for (const f of [0, 1, 2, 3]) expect(at(1, f)).toBe(at(5, f));
    for (const f of [4, 5, 6, 7]) expect(at(4, f)).toBe(at(5, f));
    expect(at(1, 0)).toBeCloseTo(Math.cos(1), 14); // theta_0 = 1
    expect(at(4, 6)).toBeCloseTo(Math.cos(100 ** -0.5), 14); // theta_1 = 100^(-4/8), row 1
  });

  it('runs at any grid size (no table to resize) and keeps the class token unrotated', () => {
    const rope = new RotaryEmbedding2d({ dim: d, mode: 'mixed', numHeads: 2, generator: new Generator(1) });
    for (const grid of [[2, 2], [5, 7], [1, 9]] as const) {
      const n = 1 + grid[0] * grid[1];
      const q = randn([2, 2, n, d], { generator: new Generator(n) });
      const [rq] = rope.call(q, q, { gridSize: grid, numPrefixTokens: 1 });
      expect(rq.shape).toEqual([2, 2, n, d]);
      expect(Array.from(rq.narrow(2, 0, 1).contiguous().dataSync())).toEqual(Array.from(q.narrow(2, 0, 1).contiguous().dataSync()));
      expect(Array.from(rq.dataSync()).every(Number.isFinite)).toBe(true);
    }
  });

  it('mixed: the default init follows init_random_2d_freqs (magnitudes base^(-4j/Dh), perpendicular halves)', () => {
    const rope = new RotaryEmbedding2d({ dim: d, mode: 'mixed', numHeads: 3, generator: new Generator(9), dtype: 'float64' });
    expect(rope.base).toBe(10);
    expect(rope.freqs!.shape).toEqual([2, 3, d / 2]);
    expect(rope.freqs!.requiresGrad).toBe(true);
    const f = rope.freqs!.dataSync();
    for (let h = 0; h < 3; h++) {
      for (let j = 0; j < d / 4; j++) {
        const [x1, y1] = [f[h * 4 + j], f[12 + h * 4 + j]];
        const [x2, y2] = [f[h * 4 + 2 + j], f[12 + h * 4 + 2 + j]];
        expect(Math.hypot(x1, y1)).toBeCloseTo(10 ** (-(4 * j) / d), 12);
        expect(x1 * x2 + y1 * y2).toBeCloseTo(0, 12);
      }
    }
    const fixed = new RotaryEmbedding2d({ dim: d, mode: 'mixed', numHeads: 1, rotate: false, dtype: 'float64' });
    // rotate: false makes RoPE-Mixed start as RoPE-Axial (fx on the first half, fy on the second).
    const axial = new RotaryEmbedding2d({ dim: d, base: 10, dtype: 'float64' });
    expectClose(fixed.cosSin([3, 2]).cos.dataSync(), axial.cosSin([3, 2]).cos.dataSync(), { rtol: 0, atol: 1e-14 });
  });

  it('gradcheck (float64 central differences) w.r.t. q and the mixed frequencies', () => {
    const g = new Generator(11);
    const q = randn([1, 2, 1 + 6, d], { generator: g, dtype: 'float64' });
    for (const layout of ['interleaved', 'rotate-half'] as const) {
      const axial = new RotaryEmbedding2d({ dim: d, layout, dtype: 'float64', backend: 'reference' });
      const r = gradcheck((x: Tensor) => axial.rotate(x, { gridSize: [2, 3], numPrefixTokens: 1 }), [q]);
      expect(r.failures).toEqual([]);
      const mixed = new RotaryEmbedding2d({ dim: d, layout, mode: 'mixed', numHeads: 2, generator: g, dtype: 'float64', backend: 'reference' });
      const r2 = gradcheck((x: Tensor) => mixed.rotate(x, { gridSize: [3, 2], numPrefixTokens: 1 }), [q]);
      expect(r2.failures).toEqual([]);
      // The parameter check runs on the default backend (float64), where weightedSum creates its weights.
      const own = new RotaryEmbedding2d({ dim: d, layout, mode: 'mixed', numHeads: 2, generator: g, dtype: 'float64' });
      expectParamGradcheck(own, own.freqs!, () => weightedSum(own.rotate(q, { gridSize: [3, 2], numPrefixTokens: 1 })));
    }
  });

  it('qkTransformFor gives the structural (q, k, { offset }) => [q, k] hook for one grid', () => {
    const rope = new RotaryEmbedding2d({ dim: d, dtype: 'float64' });
    const q = randn([1, 2, 1 + 6, d], { generator: new Generator(2), dtype: 'float64' });
    const t: (q: Tensor, k: Tensor, opts: { offset?: number }) => [Tensor, Tensor] = rope.qkTransformFor({ gridSize: [2, 3], numPrefixTokens: 1 });
    const [a] = t(q, q, { offset: 0 });
    expect(Array.from(a.dataSync())).toEqual(Array.from(rope.rotate(q, { gridSize: [2, 3], numPrefixTokens: 1 }).dataSync()));
    expect(() => rope.qkTransformFor({ gridSize: [0, 3] })).toThrow(/opts.gridSize\[0\] to be an integer >= 1; got 0/);
  });

  it('rejects bad dims, modes, missing heads and token counts that are not prefix + H*W, naming the argument', () => {
    expect(() => new RotaryEmbedding2d({ dim: 6 })).toThrow(/opts.dim \(the head dim\) to be divisible by 4.*got 6/);
    expect(() => new RotaryEmbedding2d({ dim: 7 })).toThrow(/divisible by 4/);
    expect(() => new RotaryEmbedding2d({ dim: 8, mode: 'spiral' as never })).toThrow(/opts.mode to be one of 'axial', 'mixed'; got "spiral"/);
    expect(() => new RotaryEmbedding2d({ dim: 8, mode: 'mixed' })).toThrow(/opts.numHeads .* for mode 'mixed'/);
    expect(() => new RotaryEmbedding2d({ dim: 8, base: -1 })).toThrow(/opts.base to be a finite number > 0; got -1/);
    const rope = new RotaryEmbedding2d({ dim: 8, numHeads: 2 });
    const q = f64(Array(2 * 7 * 8).fill(0), [1, 2, 7, 8]);
    expect(() => rope.rotate(q, { gridSize: [2, 3] })).toThrow(/numPrefixTokens \+ H\*W = 0 \+ 2\*3 = 6, Dh = 8\); got \[1, 2, 7, 8\]/);
    expect(rope.rotate(q, { gridSize: [2, 3], numPrefixTokens: 1 }).shape).toEqual([1, 2, 7, 8]);
    expect(() => rope.rotate(f64(Array(3 * 7 * 8).fill(0), [1, 3, 7, 8]), { gridSize: [2, 3], numPrefixTokens: 1 })).toThrow(/heads = 2/);
    expect(() => rope.rotate(q, { gridSize: [2, 0] })).toThrow(/opts.gridSize\[1\] to be an integer >= 1; got 0/);
    expect(() => rope.rotate(q, undefined as never)).toThrow(/opts.gridSize/);
  });
});
