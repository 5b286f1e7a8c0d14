import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { assertGradcheck, cat, div, elu, add, matmul, ne, onesLike, reshape, sum, tensor, tril, mul, abs, type Tensor } from '@formers/tensor-core';
import { LinearAttention, createAttentionCore, featureMap, type CausalForm } from '../src/index.js';
import { close, qkv, testRope } from './helpers.js';

/** Explicit quadratic form: (phi(q) phi(k)^T [masked]) v / ((phi(q) phi(k)^T [masked]) 1 + eps). */
function explicit(fq: Tensor, fk: Tensor, v: Tensor, causal: boolean, eps: number, numFeat?: [Tensor, Tensor]): Tensor {
  const Nq = fq.shape[2];
  const Nk = fk.shape[2];
  const mask = (a: Tensor) => (causal ? tril(a, Nk - Nq) : a);
  const A = mask(matmul(fq, fk.transpose(-2, -1))); // (B, H, Nq, Nk)
  const An = numFeat ? mask(matmul(numFeat[0], numFeat[1].transpose(-2, -1))) : A;
  return div(matmul(An, v), add(matmul(A, onesLike(v.narrow(3, 0, 1))), eps));
}
const elu1 = (x: Tensor) => add(elu(x), 1);

describe('LinearAttention', () => {
  it('identity features equal the explicit (QK^T)V / (QK^T 1 + eps) form, causal and not', () => {
    for (const causal of [false, true]) {
      const [q0, k0, v] = qkv(1, 2, 2, 6, 6, 4);
      const [q, k] = [abs(q0), abs(k0)]; // positive scores keep the denominator away from 0
      const att = new LinearAttention({ featureMap: 'identity' });
      close(att.call(q, k, v, { causal }), explicit(q, k, v, causal, 1e-6), 1e-10, 1e-12);
    }
  });

  it('parallel, chunkwise (any chunk size, padded) and recurrent causal forms agree with the explicit form (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1e6 }), fc.integer({ min: 1, max: 9 }), fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 5 }), fc.constantFrom('elu+1', 'relu'), (seed, Nq, extra, C, fmap) => {
        const [q, k, v] = qkv(seed, 1, 2, Nq, Nq + extra, 4);
        const phi = fmap === 'elu+1' ? elu1 : (x: Tensor) => x.relu();
        const want = explicit(phi(q), phi(k), v, true, 1e-6);
        for (const form of ['parallel', 'chunkwise', 'recurrent'] as CausalForm[]) {
          const att = new LinearAttention({ featureMap: fmap as 'relu', causalForm: form, chunkSize: C });
          close(att.call(q, k, v, { causal: true }), want, 1e-9, 1e-11, form);
        }
      }),
      { seed: 5, numRuns: 30 },
    );
  });

  it('non-causal with padding equals the explicit form over the kept keys', () => {
    const [q, k, v] = qkv(2, 2, 2, 5, 7, 4);
    const kpm = tensor([[1, 1, 1, 0, 1, 1, 0], [0, 0, 0, 0, 0, 0, 0]], { dtype: 'float64', backend: 'reference' });
    const out = new LinearAttention().call(q, k, v, { keyPaddingMask: kpm });
    const keep = reshape(ne(kpm, 0), [2, 1, 7, 1]);
    close(out, explicit(elu1(q), mul(elu1(k), keep), v, false, 1e-6), 1e-10, 1e-12);
    expect(Array.from(out.narrow(0, 1, 1).dataSync()).every((x) => x === 0)).toBe(true); // all keys padded -> 0
  });

  it('RoPE through the q/k hook rotates the numerator only (RoFormer eq. 19)', () => {
    const rope = testRope();
    for (const causal of [false, true]) {
      const [q, k, v] = qkv(3, 1, 2, 6, 6, 4);
      const [rq, rk] = rope(elu1(q), elu1(k), { offset: 0 });
      const want = explicit(elu1(q), elu1(k), v, causal, 1e-6, [rq, rk]);
      for (const form of ['parallel', 'chunkwise', 'recurrent'] as CausalForm[]) {
        const att = new LinearAttention({ causalForm: form, chunkSize: 4 });
        close(att.call(q, k, v, { causal, qkTransform: rope }), want, 1e-9, 1e-11);
      }
    }
  });

  it('step() token by token (and in chunks) equals the causal forward, also with RoPE', () => {
    const rope = testRope();
    const [q, k, v] = qkv(4, 2, 2, 7, 7, 4);
    for (const qkTransform of [undefined, rope]) {
      const att = new LinearAttention();
      const full = att.call(q, k, v, { causal: true, qkTransform });
      let state = null;
      const outs: Tensor[] = [];
      for (const [s, n] of [[0, 1], [1, 1], [2, 3], [5, 2]]) {
        const r = att.step(q.narrow(2, s, n), k.narrow(2, s, n), v.narrow(2, s, n), state, { qkTransform });
        outs.push(r.out);
        state = r.state;
      }
      close(cat(outs, 2), full, 1e-10, 1e-12);
      expect(state!.position).toBe(7);
    }
  });

  it('rejects a state from another config, a bias and bad options', () => {
    const [q, k, v] = qkv(5, 1, 2, 1, 1, 4);
    const { state } = new LinearAttention({ featureMap: 'relu' }).step(q, k, v);
    expect(() => new LinearAttention().step(q, k, v, state)).toThrow(/expected a state from LinearAttention\(featureMap=elu\+1\); got one from LinearAttention\(featureMap=relu\)/);
    const [q2, k2, v2] = qkv(5, 1, 3, 1, 1, 4);
    expect(() => new LinearAttention({ featureMap: 'relu' }).step(q2, k2, v2, state)).toThrow(/state for \(B, H, Dh\) = \(1, 3, 4\)/);
    expect(() => new LinearAttention().call(q, k, v, { bias: q.narrow(3, 0, 1) })).toThrow(/opts.bias is not supported/);
    expect(() => new LinearAttention({ causalForm: 'fast' as never })).toThrow(/opts.causalForm/);
    expect(() => new LinearAttention({ featureMap: 'gelu' as never })).toThrow(/featureMap 'elu\+1', 'relu', 'identity'/);
  });

  it('gradcheck in float64 for every form, causal and not', () => {
    const [q, k, v] = qkv(6, 1, 2, 5, 5, 3);
    for (const form of ['parallel', 'chunkwise', 'recurrent'] as CausalForm[]) {
      const att = new LinearAttention({ causalForm: form, chunkSize: 2 });
      assertGradcheck((a, b, c) => att.call(a, b, c, { causal: true }), [q, k, v]);
    }
    assertGradcheck((a, b, c) => new LinearAttention().call(a, b, c), [q, k, v]);
  });

  it('gradcheck in float64 with a key cache (Nk > Nq, causal) and with key padding (non-causal)', () => {
    const [q, k, v] = qkv(7, 1, 2, 4, 7, 3);
    for (const form of ['parallel', 'chunkwise', 'recurrent'] as CausalForm[]) {
      const att = new LinearAttention({ causalForm: form, chunkSize: 3 });
      assertGradcheck((a, b, c) => att.call(a, b, c, { causal: true }), [q, k, v]);
    }
    const kpm = tensor([[1, 0, 1, 1, 0, 1, 1]], { dtype: 'float64', backend: 'reference' });
    assertGradcheck((a, b, c) => new LinearAttention().call(a, b, c, { keyPaddingMask: kpm }), [q, k, v]);
  });

  it("the elu+1 feature map has elu's values and gradient (1 at x = 0, as torch)", () => {
    const xs = [-3, -0.5, 0, 1e-9, 0.5, 2];
    const x = tensor(xs, { dtype: 'float64', backend: 'reference' }).requiresGrad_();
    const y = featureMap('test', 'elu+1')(x);
    close(y, add(elu(x.detach()), 1), 1e-15, 0);
    sum(y).backward();
    close(x.grad!, tensor(xs.map((t) => (t > 0 ? 1 : Math.exp(t))), { dtype: 'float64', backend: 'reference' }), 1e-15, 0);
    assertGradcheck((a) => featureMap('test', 'elu+1')(a), [tensor([-1.3, -0.2, 0.4, 1.7], { dtype: 'float64', backend: 'reference' })]);
  });

  it('createAttentionCore builds it', () => {
    expect(createAttentionCore({ type: 'linear', featureMap: 'relu' }, { numHeads: 2, headDim: 4 })).toBeInstanceOf(LinearAttention);
  });
});
