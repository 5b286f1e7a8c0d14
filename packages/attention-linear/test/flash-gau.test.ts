import { describe, expect, it } from 'vitest';
import { Generator, assertGradcheck, cat, functionalCall, randn, tensor, type Tensor } from '@formers/tensor-core';
import { FLASH, FLASHQuad, GAU, t5RelativeBucket } from '../src/index.js';
import { close } from './helpers.js';

const ref = { dtype: 'float64' as const, backend: 'reference' as const };
const x = (seed: number, B: number, N: number, D: number) => randn([B, N, D], { ...ref, generator: new Generator(seed) });

describe('T5 relative bucket', () => {
  it('matches the T5 definition at a few hand-checked offsets', () => {
    const o = { causal: false, numBuckets: 32, maxDistance: 128 };
    // Bidirectional: 16 buckets per sign, 8 exact; n = i - j > 0 (key before query) -> lower half.
    expect([0, 1, 7].map((n) => t5RelativeBucket(n, o))).toEqual([0, 1, 7]);
    expect(t5RelativeBucket(-1, o)).toBe(17);
    expect(t5RelativeBucket(8, o)).toBe(8); // log bucket start: 8 + floor(log(1) ...) = 8
    expect(t5RelativeBucket(1000, o)).toBe(15); // clamped to the last bucket of the half
    expect(t5RelativeBucket(-5, { ...o, causal: true })).toBe(0); // future offsets clamp to 0 causally
  });
});

describe('GAU / FLASH-Quad', () => {
  it('is causal: outputs never depend on later tokens', () => {
    const gau = new GAU(6, { queryKeyDim: 4, causal: true, ...ref, generator: new Generator(1) });
    const a = x(2, 1, 7, 6);
    const b = cat([a.narrow(1, 0, 4), x(3, 1, 3, 6)], 1);
    // The score scale is 1/N with the same N, so the first 4 outputs must agree exactly.
    close(gau.call(b).narrow(1, 0, 4), gau.call(a).narrow(1, 0, 4), 1e-12, 1e-12);
  });

  it('padding mask: masked keys do not influence other tokens (non-causal)', () => {
    const gau = new GAU(6, { queryKeyDim: 4, ...ref, generator: new Generator(4) });
    const a = x(5, 1, 6, 6);
    const b = cat([a.narrow(1, 0, 5), x(6, 1, 1, 6)], 1);
    const m = tensor([[1, 1, 1, 1, 1, 0]], ref);
    close(gau.call(b, { keyPaddingMask: m }).narrow(1, 0, 5), gau.call(a, { keyPaddingMask: m }).narrow(1, 0, 5), 1e-12, 1e-12);
  });

  it('FLASH-Quad stacks GAUs with PyTorch-style names', () => {
    const m = new FLASHQuad(4, { depth: 2, queryKeyDim: 4, ...ref });
    const keys = [...m.stateDict().keys()];
    expect(keys.slice(0, 9)).toEqual(['layers.0.norm.weight', 'layers.0.norm.bias', 'layers.0.to_hidden.weight', 'layers.0.to_hidden.bias', 'layers.0.to_qk.weight', 'layers.0.to_qk.bias', 'layers.0.offsetscale.gamma', 'layers.0.offsetscale.beta', 'layers.0.rel_pos_bias.relative_attention_bias.weight']);
    expect(m.call(x(1, 2, 5, 4)).shape).toEqual([2, 5, 4]);
  });

  it('gradcheck in float64 (input and parameters)', () => {
    for (const causal of [false, true]) {
      const gau = new GAU(4, { queryKeyDim: 3, causal, ...ref, generator: new Generator(7) });
      const sd = gau.stateDict();
      const names = ['to_qk.weight', 'offsetscale.gamma', 'rel_pos_bias.relative_attention_bias.weight', 'to_hidden.weight'];
      assertGradcheck((xi, ...ps) => functionalCall(gau, Object.fromEntries(names.map((n, i) => [n, ps[i]])), xi) as Tensor, [x(8, 1, 5, 4), ...names.map((n) => sd.get(n)!.detach())]);
    }
  });
});

describe('FLASH (mixed chunk attention)', () => {
  it('causal: step() token by token equals the forward, across chunk boundaries and a ragged tail', () => {
    const flash = new FLASH(6, { groupSize: 3, queryKeyDim: 4, causal: true, ...ref, generator: new Generator(9) });
    const a = x(10, 2, 8, 6);
    const full = flash.call(a);
    let st = null;
    const outs: Tensor[] = [];
    for (const [s, n] of [[0, 1], [1, 3], [4, 4]]) {
      const r = flash.step(a.narrow(1, s, n), st);
      outs.push(r.out);
      st = r.state;
    }
    close(cat(outs, 1), full, 1e-10, 1e-12);
    const other = new FLASH(6, { groupSize: 2, queryKeyDim: 4, causal: true, ...ref });
    expect(() => other.step(a.narrow(1, 0, 1), st)).toThrow(/expected a state from FLASH\(dim=6, groupSize=2/);
    expect(() => new FLASH(6, { ...ref }).step(a)).toThrow(/causal FLASH/);
  });

  it('causal: earlier outputs do not depend on later tokens (linear part by exclusive cumsum)', () => {
    const flash = new FLASH(6, { groupSize: 2, queryKeyDim: 4, causal: true, ...ref, generator: new Generator(11) });
    const a = x(12, 1, 7, 6);
    const b = cat([a.narrow(1, 0, 3), x(13, 1, 4, 6)], 1);
    close(flash.call(b).narrow(1, 0, 3), flash.call(a).narrow(1, 0, 3), 1e-12, 1e-12);
  });

  it('non-causal with one chunk covering the sequence: quadratic GAU scores plus a global linear term', () => {
    // With G >= N and no padding the quadratic part sees every token; check shapes and finiteness on a ragged size.
    const flash = new FLASH(4, { groupSize: 4, queryKeyDim: 3, ...ref, generator: new Generator(14) });
    const y = flash.call(x(15, 2, 6, 4), { keyPaddingMask: tensor([[1, 1, 1, 1, 1, 1], [1, 1, 1, 0, 0, 0]], ref) });
    expect(y.shape).toEqual([2, 6, 4]);
    expect(Array.from(y.dataSync()).every(Number.isFinite)).toBe(true);
  });

  it('gradcheck in float64, causal and not', () => {
    for (const causal of [false, true]) {
      const flash = new FLASH(4, { groupSize: 2, queryKeyDim: 3, causal, ...ref, generator: new Generator(16) });
      const sd = flash.stateDict();
      const names = ['qk_offset_scale.gamma', 'to_qk.weight', 'to_out.weight'];
      assertGradcheck((xi, ...ps) => functionalCall(flash, Object.fromEntries(names.map((n, i) => [n, ps[i]])), xi) as Tensor, [x(17, 1, 5, 4), ...names.map((n) => sd.get(n)!.detach())]);
    }
  });

  it('rejects bad input', () => {
    const flash = new FLASH(4, { groupSize: 2, queryKeyDim: 3, ...ref });
    expect(() => flash.call(x(1, 1, 3, 5))).toThrow(/expected x of shape \(B, N, 4\); got \[1, 3, 5\]/);
    expect(() => flash.call(x(1, 1, 3, 4), { keyPaddingMask: tensor([[1, 1]], ref) })).toThrow(/keyPaddingMask of shape \[1, 3\]/);
    expect(() => new FLASH(4, { groupSize: 0 })).toThrow(/opts.groupSize/);
  });
});

describe('relative bias cache', () => {
  it('survives tidy(): a second call inside a new scope reuses valid bucket ids', async () => {
    const { tidy } = await import('@formers/tensor-core');
    const flash = new FLASH(4, { groupSize: 2, queryKeyDim: 3, ...ref, generator: new Generator(1) });
    const a = tidy(() => Array.from(flash.call(x(2, 1, 4, 4)).dataSync()));
    const b = tidy(() => Array.from(flash.call(x(2, 1, 4, 4)).dataSync()));
    expect(b).toEqual(a);
  });
});
