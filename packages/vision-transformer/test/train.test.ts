/** The training loop: it learns, and a checkpoint resumes to the identical next step. */
import { crossEntropy, Generator, noGrad, parseSafetensors, saveSafetensors, tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { CHECKPOINT_FORMAT, normalize, stackImages, SyntheticShapes, Trainer, VisionTransformer } from '../src/index.js';

const modelOpts = { imgSize: 16, patchSize: 4, embedDim: 16, depth: 1, numHeads: 2, numClasses: 6, posEncoding: 'peg' } as const;

/** Mean loss over the first n samples of a dataset, in eval mode. */
function lossOn(model: VisionTransformer, ds: { sample: SyntheticShapes['sample'] }, n: number): number {
  const samples = Array.from({ length: n }, (_, i) => ds.sample(i, 16));
  const x = stackImages(samples.map((s) => normalize(s.image)));
  const y = tensor(Int32Array.from(samples.map((s) => s.label)), { shape: [samples.length], dtype: 'int32' });
  model.eval();
  return noGrad(() => crossEntropy(model.call(x), y).item());
}

describe('Trainer', () => {
  it('a few AdamW steps (warmup + cosine, label smoothing, clipping, flips) lower the loss on a small synthetic set', () => {
    const model = new VisionTransformer({ ...modelOpts, generator: new Generator(1) });
    // 16 fixed scenes, cycled: a few dozen steps must fit them (a from-scratch ViT needs far more to generalise).
    const shapes = new SyntheticShapes({ seed: 1 });
    const small = { sample: (i: number, size: number) => shapes.sample(i % 16, size) };
    const before = lossOn(model, small, 16);
    const trainer = new Trainer({ model, dataset: small, imageSize: 16, batchSize: 16, totalSteps: 30, lr: 5e-3, warmupSteps: 3, augment: { scale: [1, 1], flip: true }, progress: false });
    const hist = trainer.run();
    expect(hist.length).toBe(30);
    expect(hist.every((r) => Number.isFinite(r.loss) && Number.isFinite(r.gradNorm))).toBe(true);
    expect(hist[0].lr).toBeCloseTo(5e-3 / 3, 10);
    expect(hist[29].lr).toBeLessThan(1e-4);
    const after = lossOn(model, small, 16);
    expect(after).toBeLessThan(before - 0.3);
  });

  it('keeps biases, norms, cls_token and pos_embed out of weight decay (timm)', () => {
    const model = new VisionTransformer({ ...modelOpts, posEncoding: 'learned', generator: new Generator(1) });
    const trainer = new Trainer({ model, dataset: new SyntheticShapes(), imageSize: 16, totalSteps: 1, progress: false });
    const [decay, noDecay] = trainer.optimizer.paramGroups;
    const names = new Map(model.namedParameters().map(([n, p]) => [p, n]));
    expect(noDecay.weightDecay).toBe(0);
    expect(noDecay.params.map((p) => names.get(p))).toEqual(expect.arrayContaining(['cls_token', 'pos_embed', 'blocks.0.norm1.weight', 'head.bias']));
    expect(decay.params.map((p) => names.get(p))).toEqual(expect.arrayContaining(['blocks.0.attn.qkv.weight', 'head.weight', 'patch_embed.proj.weight']));
    expect(decay.params.every((p) => p.ndim >= 2)).toBe(true);
  });

  it('a checkpoint (safetensors, with optimizer state) resumes to the identical next step', () => {
    const mk = (seed: number) => {
      const model = new VisionTransformer({ ...modelOpts, generator: new Generator(seed) });
      return new Trainer({ model, dataset: new SyntheticShapes({ seed: 5 }), imageSize: 16, batchSize: 8, totalSteps: 10, lr: 2e-3, seed: 3, progress: false });
    };
    const a = mk(1);
    a.run({ untilStep: 3 });
    const bytes = a.saveCheckpoint({ note: 'test' });
    const meta = parseSafetensors(bytes).metadata;
    expect(meta.format).toBe(CHECKPOINT_FORMAT);
    expect(meta.step).toBe('3');
    const nextA = a.trainStep();
    const b = mk(99); // different init: everything must come from the checkpoint
    expect(b.loadCheckpoint(bytes)).toEqual({ note: 'test' });
    expect(b.step).toBe(3);
    const nextB = b.trainStep();
    expect(nextB).toEqual(nextA);
    const pa = a.model.stateDict();
    for (const [k, t] of b.model.stateDict()) expect(Array.from(t.dataSync()), k).toEqual(Array.from(pa.get(k)!.dataSync()));
  });

  it('rejects a file that is not a checkpoint', () => {
    const t = new Trainer({ model: new VisionTransformer(modelOpts), dataset: new SyntheticShapes(), totalSteps: 1, imageSize: 16, progress: false });
    const other = new VisionTransformer(modelOpts).stateDict();
    expect(() => t.loadCheckpoint(saveSafetensors(other))).toThrow(/expected a checkpoint with metadata format/);
  });
});
