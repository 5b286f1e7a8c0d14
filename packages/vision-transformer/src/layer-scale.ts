/**
 * LayerScale (Touvron et al. 2021, "Going deeper with Image Transformers", CaiT, eq. 4): a learned per-channel
 * scale on each residual branch, initialised small so deep models start close to the identity. Named as timm's
 * `LayerScale` (`gamma`), so the keys are `blocks.N.ls1.gamma` / `ls2.gamma`.
 */
import { full, Module, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { checkInt } from './validate.js';

export interface LayerScaleOptions extends Omit<FactoryOptions, 'generator'> {
  readonly dim: number;
  /** Initial value of every gamma entry (default 1e-5, timm's default). */
  readonly initValues?: number;
}

export class LayerScale extends Module {
  readonly gamma: Tensor;

  constructor(opts: LayerScaleOptions) {
    super();
    const dim = checkInt('LayerScale', 'opts.dim', opts?.dim);
    const v = opts.initValues ?? 1e-5;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`LayerScale: expected opts.initValues to be a finite number; got ${JSON.stringify(v)}`);
    this.gamma = this.registerParameter('gamma', full([dim], v, { dtype: opts.dtype ?? 'float32', backend: opts.backend }));
  }

  /** x (..., D) -> x * gamma. */
  forward(x: Tensor): Tensor {
    return x.mul(this.gamma);
  }
}
