/**
 * Golden cases from tooling/reference/vision_transformer.py (our torch re-implementation of timm's
 * VisionTransformer structure): a timm-named state_dict loads unchanged (strict) and reproduces the logits and
 * gradients, at the training resolution and at new ones (learned table resampled; PEG with no resampling).
 */
import { loadStateDictFromSafetensors, noGrad, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { expectClose, goldenBytes, goldenFile, modelFromRef, type RefConfig } from './helpers.js';

function loadModel(name: string) {
  const { metadata } = goldenFile(`${name}-state-dict.safetensors`);
  const config = JSON.parse(metadata.config) as RefConfig;
  const model = modelFromRef(config);
  const r = loadStateDictFromSafetensors(model, goldenBytes(`${name}-state-dict.safetensors`), { strict: true });
  expect([r.missingKeys, r.unexpectedKeys]).toEqual([[], []]);
  return { model: model.eval(), config };
}

describe('golden: timm-structured ViT (class token, learned table)', () => {
  it('has exactly the state_dict keys of the reference, in the same order as timm registers them', () => {
    const { tensors } = goldenFile('vit-tiny-state-dict.safetensors');
    const { model } = loadModel('vit-tiny');
    const ours = [...model.stateDict().keys()];
    expect(new Set(ours)).toEqual(new Set(tensors.keys()));
    expect(ours.slice(0, 4)).toEqual(['cls_token', 'pos_embed', 'patch_embed.proj.weight', 'patch_embed.proj.bias']);
    expect(ours).toContain('blocks.1.attn.qkv.weight');
    expect(ours).toContain('blocks.0.mlp.fc2.bias');
    expect(ours.slice(-4)).toEqual(['norm.weight', 'norm.bias', 'head.weight', 'head.bias']);
  });

  it('reproduces the logits and every gradient at the training resolution (16 px)', () => {
    const { tensors } = goldenFile('vit-tiny-16px.safetensors');
    const { model } = loadModel('vit-tiny');
    const x = tensors.get('input.x')!.detach().requiresGrad_(true);
    const logits = model.call(x);
    expectClose(logits.dataSync(), tensors.get('output.logits')!.dataSync(), {}, 'logits');
    logits.mul(tensors.get('cotangent.logits')!).sum().backward();
    expectClose(x.grad!.dataSync(), tensors.get('grad.x')!.dataSync(), {}, 'grad x');
    for (const [name, p] of model.namedParameters()) {
      expectClose(p.grad!.dataSync(), tensors.get(`grad.${name}`)!.dataSync(), {}, `grad ${name}`);
    }
  });

  for (const size of [24, 12]) {
    it(`resamples the learned table bicubically (timm resample_abs_pos_embed) and matches at ${size} px`, () => {
      const { tensors, metadata } = goldenFile(`vit-tiny-${size}px.safetensors`);
      expect(JSON.parse(metadata.config).eval_size).toBe(size);
      const { model } = loadModel('vit-tiny');
      const logits = noGrad(() => model.call(tensors.get('x')!));
      expect(logits.shape).toEqual([2, 5]);
      expectClose(logits.dataSync(), tensors.get('logits')!.dataSync(), {}, `logits at ${size} px`);
    });
  }
});

describe('golden: CPVT-GAP (PEG after block 0, no class token, average pooling, LayerScale)', () => {
  it('uses timm/Twins PosConv key names for the PEG and fc_norm for average pooling', () => {
    const { model } = loadModel('cpvt-tiny-gap');
    const keys = [...model.stateDict().keys()];
    expect(keys).toContain('pos_block.0.proj.0.weight');
    expect(keys).toContain('pos_block.0.proj.0.bias');
    expect(keys).toContain('blocks.0.ls1.gamma');
    expect(keys).toContain('fc_norm.weight');
    expect(keys).not.toContain('norm.weight');
    expect(keys).not.toContain('cls_token');
    expect(keys).not.toContain('pos_embed');
  });

  it('reproduces the logits and every gradient at 16 px', () => {
    const { tensors } = goldenFile('cpvt-tiny-gap-16px.safetensors');
    const { model } = loadModel('cpvt-tiny-gap');
    const x = tensors.get('input.x')!.detach().requiresGrad_(true);
    const logits = model.call(x);
    expectClose(logits.dataSync(), tensors.get('output.logits')!.dataSync(), {}, 'logits');
    logits.mul(tensors.get('cotangent.logits')!).sum().backward();
    expectClose(x.grad!.dataSync(), tensors.get('grad.x')!.dataSync(), {}, 'grad x');
    for (const [name, p] of model.namedParameters()) {
      expectClose((p.grad as Tensor).dataSync(), tensors.get(`grad.${name}`)!.dataSync(), {}, `grad ${name}`);
    }
  });

  for (const size of [24, 32]) {
    it(`runs at the unseen ${size} px with no resampling and matches`, () => {
      const { tensors } = goldenFile(`cpvt-tiny-gap-${size}px.safetensors`);
      const { model } = loadModel('cpvt-tiny-gap');
      const logits = noGrad(() => model.call(tensors.get('x')!));
      expectClose(logits.dataSync(), tensors.get('logits')!.dataSync(), {}, `logits at ${size} px`);
    });
  }
});
