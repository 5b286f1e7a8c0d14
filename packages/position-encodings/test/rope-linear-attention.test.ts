import { cat, elu, Generator, gradcheck, matmul, randn, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { RotaryEmbedding, ropeLinearAttention } from '../src/index.js';
import { expectClose } from './helpers.js';

const g = new Generator(21);
const f64 = (shape: number[]) => randn(shape, { generator: g, dtype: 'float64' });
const identity = (q: Tensor, k: Tensor): [Tensor, Tensor] => [q, k];

describe('ropeLinearAttention (RoFormer sec. 3.4.3)', () => {
  it('with no rotation it is plain linear attention phi(q) (phi(k)^T v) / phi(q) sum phi(k)', () => {
    const [q, k, v] = [f64([1, 2, 4, 6]), f64([1, 2, 5, 6]), f64([1, 2, 5, 3])];
    const out = ropeLinearAttention(q, k, v, { rotate: identity, eps: 0 });
    const fq = elu(q).add(1);
    const fk = elu(k).add(1);
    const a = matmul(fq, fk.transpose(2, 3)); // (B, H, Nq, Nk)
    const ref = matmul(a, v).div(a.sum(3, true));
    expectClose(out.dataSync(), ref.dataSync(), { rtol: 1e-12, atol: 1e-12 });
  });

  it('rotates the numerator only: equals the quadratic form sum_n (R_m fq)(R_n fk) v_n / sum_n fq fk', () => {
    const rope = new RotaryEmbedding({ dim: 6, layout: 'interleaved', dtype: 'float64' });
    const [q, k, v] = [f64([2, 1, 5, 6]), f64([2, 1, 5, 6]), f64([2, 1, 5, 2])];
    const out = ropeLinearAttention(q, k, v, { rotate: rope.qkTransform, eps: 0 });
    const fq = elu(q).add(1);
    const fk = elu(k).add(1);
    const num = matmul(matmul(rope.rotate(fq), rope.rotate(fk).transpose(2, 3)), v);
    const den = matmul(fq, fk.transpose(2, 3)).sum(3, true);
    expectClose(out.dataSync(), num.div(den).dataSync(), { rtol: 1e-12, atol: 1e-12 });
  });

  it('causal: changing future keys and values leaves earlier outputs unchanged', () => {
    const rope = new RotaryEmbedding({ dim: 4, dtype: 'float64' });
    const [q, k, v] = [f64([1, 1, 6, 4]), f64([1, 1, 6, 4]), f64([1, 1, 6, 3])];
    const a = ropeLinearAttention(q, k, v, { rotate: rope.qkTransform, causal: true });
    const k2 = cat([k.narrow(2, 0, 3), f64([1, 1, 3, 4])], 2);
    const v2 = cat([v.narrow(2, 0, 3), f64([1, 1, 3, 3])], 2);
    const b = ropeLinearAttention(q, k2, v2, { rotate: rope.qkTransform, causal: true });
    expectClose(b.narrow(2, 0, 3).contiguous().dataSync(), a.narrow(2, 0, 3).contiguous().dataSync(), { rtol: 1e-12, atol: 1e-12 });
    // ... and the last outputs do change: the test can fail.
    expect(Math.abs(b.dataSync()[17] - a.dataSync()[17])).toBeGreaterThan(1e-6);
  });

  it('attention-linear can take RotaryEmbedding.qkTransform as its structural QKTransform', () => {
    type QKTransform = (q: Tensor, k: Tensor, opts: { offset?: number }) => [Tensor, Tensor];
    const rope = new RotaryEmbedding({ dim: 4, dtype: 'float64' });
    const t: QKTransform = rope.qkTransform;
    const q = f64([1, 1, 3, 4]);
    const [rq] = t(q, q, { offset: 2 });
    expectClose(rq.dataSync(), rope.rotate(q, { offset: 2 }).dataSync(), { rtol: 0, atol: 0 });
  });

  it('gradcheck (float64) w.r.t. q, k and v, causal and not', () => {
    const rope = new RotaryEmbedding({ dim: 4, dtype: 'float64', backend: 'reference' });
    const [q, k, v] = [f64([1, 2, 3, 4]), f64([1, 2, 4, 4]), f64([1, 2, 4, 2])];
    for (const causal of [false, true]) {
      const r = gradcheck((a: Tensor, b: Tensor, c: Tensor) => ropeLinearAttention(a, b, c, { rotate: rope.qkTransform, causal }), [q, k, v]);
      expect(r.failures).toEqual([]);
    }
  });

  it('rejects bad shapes and a missing rotation with named messages', () => {
    const q = f64([1, 1, 3, 4]);
    expect(() => ropeLinearAttention(q, q, q.narrow(3, 0, 2).narrow(2, 0, 2), { rotate: identity })).toThrow(/k and v with the same N/);
    expect(() => ropeLinearAttention(q.reshape([3, 4]), q, q, { rotate: identity })).toThrow(/expected q, k, v of shape \(B, H, N, Dh\)/);
    expect(() => ropeLinearAttention(q, q, q, {} as never)).toThrow(/opts.rotate to be a/);
    expect(() => ropeLinearAttention(q, q, q, { rotate: identity, offset: -1 })).toThrow(/opts.offset to be an integer >= 0; got -1/);
  });
});
