/** The `reduction` option shared by the losses. */
import type { Tensor } from '../tensor.js';

/** 'mean' (default): average over elements; 'sum'; 'none': the per-element losses. */
export type Reduction = 'mean' | 'sum' | 'none';

/** @internal */
export function checkReduction(op: string, r: unknown): Reduction {
  if (r !== 'mean' && r !== 'sum' && r !== 'none') throw new Error(`${op}: expected opts.reduction 'mean', 'sum' or 'none'; got ${JSON.stringify(r)}`);
  return r;
}

/** @internal */
export function reduce(loss: Tensor, reduction: Reduction): Tensor {
  return reduction === 'none' ? loss : reduction === 'sum' ? loss.sum() : loss.mean();
}
