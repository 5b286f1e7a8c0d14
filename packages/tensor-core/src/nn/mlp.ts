/**
 * The transformer feed-forward block as timm's `Mlp`: fc1 -> act -> drop1 -> norm -> fc2 -> drop2, with the same
 * submodule names, so timm/PyTorch state dicts load unchanged (`fc1.weight`, `fc1.bias`, `fc2.weight`, ...).
 */
import type { Tensor } from '../tensor.js';
import { GELU, Identity } from './activation.js';
import { Dropout } from './dropout.js';
import { checkInt, type FactoryOptions } from './factory.js';
import { Linear } from './linear.js';
import { Module } from './module.js';
import type { TensorModule } from './sequential.js';

export interface MLPOptions extends FactoryOptions {
  readonly inFeatures: number;
  /** Width of the hidden layer; default inFeatures (timm). Commonly 4 x inFeatures in transformers. */
  readonly hiddenFeatures?: number;
  /** Default inFeatures. */
  readonly outFeatures?: number;
  /** Builds the activation; default `() => new GELU()` (timm's nn.GELU). */
  readonly actLayer?: () => TensorModule;
  /** Builds a norm over the hidden features, placed after drop1 (timm `norm_layer`); default none (Identity). */
  readonly normLayer?: ((hiddenFeatures: number) => TensorModule) | null;
  /** Bias of fc1 and fc2: one flag or one per layer; default true. */
  readonly bias?: boolean | readonly [boolean, boolean];
  /** Dropout after the activation and after fc2: one probability or one per place; default 0. */
  readonly drop?: number | readonly [number, number];
}

/** Two-layer perceptron, x (..., inFeatures) -> (..., outFeatures). */
export class MLP extends Module {
  readonly fc1: Linear;
  readonly act: TensorModule;
  readonly drop1: Dropout;
  readonly norm: TensorModule;
  readonly fc2: Linear;
  readonly drop2: Dropout;

  constructor(opts: MLPOptions) {
    super();
    if (opts === null || typeof opts !== 'object') throw new Error(`MLP: expected an options object { inFeatures, ... }; got ${opts}`);
    const inF = checkInt('MLP', 'opts.inFeatures', opts.inFeatures);
    const hidden = checkInt('MLP', 'opts.hiddenFeatures', opts.hiddenFeatures ?? inF);
    const outF = checkInt('MLP', 'opts.outFeatures', opts.outFeatures ?? inF);
    const [b1, b2] = typeof opts.bias === 'boolean' || opts.bias === undefined ? [opts.bias ?? true, opts.bias ?? true] : opts.bias;
    const [d1, d2] = typeof opts.drop === 'number' || opts.drop === undefined ? [opts.drop ?? 0, opts.drop ?? 0] : opts.drop;
    const factory = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    this.fc1 = this.registerModule('fc1', new Linear(inF, hidden, { ...factory, bias: b1 }));
    this.act = this.registerModule('act', opts.actLayer ? opts.actLayer() : new GELU());
    this.drop1 = this.registerModule('drop1', new Dropout(d1, { generator: opts.generator }));
    this.norm = this.registerModule('norm', opts.normLayer ? opts.normLayer(hidden) : new Identity());
    this.fc2 = this.registerModule('fc2', new Linear(hidden, outF, { ...factory, bias: b2 }));
    this.drop2 = this.registerModule('drop2', new Dropout(d2, { generator: opts.generator }));
  }

  forward(x: Tensor): Tensor {
    let h = this.fc1.forward(x); // (..., hidden)
    h = this.act.forward(h);
    h = this.drop1.forward(h);
    h = this.norm.forward(h);
    h = this.fc2.forward(h); // (..., out)
    return this.drop2.forward(h);
  }
}
