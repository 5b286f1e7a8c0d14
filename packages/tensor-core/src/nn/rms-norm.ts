/** RMSNorm (Zhang & Sennrich 2019) as torch.nn.RMSNorm (torch >= 2.4). */
import { ones } from '../creation.js';
import { rmsNorm } from '../ops/normalization.js';
import type { Tensor } from '../tensor.js';
import { tensorOpts, type FactoryOptions } from './factory.js';
import { checkEps, checkNormalizedShape } from './layer-norm.js';
import { Module } from './module.js';

export interface RMSNormOptions extends Omit<FactoryOptions, 'generator'> {
  /**
   * Added to mean(x^2). Default null, as torch: the machine epsilon of the input's dtype at call time
   * (float32 2^-23 = 1.1920928955078125e-7, float64 2^-52 = 2.220446049250313e-16). Note that many models
   * (LLaMA, Mamba) pass eps = 1e-5 or 1e-6 explicitly.
   */
  readonly eps?: number | null;
  /** Learn a per-element `weight` (init 1); default true. */
  readonly elementwiseAffine?: boolean;
}

/** x / sqrt(mean(x^2) + eps) * weight over the trailing dims `normalizedShape`. */
export class RMSNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number | null;
  readonly weight: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: RMSNormOptions = {}) {
    super();
    this.normalizedShape = checkNormalizedShape('RMSNorm', normalizedShape);
    this.eps = opts.eps === undefined || opts.eps === null ? null : checkEps('RMSNorm', opts.eps);
    const affine = opts.elementwiseAffine ?? true;
    this.weight = this.registerParameter('weight', affine ? ones(this.normalizedShape, tensorOpts('RMSNorm', opts)) : null);
  }

  forward(x: Tensor): Tensor {
    return rmsNorm(x, this.normalizedShape, { weight: this.weight, eps: this.eps ?? undefined });
  }

  protected override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}
