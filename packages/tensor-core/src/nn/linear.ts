/** Linear (fully connected) layer: y = x W^T + b, as torch.nn.Linear. */
import { zeros } from '../creation.js';
import { linear } from '../ops/matmul.js';
import type { Tensor } from '../tensor.js';
import { calculateFanInAndFanOut, kaimingUniform_, uniform_ } from './init.js';
import { checkInt, tensorOpts, type FactoryOptions } from './factory.js';
import { Module } from './module.js';

export interface LinearOptions extends FactoryOptions {
  /** Learn an additive bias (default true). */
  readonly bias?: boolean;
}

/**
 * y = x W^T + b for x (..., inFeatures). Parameters `weight` (outFeatures, inFeatures) and `bias` (outFeatures),
 * initialised as torch: W ~ kaiming_uniform(a = sqrt 5), i.e. U(-1/sqrt(in), 1/sqrt(in)), and b ~ the same
 * U(-1/sqrt(in), 1/sqrt(in)).
 */
export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  readonly inFeatures: number;
  readonly outFeatures: number;

  constructor(inFeatures: number, outFeatures: number, opts: LinearOptions = {}) {
    super();
    this.inFeatures = checkInt('Linear', 'inFeatures', inFeatures);
    this.outFeatures = checkInt('Linear', 'outFeatures', outFeatures);
    const t = tensorOpts('Linear', opts);
    this.weight = this.registerParameter('weight', zeros([outFeatures, inFeatures], t));
    this.bias = this.registerParameter('bias', opts.bias === false ? null : zeros([outFeatures], t));
    this.resetParameters(opts);
  }

  /** Re-draw the parameters with torch's default initialisation. */
  resetParameters(opts: Pick<FactoryOptions, 'generator'> = {}): void {
    kaimingUniform_(this.weight, { a: Math.sqrt(5), generator: opts.generator });
    if (this.bias) {
      const { fanIn } = calculateFanInAndFanOut(this.weight);
      const bound = 1 / Math.sqrt(fanIn);
      uniform_(this.bias, { a: -bound, b: bound, generator: opts.generator });
    }
  }

  /** x (..., inFeatures) -> (..., outFeatures). */
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }

  protected override extraRepr(): string {
    return `inFeatures=${this.inFeatures}, outFeatures=${this.outFeatures}, bias=${this.bias !== null}`;
  }
}
