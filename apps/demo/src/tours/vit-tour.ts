/**
 * CPVT (Chu et al. 2021) at toy scale: a vision transformer with a position encoding generator (PEG) and global
 * average pooling, trained on generated shapes at 32 px, then evaluated at 32 and 48 px without fine-tuning —
 * PEG needs no table to resize. The full comparison across encodings is `experiment:cpvt` in the package.
 */
import { SyntheticShapes, Trainer, VisionTransformer } from '@formers/vision-transformer';
import { Generator } from '@formers/tensor-core';

export interface VitTourResult {
  readonly firstLoss: number;
  readonly lastLoss: number;
  /** Top-1 accuracy on held-out scenes by test resolution (px). */
  readonly accuracy: ReadonlyArray<{ size: number; accuracy: number }>;
  readonly numClasses: number;
}

export function vitTour(opts: { steps?: number; batchSize?: number; evalCount?: number; onStep?: (step: number, loss: number) => void } = {}): VitTourResult {
  const steps = opts.steps ?? 60;
  const data = { radiusRange: [0.22, 0.4] as const, textures: ['gradient'] as const };
  const train = new SyntheticShapes({ seed: 1, ...data });
  const test = new SyntheticShapes({ seed: 2, ...data });
  const model = new VisionTransformer({
    imgSize: 32,
    patchSize: 8,
    embedDim: 32,
    depth: 2,
    numHeads: 2,
    numClasses: train.numClasses,
    posEncoding: { type: 'peg' },
    globalPool: 'avg',
    classToken: false,
    generator: new Generator(1000),
  });
  const trainer = new Trainer({ model, dataset: train, imageSize: 32, batchSize: opts.batchSize ?? 32, totalSteps: steps, lr: 3e-3, seed: 0, progress: false });
  const hist = trainer.run({ onStep: (r) => opts.onStep?.(r.step, r.loss) });
  const mean = (xs: number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;
  const k = Math.min(5, hist.length);
  return {
    firstLoss: mean(hist.slice(0, k).map((r) => r.loss)),
    lastLoss: mean(hist.slice(-k).map((r) => r.loss)),
    accuracy: [32, 48].map((size) => ({ size, accuracy: trainer.evaluate(test, { size, count: opts.evalCount ?? 120 }) })),
    numClasses: train.numClasses,
  };
}
