/** Conformance ops of @formers/vision-transformer (cases written by tooling/reference/vision_transformer.py). */
import { registerConformanceOp } from '../../../tooling/src/conformance/registry.js';
import { functionalCall, type Tensor } from '@formers/tensor-core';
import { VisionTransformer } from '@formers/vision-transformer';

const source = { source: '@formers/vision-transformer' };

/** vit_forward: input x (B, C, H, W), params with timm VisionTransformer names -> logits (B, classes). */
registerConformanceOp('vit_forward', (i, p, c, ctx) => {
  const model = new VisionTransformer({
    imgSize: c.img_size as number,
    patchSize: c.patch_size as number,
    inChans: c.in_chans as number,
    embedDim: c.embed_dim as number,
    depth: c.depth as number,
    numHeads: c.num_heads as number,
    mlpRatio: c.mlp_ratio as number,
    numClasses: c.num_classes as number,
    initValues: c.init_values as number | null,
    classToken: c.class_token as boolean,
    globalPool: c.global_pool as 'token' | 'avg',
    posEncoding: c.pos_encoding === 'peg' ? { type: 'peg', positions: c.peg_positions as number[] } : 'learned',
    dtype: ctx.dtype as 'float32',
    backend: ctx.backend,
  });
  // functionalCall (not loadStateDict) so that the runner's parameter leaves receive the gradients.
  return { logits: functionalCall(model, p, i.x) as Tensor };
}, source);
