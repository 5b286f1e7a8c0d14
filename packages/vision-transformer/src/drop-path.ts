/**
 * DropPath, stochastic depth per sample (Huang et al. 2016, "Deep Networks with Stochastic Depth"), as timm's
 * `DropPath`: in training, each sample's residual branch is zeroed with probability p and the kept ones scaled by
 * 1 / (1 - p), so the expectation is unchanged; identity in eval mode or with p = 0.
 */
import { Module, rand, type Generator, type Tensor } from '@formers/tensor-core';
import { checkRange } from './validate.js';

export interface DropPathOptions {
  /** Drop probability p in [0, 1) (default 0). */
  readonly p?: number;
  /** Divide kept samples by 1 - p (default true, as timm's scale_by_keep). */
  readonly scaleByKeep?: boolean;
  /** Draws the per-sample masks (default the global generator). */
  readonly generator?: Generator;
}

export class DropPath extends Module {
  readonly p: number;
  readonly scaleByKeep: boolean;
  private readonly generator: Generator | undefined;

  constructor(opts: DropPathOptions = {}) {
    super();
    this.p = checkRange('DropPath', 'opts.p', opts.p ?? 0, 0, 0.999999);
    this.scaleByKeep = opts.scaleByKeep ?? true;
    this.generator = opts.generator;
  }

  /** x (B, ...) -> same shape; one keep/drop draw per sample along dim 0. */
  forward(x: Tensor): Tensor {
    if (this.p === 0 || !this.training) return x;
    const keep = 1 - this.p;
    const maskShape = [x.shape[0], ...new Array<number>(x.ndim - 1).fill(1)]; // (B, 1, ..., 1)
    const u = rand(maskShape, { dtype: x.dtype, backend: x.backend, generator: this.generator });
    let mask = u.lt(keep).to(x.dtype);
    if (this.scaleByKeep) mask = mask.div(keep);
    return x.mul(mask);
  }

  protected override extraRepr(): string {
    return `p=${this.p}`;
  }
}
