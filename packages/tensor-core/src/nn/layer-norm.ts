/** LayerNorm (Ba, Kiros & Hinton 2016) as torch.nn.LayerNorm. */
import { ones, zeros } from '../creation.js';
import { layerNorm } from '../ops/normalization.js';
import type { Tensor } from '../tensor.js';
import { tensorOpts, type FactoryOptions } from './factory.js';
import { Module } from './module.js';

export interface LayerNormLayerOptions extends Omit<FactoryOptions, 'generator'> {
  /** Added to the variance; default 1e-5. */
  readonly eps?: number;
  /** Learn a per-element `weight` (init 1) and `bias` (init 0); default true. */
  readonly elementwiseAffine?: boolean;
  /** Learn the bias when elementwiseAffine (default true; torch >= 2.1). */
  readonly bias?: boolean;
}

/** Normalise over the trailing dims `normalizedShape` with the biased variance, then scale and shift. */
export class LayerNorm extends Module {
  readonly normalizedShape: number[];
  readonly eps: number;
  readonly weight: Tensor | null;
  readonly bias: Tensor | null;

  constructor(normalizedShape: number | readonly number[], opts: LayerNormLayerOptions = {}) {
    super();
    this.normalizedShape = checkNormalizedShape('LayerNorm', normalizedShape);
    this.eps = checkEps('LayerNorm', opts.eps ?? 1e-5);
    const affine = opts.elementwiseAffine ?? true;
    const t = tensorOpts('LayerNorm', opts);
    this.weight = this.registerParameter('weight', affine ? ones(this.normalizedShape, t) : null);
    this.bias = this.registerParameter('bias', affine && opts.bias !== false ? zeros(this.normalizedShape, t) : null);
  }

  /** x (..., *normalizedShape) -> same shape. */
  forward(x: Tensor): Tensor {
    return layerNorm(x, this.normalizedShape, { weight: this.weight, bias: this.bias, eps: this.eps });
  }

  protected override extraRepr(): string {
    return `[${this.normalizedShape.join(', ')}], eps=${this.eps}, elementwiseAffine=${this.weight !== null}`;
  }
}

/** @internal */
export function checkNormalizedShape(op: string, s: number | readonly number[]): number[] {
  const shape = typeof s === 'number' ? [s] : Array.isArray(s) ? [...s] : null;
  if (!shape || shape.length === 0 || !shape.every((d) => Number.isInteger(d) && d >= 1)) {
    throw new Error(`${op}: expected normalizedShape to be a positive integer or a non-empty array of them; got ${JSON.stringify(s)}`);
  }
  return shape;
}

/** @internal */
export function checkEps(op: string, eps: unknown): number {
  if (typeof eps !== 'number' || !(eps >= 0) || !Number.isFinite(eps)) {
    throw new Error(`${op}: expected eps to be a finite number >= 0; got ${JSON.stringify(eps)}`);
  }
  return eps;
}
