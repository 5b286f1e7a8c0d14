/**
 * A small image-classification training loop in timm's recipe: AdamW (no weight decay on biases, norms, the class
 * token and position tables, as timm's param_groups_weight_decay), linear warmup then cosine decay, label
 * smoothing, gradient-norm clipping, random-resized-crop + horizontal-flip augmentation, a progress bar, and
 * checkpoints that resume to the identical next step.
 *
 * Sample i of step s is dataset index s * batchSize + i (a deterministic stream); augmentation draws from the
 * trainer's own seeded generator, whose state is part of the checkpoint.
 */
import {
  AdamW,
  clipGradNorm_,
  cosineWithWarmupLr,
  crossEntropy,
  Generator,
  noGrad,
  tensor,
  tidy,
  type Module,
  type Tensor,
} from '@formers/tensor-core';
import { loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { createProgress, type ProgressReporter } from './progress.js';
import { stackImages, type RenderedImage } from './synthetic-shapes.js';
import { normalize, randomHorizontalFlip, randomResizedCrop } from './transforms.js';
import { checkInt, checkRange } from './validate.js';

/** What the trainer reads: sample `index` rendered at `size` (SyntheticShapes satisfies it). */
export interface ImageDataset {
  sample(index: number, size: number): { image: RenderedImage; label: number };
}

/** A classifier: images (B, 3, H, W) -> logits (B, classes). */
export interface ImageClassifier extends Module {
  forward(x: Tensor): Tensor;
}

export interface TrainerOptions {
  readonly model: ImageClassifier;
  readonly dataset: ImageDataset;
  /** Training resolution (default 32). */
  readonly imageSize?: number;
  readonly batchSize?: number;
  /** Total optimisation steps (the cosine ends here). */
  readonly totalSteps: number;
  /** Peak learning rate (default 1e-3). */
  readonly lr?: number;
  readonly minLr?: number;
  /** Default 5% of totalSteps. */
  readonly warmupSteps?: number;
  /** AdamW decoupled weight decay (default 0.05, timm/DeiT). */
  readonly weightDecay?: number;
  /** Default 0.1 (DeiT). */
  readonly labelSmoothing?: number;
  /** Max global gradient norm; null = no clipping (default 1). */
  readonly clipGradNorm?: number | null;
  /** RandomResizedCrop area range and flip; false = no augmentation. Default { scale: [0.5, 1], flip: true }. */
  readonly augment?: { readonly scale?: readonly [number, number]; readonly flip?: boolean } | false;
  /** Seed of the augmentation generator (default 0). */
  readonly seed?: number;
  /** Show a progress bar (default: stderr is a TTY). */
  readonly progress?: boolean;
  readonly title?: string;
}

export interface StepResult {
  readonly step: number;
  readonly loss: number;
  readonly lr: number;
  readonly gradNorm: number;
}

/** Names that timm keeps out of weight decay besides every 1-D parameter. */
const NO_DECAY = new Set(['cls_token', 'pos_embed']);

export class Trainer {
  readonly model: ImageClassifier;
  readonly optimizer: AdamW;
  readonly generator: Generator;
  step = 0;
  private readonly o: Required<Omit<TrainerOptions, 'model' | 'dataset' | 'augment' | 'progress' | 'title' | 'clipGradNorm'>> & {
    augment: TrainerOptions['augment'];
    clipGradNorm: number | null;
  };
  private readonly dataset: ImageDataset;
  private readonly progressEnabled: boolean | undefined;
  private readonly title: string;

  constructor(opts: TrainerOptions) {
    const op = 'Trainer';
    if (opts === null || typeof opts !== 'object' || !opts.model || !opts.dataset) throw new Error(`${op}: expected { model, dataset, totalSteps, ... }`);
    const totalSteps = checkInt(op, 'opts.totalSteps', opts.totalSteps);
    this.o = {
      imageSize: checkInt(op, 'opts.imageSize', opts.imageSize ?? 32),
      batchSize: checkInt(op, 'opts.batchSize', opts.batchSize ?? 32),
      totalSteps,
      lr: checkRange(op, 'opts.lr', opts.lr ?? 1e-3, 0, 10),
      minLr: checkRange(op, 'opts.minLr', opts.minLr ?? 1e-5, 0, 10),
      warmupSteps: checkInt(op, 'opts.warmupSteps', opts.warmupSteps ?? Math.round(0.05 * totalSteps), 0),
      weightDecay: checkRange(op, 'opts.weightDecay', opts.weightDecay ?? 0.05, 0, 10),
      labelSmoothing: checkRange(op, 'opts.labelSmoothing', opts.labelSmoothing ?? 0.1, 0, 1),
      clipGradNorm: opts.clipGradNorm === null ? null : checkRange(op, 'opts.clipGradNorm', opts.clipGradNorm ?? 1, 0, Infinity),
      augment: opts.augment ?? { scale: [0.5, 1], flip: true },
      seed: checkInt(op, 'opts.seed', opts.seed ?? 0, 0),
    };
    this.model = opts.model;
    this.dataset = opts.dataset;
    this.progressEnabled = opts.progress;
    this.title = opts.title ?? 'train';
    this.generator = new Generator(this.o.seed);
    const decay: Tensor[] = [];
    const noDecay: Tensor[] = [];
    for (const [name, p] of this.model.namedParameters()) (p.ndim <= 1 || NO_DECAY.has(name) ? noDecay : decay).push(p);
    const groups = [{ params: decay, weightDecay: this.o.weightDecay }, { params: noDecay, weightDecay: 0 }].filter((g) => g.params.length > 0);
    this.optimizer = new AdamW(groups, { lr: this.o.lr });
  }

  /** The augmented, normalised batch of step `step`: images (B, 3, S, S) and int32 labels (B). */
  batch(step: number): { images: Tensor; labels: Tensor } {
    const { batchSize: b, imageSize: s, augment } = this.o;
    const imgs: RenderedImage[] = [];
    const labels = new Int32Array(b);
    for (let i = 0; i < b; i++) {
      const { image, label } = this.dataset.sample(step * b + i, s);
      let im = image;
      if (augment) {
        im = randomResizedCrop(im, { size: s, scale: augment.scale ?? [0.5, 1] }, this.generator);
        if (augment.flip ?? true) im = randomHorizontalFlip(im, this.generator);
      }
      imgs.push(normalize(im));
      labels[i] = label;
    }
    return { images: stackImages(imgs), labels: tensor(labels, { shape: [b], dtype: 'int32' }) };
  }

  /** One optimisation step; returns its loss (before the update), lr and gradient norm. */
  trainStep(): StepResult {
    const step = this.step;
    const lr = cosineWithWarmupLr(step + 1, this.o.lr, { warmupSteps: this.o.warmupSteps, totalSteps: this.o.totalSteps, minLr: this.o.minLr });
    for (const g of this.optimizer.paramGroups) g.lr = lr;
    this.model.train();
    const { loss, gradNorm } = tidy(() => {
      const { images, labels } = this.batch(step);
      this.optimizer.zeroGrad();
      const l = crossEntropy(this.model.call(images), labels, { labelSmoothing: this.o.labelSmoothing });
      l.backward();
      const norm = this.o.clipGradNorm === null ? NaN : clipGradNorm_(this.model.parameters(), this.o.clipGradNorm).item();
      this.optimizer.step();
      return { loss: l.item(), gradNorm: norm };
    });
    this.step++;
    return { step: this.step, loss, lr, gradNorm };
  }

  /** Run until `untilStep` (default totalSteps), with a progress bar; `onStep` sees every result. */
  run(opts: { untilStep?: number; onStep?: (r: StepResult) => void } = {}): StepResult[] {
    const until = opts.untilStep ?? this.o.totalSteps;
    const bar: ProgressReporter = createProgress(until, this.title, this.progressEnabled);
    const out: StepResult[] = [];
    const t0 = performance.now();
    const start = this.step;
    try {
      while (this.step < until) {
        const r = this.trainStep();
        out.push(r);
        opts.onStep?.(r);
        const secs = (performance.now() - t0) / 1000;
        bar.update(this.step, { loss: r.loss, lr: r.lr, imgPerSec: ((this.step - start) * this.o.batchSize) / Math.max(secs, 1e-9) });
      }
    } finally {
      bar.stop();
    }
    return out;
  }

  /** Top-1 accuracy on dataset indices [from, from + count) rendered at `size` (no augmentation). */
  evaluate(dataset: ImageDataset, opts: { size: number; from?: number; count: number; batchSize?: number }): number {
    const size = checkInt('Trainer.evaluate', 'opts.size', opts.size);
    const count = checkInt('Trainer.evaluate', 'opts.count', opts.count);
    const from = opts.from ?? 0;
    const bs = opts.batchSize ?? 50;
    this.model.eval();
    let correct = 0;
    for (let s = 0; s < count; s += bs) {
      const n = Math.min(bs, count - s);
      const samples = Array.from({ length: n }, (_, i) => dataset.sample(from + s + i, size));
      correct += noGrad(() =>
        tidy(() => {
          const pred = this.model.call(stackImages(samples.map((x) => normalize(x.image)))).argmax(1).dataSync();
          return samples.reduce((c, x, i) => c + (pred[i] === x.label ? 1 : 0), 0);
        }),
      );
    }
    return correct / count;
  }

  /** The whole training state as safetensors bytes. */
  saveCheckpoint(info: Record<string, unknown> = {}): Uint8Array {
    return saveCheckpoint(this.model, this.optimizer, { step: this.step, generatorState: this.generator.getState(), info });
  }

  /** Restore `saveCheckpoint` bytes into this trainer (same model config and options). */
  loadCheckpoint(bytes: Uint8Array): Record<string, unknown> {
    const extra = loadCheckpoint(bytes, this.model, this.optimizer);
    this.step = extra.step;
    this.generator.setState(extra.generatorState);
    return extra.info ?? {};
  }
}
