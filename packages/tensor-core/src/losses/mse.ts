/** Mean squared error (torch.nn.functional.mse_loss). */
import { requireFloat, sameBackend } from '../ops/elementwise.js';
import { fmt, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkReduction, reduce, type Reduction } from './reduction.js';

/**
 * (input - target)^2, reduced. Unlike torch (which broadcasts with a warning), differing shapes are an error,
 * since broadcasting a (N) target against a (N, 1) prediction is almost always a bug.
 */
export function mseLoss(input: Tensor, target: Tensor, opts: { reduction?: Reduction } = {}): Tensor {
  const op = 'mseLoss';
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new Error(`${op}: expected input and target to be Tensors`);
  requireFloat(op, input);
  requireFloat(op, target, 'target');
  sameBackend(op, input, target);
  if (!shapesEqual(input.shape, target.shape)) {
    throw new Error(`${op}: expected target of the input's shape ${fmt(input.shape)}; got ${fmt(target.shape)}`);
  }
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  return reduce(input.sub(target.to(input.dtype)).square(), reduction);
}
