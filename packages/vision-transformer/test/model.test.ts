/** Model-level checks: named configs build, every position encoding x attention option runs and trains. */
import { Generator, noGrad, randn, tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import {
  createModel,
  MODEL_NAMES,
  VisionTransformer,
  type AttentionOption,
  type PositionEncodingOption,
  type VisionTransformerOptions,
} from '../src/index.js';
import { allFinite, expectClose, weightedSum } from './helpers.js';

const TINY: VisionTransformerOptions = { imgSize: 16, patchSize: 4, embedDim: 16, depth: 2, numHeads: 2, numClasses: 3 };

/** timm's parameter counts for these configs (timm.create_model(name).num_params; CPVT-Ti from DeiT-Ti - pos_embed + PEG). */
const TIMM_PARAMS: Record<string, number> = {
  vit_tiny_patch16_224: 5_717_416,
  vit_small_patch16_224: 22_050_664,
  vit_base_patch16_224: 86_567_656,
  cpvt_ti: 5_717_416 - 197 * 192 + (192 * 9 + 192),
  cpvt_ti_gap: 5_717_416 - 197 * 192 + (192 * 9 + 192) - 192,
};

describe('named configs', () => {
  for (const name of MODEL_NAMES) {
    const big = name in TIMM_PARAMS;
    // Building vit_base means initialising 86M parameters on the host: allow minutes on a loaded 2-core machine.
    it(`${name} builds${big ? " with timm's parameter count" : ' and runs'}`, { timeout: big ? 600_000 : undefined }, () => {
      // Big models: build (without the second, timm-init pass) and count only; no forward.
      const m = createModel(name, { generator: new Generator(1), initWeights: !big });
      if (big) {
        expect(m.numParams()).toBe(TIMM_PARAMS[name]);
        return;
      }
      const x = randn([2, 3, 32, 32], { generator: new Generator(2) });
      const y = m.call(x);
      expect(y.shape).toEqual([2, 10]);
      expect(allFinite(y)).toBe(true);
    });
  }

  it("applies timm's init: trunc-normal(0.02) Linear weights, zero biases, cls_token ~ N(0, 1e-6)", () => {
    const m = new VisionTransformer({ ...TINY, embedDim: 64, numHeads: 4, generator: new Generator(30) });
    const w = Array.from(m.blocks.at(0).mlp.fc1.weight.dataSync());
    const std = Math.sqrt(w.reduce((a, v) => a + v * v, 0) / w.length);
    expect(std).toBeGreaterThan(0.018);
    expect(std).toBeLessThan(0.022);
    expect(Array.from(m.blocks.at(0).attn.qkv.bias!.dataSync()).every((v) => v === 0)).toBe(true);
    expect(Math.max(...Array.from(m.clsToken!.dataSync(), Math.abs))).toBeLessThan(1e-5);
    const plain = new VisionTransformer({ ...TINY, embedDim: 64, numHeads: 4, initWeights: false, generator: new Generator(30) });
    expect(Math.max(...Array.from(plain.blocks.at(0).mlp.fc1.weight.dataSync(), Math.abs))).toBeGreaterThan(0.06); // torch's U(-1/8, 1/8)
  });

  it('createModel rejects unknown names', () => {
    expect(() => createModel('vit_huge' as never)).toThrow(/expected name to be one of .*vit_tiny_patch16_224.*got "vit_huge"/);
  });
});

const POS: [string, PositionEncodingOption][] = [
  ['none', 'none'],
  ['learned', 'learned'],
  ['sincos2d', 'sincos2d'],
  ['rope2d axial', { type: 'rope2d', mode: 'axial' }],
  ['rope2d mixed', { type: 'rope2d', mode: 'mixed' }],
  ['peg', 'peg'],
  // depth 3 below for this one: a PEG after the last block cannot reach the class token, so its gradient would be 0.
  ['peg after blocks 0 and 1', { type: 'peg', positions: [0, 1] }],
];
const ATTN: [string, AttentionOption | undefined][] = [
  ['softmax (inline)', undefined],
  ['softmax (attention-linear core)', { type: 'softmax', scale: 0.5 }],
  ['linear', { type: 'linear' }],
  ['performer', { type: 'performer', numFeatures: 16 }],
];

describe('every position encoding x attention option', () => {
  for (const [pn, pe] of POS) {
    for (const [an, attention] of ATTN) {
      for (const head of ['token', 'avg'] as const) {
        it(`${pn} / ${an} / ${head}: shapes, finite, every parameter gets a gradient, also at an unseen resolution`, () => {
          const depth = typeof pe === 'object' && pe.type === 'peg' ? 3 : 2;
          const m = new VisionTransformer({ ...TINY, depth, posEncoding: pe, attention, globalPool: head, classToken: head === 'token', generator: new Generator(3) });
          const x = randn([2, 3, 16, 16], { generator: new Generator(4) });
          const y = m.call(x);
          expect(y.shape).toEqual([2, 3]);
          expect(allFinite(y)).toBe(true);
          weightedSum(y).backward();
          for (const [name, p] of m.namedParameters()) {
            expect(p.grad, `gradient of ${name}`).not.toBeNull();
            expect(allFinite(p.grad!), `finite gradient of ${name}`).toBe(true);
            expect(Array.from(p.grad!.dataSync()).some((v) => v !== 0), `nonzero gradient of ${name}`).toBe(true);
          }
          const big = noGrad(() => m.eval().call(randn([1, 3, 24, 20], { generator: new Generator(5) })));
          expect(big.shape).toEqual([1, 3]);
          expect(allFinite(big)).toBe(true);
        });
      }
    }
  }
});

describe('attention through attention-linear', () => {
  it("SoftmaxAttention with timm's scale gives the inline softmax's logits", () => {
    const a = new VisionTransformer({ ...TINY, generator: new Generator(7) });
    const b = new VisionTransformer({ ...TINY, generator: new Generator(8), attention: { type: 'softmax', scale: 8 ** -0.5 } });
    b.loadStateDict(a.stateDict());
    const x = randn([2, 3, 16, 16], { generator: new Generator(9) });
    expectClose(b.call(x).dataSync(), a.call(x).dataSync());
  });

  it('keeps the state_dict keys of the projections whatever the core', () => {
    const a = new VisionTransformer({ ...TINY, generator: new Generator(7) });
    const b = new VisionTransformer({ ...TINY, generator: new Generator(7), attention: { type: 'linear' } });
    expect([...b.stateDict().keys()]).toEqual([...a.stateDict().keys()]);
  });
});

describe('resolution handling', () => {
  it('runs the learned table at a new, non-square grid by resampling it (values: see the golden cases), and trains it there', () => {
    const m = new VisionTransformer({ ...TINY, generator: new Generator(10) });
    const x = randn([1, 3, 32, 24], { generator: new Generator(11) });
    const { tokens, layout } = m.forwardFeatures(x);
    expect(layout.gridSize).toEqual([8, 6]);
    expect(tokens.shape).toEqual([1, 1 + 48, 16]);
    expect(m.posEmbed!.shape).toEqual([1, 1 + 16, 16]); // the parameter keeps its trained grid
    weightedSum(m.forwardHead(tokens)).backward();
    const g = Array.from(m.posEmbed!.grad!.dataSync());
    expect(g.slice(16).some((v) => v !== 0)).toBe(true); // patch rows get gradient through the bicubic resampling
    expect(g.slice(0, 16).some((v) => v !== 0)).toBe(true); // and the class-token row directly
  });

  it('PEG, sin-cos, RoPE and none run at any grid with no table at all', () => {
    for (const pe of ['peg', 'sincos2d', 'rope2d', 'none'] as const) {
      const m = new VisionTransformer({ ...TINY, posEncoding: pe, generator: new Generator(12) });
      expect([...m.stateDict().keys()].some((k) => k === 'pos_embed')).toBe(false);
      expect(noGrad(() => m.call(randn([1, 3, 28, 36]))).shape).toEqual([1, 3]);
    }
  });

  it('dynamicImgPad zero-pads sizes that do not divide, bottom and right', () => {
    const m = new VisionTransformer({ ...TINY, posEncoding: 'peg', dynamicImgPad: true, generator: new Generator(13) }).eval();
    const x = randn([1, 3, 15, 13], { generator: new Generator(14) });
    const xs = x.dataSync();
    const pd = new Float32Array(3 * 16 * 16);
    for (let c = 0; c < 3; c++) for (let r = 0; r < 15; r++) for (let q = 0; q < 13; q++) pd[(c * 16 + r) * 16 + q] = xs[(c * 15 + r) * 13 + q];
    const a = noGrad(() => m.call(x));
    const b = noGrad(() => m.call(tensor(pd, { shape: [1, 3, 16, 16] })));
    expectClose(a.dataSync(), b.dataSync());
    expect(Array.from(x.dataSync())).toEqual(Array.from(xs)); // input not mutated
  });
});
