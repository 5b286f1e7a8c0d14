import fc from 'fast-check';
import { Generator, gradcheck, randn, tensor, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { applyRotary, RotaryEmbedding, type RopeScaling, type RotaryLayout } from '../src/index.js';
import { expectClose, golden, goldenConfig, goldenTensor } from './helpers.js';

interface ApplyCase {
  layout: RotaryLayout;
  head_dim: number;
  partial_rotary_factor: number;
  offset: number;
  scaling: { rope_type: 'yarn'; factor: number; max_position_embeddings: number } | null;
}

const f64 = (data: number[], shape: number[]) => tensor(Float64Array.from(data), { shape, dtype: 'float64' });
const dot = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((s, v, i) => s + v * b[i], 0);

describe('RotaryEmbedding against PyTorch (RoFormer / GPT-J / GPT-NeoX)', () => {
  for (const layout of ['rotate-half', 'interleaved'] as const) {
    for (const variant of ['full', 'partial', 'yarn']) {
      const name = `rope_apply_${layout}_${variant}`;
      it(`forward and gradient match: ${name}`, () => {
        const c = goldenConfig<ApplyCase>(name);
        const scaling: RopeScaling | undefined = c.scaling
          ? { type: 'yarn', factor: c.scaling.factor, maxPositionEmbeddings: c.scaling.max_position_embeddings }
          : undefined;
        const rope = new RotaryEmbedding({ dim: c.head_dim, layout: c.layout, partialRotaryFactor: c.partial_rotary_factor, scaling });
        const q = goldenTensor(`${name}.q`, { requiresGrad: true });
        const out = rope.rotate(q, { offset: c.offset });
        expect(out.shape).toEqual(golden(`${name}.output`).shape);
        expectClose(out.dataSync(), golden(`${name}.output`).data);
        out.mul(goldenTensor(`${name}.cotangent`)).sum().backward();
        expectClose(q.grad!.dataSync(), golden(`${name}.grad_q`).data, {}, 'grad q');
      });
    }
  }
});

describe('RoPE properties', () => {
  const arbVec = (n: number) => fc.array(fc.double({ min: -3, max: 3, noNaN: true }), { minLength: n, maxLength: n });

  for (const layout of ['rotate-half', 'interleaved'] as const) {
    it(`${layout}: preserves norms, R_0 is the identity, and <R_m q, R_n k> depends only on m - n`, () => {
      const d = 8;
      const rope = new RotaryEmbedding({ dim: d, layout, dtype: 'float64', maxPositionEmbeddings: 64 });
      fc.assert(
        fc.property(arbVec(d), arbVec(d), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 300 }), (q, k, m, n, shift) => {
          const qt = f64(q, [1, d]);
          const kt = f64(k, [1, d]);
          const rq = rope.rotate(qt, { positions: [m] }).dataSync();
          const rk = rope.rotate(kt, { positions: [n] }).dataSync();
          expect(Math.hypot(...rq)).toBeCloseTo(Math.hypot(...q), 10);
          const rq2 = rope.rotate(qt, { positions: [m + shift] }).dataSync();
          const rk2 = rope.rotate(kt, { positions: [n + shift] }).dataSync();
          expect(dot(rq2, rk2)).toBeCloseTo(dot(rq, rk), 8);
          expectClose(rope.rotate(qt, { positions: [0] }).dataSync(), q, { rtol: 0, atol: 0 }, 'R_0 x');
        }),
        { seed: 42, numRuns: 100 },
      );
    });
  }

  it('the layouts agree after the documented permutation: interleaved(x) = P^-1 rotateHalf(P x)', () => {
    const d = 10;
    const perm = [...Array.from({ length: d / 2 }, (_, i) => 2 * i), ...Array.from({ length: d / 2 }, (_, i) => 2 * i + 1)];
    const inter = new RotaryEmbedding({ dim: d, layout: 'interleaved', dtype: 'float64' });
    const half = new RotaryEmbedding({ dim: d, layout: 'rotate-half', dtype: 'float64' });
    fc.assert(
      fc.property(arbVec(d), fc.integer({ min: 0, max: 1000 }), (x, m) => {
        const a = inter.rotate(f64(x, [1, d]), { positions: [m] }).dataSync();
        const px = perm.map((j) => x[j]);
        const b = half.rotate(f64(px, [1, d]), { positions: [m] }).dataSync();
        perm.forEach((j, i) => expect(a[j]).toBeCloseTo(b[i], 12));
      }),
      { seed: 42, numRuns: 100 },
    );
  });

  it('offsets, explicit positions and a grown cache give the same tables', () => {
    const rope = new RotaryEmbedding({ dim: 6, maxPositionEmbeddings: 4, dtype: 'float64' });
    const a = rope.cosSin(3, { offset: 5 }); // beyond the initial cache: it grows
    const b = rope.cosSin(3, { positions: [5, 6, 7] });
    const full = rope.cosSin(8);
    expectClose(a.cos.dataSync(), b.cos.dataSync(), { rtol: 0, atol: 1e-15 });
    expectClose(a.sin.dataSync(), b.sin.dataSync(), { rtol: 0, atol: 1e-15 });
    expectClose(a.cos.dataSync(), full.cos.narrow(0, 5, 3).contiguous().dataSync(), { rtol: 0, atol: 1e-15 });
  });

  it('dynamic NTK leaves the trained context unchanged and raises the base beyond it', () => {
    const scaling: RopeScaling = { type: 'dynamic', factor: 2, maxPositionEmbeddings: 16 };
    const dyn = new RotaryEmbedding({ dim: 8, scaling, dtype: 'float64' });
    const plain = new RotaryEmbedding({ dim: 8, dtype: 'float64' });
    expectClose(dyn.cosSin(4, { offset: 12 }).cos.dataSync(), plain.cosSin(4, { offset: 12 }).cos.dataSync(), { rtol: 0, atol: 1e-15 });
    const long = dyn.cosSin(4, { offset: 28 }); // seq len 32 = 2 x 16: base' = base * (2*32/16 - 1)^(8/6)
    const ref = new RotaryEmbedding({ dim: 8, base: 10000 * 3 ** (8 / 6), dtype: 'float64' }).cosSin(4, { offset: 28 });
    expectClose(long.cos.dataSync(), ref.cos.dataSync(), { rtol: 1e-12, atol: 1e-12 });
  });

  it('gradcheck (float64 central differences) of applyRotary w.r.t. q, cos and sin', () => {
    const g = new Generator(7);
    const q = randn([2, 3, 6], { generator: g, dtype: 'float64' });
    const { cos, sin } = new RotaryEmbedding({ dim: 6, partialRotaryFactor: 2 / 3, dtype: 'float64' }).cosSin(3, { offset: 2 });
    for (const layout of ['rotate-half', 'interleaved'] as const) {
      const r = gradcheck((x: Tensor, c: Tensor, s: Tensor) => applyRotary(x, c, s, { layout }), [q, cos.contiguous(), sin.contiguous()]);
      expect(r.failures).toEqual([]);
      expect(r.ok).toBe(true);
    }
  });

  it('forward rotates q and k at the same positions', () => {
    const rope = new RotaryEmbedding({ dim: 4, dtype: 'float64' });
    const q = randn([1, 2, 3, 4], { generator: new Generator(3), dtype: 'float64' });
    const k = randn([1, 2, 3, 4], { generator: new Generator(4), dtype: 'float64' });
    const [rq, rk] = rope.call(q, k, { offset: 9 });
    expect(Array.from(rq.dataSync())).toEqual(Array.from(rope.rotate(q, { offset: 9 }).dataSync()));
    expect(Array.from(rk.dataSync())).toEqual(Array.from(rope.rotate(k, { offset: 9 }).dataSync()));
  });

  it('rejects odd rotary dims, bad layouts, wrong head dims and unknown scalings with named messages', () => {
    expect(() => new RotaryEmbedding({ dim: 7 })).toThrow(/even rotary dim >= 2 .*dim 7 \* partialRotaryFactor 1 = 7/);
    expect(new RotaryEmbedding({ dim: 8, partialRotaryFactor: 0.25 }).rotaryDim).toBe(2);
    expect(() => new RotaryEmbedding({ dim: 12, partialRotaryFactor: 0.25 })).toThrow(/= 3/);
    expect(() => new RotaryEmbedding({ dim: 8, layout: 'gptj' as never })).toThrow(/opts.layout to be one of 'rotate-half', 'interleaved'; got "gptj"/);
    expect(() => new RotaryEmbedding({ dim: 8, scaling: { type: 'su' } as never })).toThrow(/opts.scaling.type to be one of/);
    const rope = new RotaryEmbedding({ dim: 8 });
    expect(() => rope.rotate(tensor(new Float32Array(12), { shape: [2, 6] }))).toThrow(/expected x of shape \(\.\.\., T, 8\); got \[2, 6\]/);
    expect(() => rope.cosSin(2, { positions: [1] })).toThrow(/opts.positions to have length T \(=2\); got 1/);
    const cos = tensor(new Float32Array(6), { shape: [2, 3] });
    expect(() => applyRotary(tensor(new Float32Array(8), { shape: [2, 4] }), cos, cos)).toThrow(/rotary dim \(cos.shape\[1\] = 3\) to be even/);
  });
});
