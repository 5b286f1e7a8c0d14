/** Module forms of the losses (torch.nn.CrossEntropyLoss, BCEWithLogitsLoss, MSELoss). */
import { Module } from '../nn/module.js';
import type { Tensor } from '../tensor.js';
import { binaryCrossEntropyWithLogits, type BCEWithLogitsOptions } from './binary-cross-entropy.js';
import { crossEntropy, type CrossEntropyOptions } from './cross-entropy.js';
import { mseLoss } from './mse.js';
import { checkReduction, type Reduction } from './reduction.js';

/** `crossEntropy` as a module; `weight` is a buffer (state-dict key `weight`, as torch). */
export class CrossEntropyLoss extends Module {
  readonly weight: Tensor | null;
  readonly ignoreIndex: number;
  readonly reduction: Reduction;
  readonly labelSmoothing: number;

  constructor(opts: CrossEntropyOptions = {}) {
    super();
    this.weight = this.registerBuffer('weight', opts.weight ?? null);
    this.ignoreIndex = opts.ignoreIndex ?? -100;
    this.reduction = checkReduction('CrossEntropyLoss', opts.reduction ?? 'mean');
    this.labelSmoothing = opts.labelSmoothing ?? 0;
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return crossEntropy(input, target, {
      weight: this.weight,
      ignoreIndex: this.ignoreIndex,
      reduction: this.reduction,
      labelSmoothing: this.labelSmoothing,
    });
  }
}

/** `binaryCrossEntropyWithLogits` as a module; buffers `weight` and `pos_weight` (torch's state-dict keys). */
export class BCEWithLogitsLoss extends Module {
  readonly weight: Tensor | null;
  readonly posWeight: Tensor | null;
  readonly reduction: Reduction;

  constructor(opts: BCEWithLogitsOptions = {}) {
    super();
    this.weight = this.registerBuffer('weight', opts.weight ?? null);
    this.posWeight = this.registerBuffer('pos_weight', opts.posWeight ?? null);
    this.reduction = checkReduction('BCEWithLogitsLoss', opts.reduction ?? 'mean');
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return binaryCrossEntropyWithLogits(input, target, { weight: this.weight, posWeight: this.posWeight, reduction: this.reduction });
  }
}

export class MSELoss extends Module {
  readonly reduction: Reduction;

  constructor(opts: { reduction?: Reduction } = {}) {
    super();
    this.reduction = checkReduction('MSELoss', opts.reduction ?? 'mean');
  }

  forward(input: Tensor, target: Tensor): Tensor {
    return mseLoss(input, target, { reduction: this.reduction });
  }
}
