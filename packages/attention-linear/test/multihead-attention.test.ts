import { describe, expect, it } from 'vitest';
import { Generator, assertGradcheck, cat, functionalCall, randn, sum, type Tensor } from '@formers/tensor-core';
import { MultiheadAttention, createAttentionCore, type AttentionConfig } from '../src/index.js';
import { close, testRope } from './helpers.js';

const ref = { dtype: 'float64' as const, backend: 'reference' as const };
const causalConfigs: AttentionConfig[] = [
  { type: 'softmax' },
  { type: 'softmax-chunked', keyChunkSize: 2, queryChunkSize: 3 },
  { type: 'linear' },
  { type: 'performer', numFeatures: 8 },
  { type: 'norm' },
  { type: 'diag', chunkSize: 3 },
  { type: 'sparse', pattern: { kind: 'sliding-window', window: 2 }, blockSize: 2 },
];

describe('MultiheadAttention', () => {
  for (const cfg of causalConfigs) {
    it(`${cfg.type}: step() with an explicit state equals the causal forward (with RoPE)`, () => {
      const mha = new MultiheadAttention(8, { numHeads: 2, attention: cfg, ...ref, generator: new Generator(1) });
      const x = randn([2, 7, 8], { ...ref, generator: new Generator(2) });
      const rope = testRope();
      const full = mha.call(x, undefined, undefined, { causal: true, qkTransform: rope });
      let st = null;
      const outs: Tensor[] = [];
      for (const [s, n] of [[0, 1], [1, 2], [3, 4]]) {
        const r = mha.step(x.narrow(1, s, n), st, { qkTransform: rope });
        outs.push(r.out);
        st = r.state;
      }
      close(cat(outs, 1), full, 1e-9, 1e-11);
    });
  }

  it('every config builds, runs non-causally and gives every parameter a gradient', () => {
    const all: AttentionConfig[] = [...causalConfigs, { type: 'linformer', projectedLength: 3 }];
    for (const cfg of all) {
      const mha = new MultiheadAttention(8, { numHeads: 2, attention: cfg, seqLen: 6, ...ref, generator: new Generator(3) });
      const x = randn([2, 6, 8], { ...ref, generator: new Generator(4) });
      const y = mha.call(x);
      expect(y.shape).toEqual([2, 6, 8]);
      sum(y.square()).backward();
      for (const [name, p] of mha.namedParameters()) {
        expect(p.grad, `${cfg.type} ${name}`).not.toBeNull();
      }
    }
  });

  it('gradcheck in float64 (input and projection weights), softmax and linear cores, causal', () => {
    for (const attention of [{ type: 'softmax' }, { type: 'linear' }] as AttentionConfig[]) {
      const mha = new MultiheadAttention(4, { numHeads: 2, attention, ...ref, generator: new Generator(5) });
      const sd = mha.stateDict();
      const names = ['q_proj.weight', 'k_proj.weight', 'v_proj.bias', 'out_proj.weight'];
      const x = randn([1, 4, 4], { ...ref, generator: new Generator(6) });
      assertGradcheck((xi, ...ps) => functionalCall(mha, Object.fromEntries(names.map((n, i) => [n, ps[i]])), xi, undefined, undefined, { causal: true }) as Tensor, [x, ...names.map((n) => sd.get(n)!.detach())]);
    }
  });

  it('uses PyTorch-style names; the core is "attn"', () => {
    const mha = new MultiheadAttention(8, { numHeads: 2, attention: { type: 'linformer', projectedLength: 2 }, seqLen: 4, ...ref });
    expect([...mha.stateDict().keys()]).toEqual(['q_proj.weight', 'q_proj.bias', 'k_proj.weight', 'k_proj.bias', 'v_proj.weight', 'v_proj.bias', 'out_proj.weight', 'out_proj.bias', 'attn.proj_k', 'attn.proj_v']);
  });

  it('cross-attention with kdim/vdim', () => {
    const mha = new MultiheadAttention(8, { numHeads: 4, kdim: 5, vdim: 3, ...ref });
    const y = mha.call(randn([2, 4, 8], ref), randn([2, 6, 5], ref), randn([2, 6, 3], ref));
    expect(y.shape).toEqual([2, 4, 8]);
  });

  it('rejects bad input and states from another config', () => {
    expect(() => new MultiheadAttention(10, { numHeads: 3 })).toThrow(/embedDim \(10\) divisible by opts.numHeads \(3\)/);
    const mha = new MultiheadAttention(8, { numHeads: 2, ...ref });
    expect(() => mha.call(randn([2, 4, 6], ref))).toThrow(/query of shape \(B, N, 8\); got \[2, 4, 6\]/);
    const { state } = mha.step(randn([1, 1, 8], ref));
    const lin = new MultiheadAttention(8, { numHeads: 2, attention: { type: 'linear' }, ...ref });
    expect(() => lin.step(randn([1, 1, 8], ref), state)).toThrow(/expected a state from MultiheadAttention\(LinearAttention/);
    const lf = new MultiheadAttention(8, { numHeads: 2, attention: { type: 'linformer', projectedLength: 2 }, seqLen: 4, ...ref });
    expect(() => lf.step(randn([1, 1, 8], ref))).toThrow(/LinformerAttention has no causal decoding/);
    expect(createAttentionCore({ type: 'diag' }, { numHeads: 2, headDim: 4 }).className).toBe('DiagAttention');
  });
});
