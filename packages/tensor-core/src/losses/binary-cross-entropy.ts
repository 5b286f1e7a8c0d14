/**
 * Binary cross-entropy on logits (torch.nn.functional.binary_cross_entropy_with_logits), computed through the
 * stable softplus: with l = 1 + (posWeight - 1) y,
 *   loss = (1 - y) x + l softplus(-x) = -[posWeight y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))],
 * which stays finite for any |x| (log sigmoid(x) = -softplus(-x) never forms exp(|x|)).
 */
import { requireFloat, sameBackend, softplus } from '../ops/elementwise.js';
import { broadcastShapes, fmt, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkReduction, reduce, type Reduction } from './reduction.js';

export interface BCEWithLogitsOptions {
  /** Per-element rescaling, broadcast against the loss. */
  readonly weight?: Tensor | null;
  /** Weight of the positive term per class, broadcast along the last dim (e.g. shape (C)). */
  readonly posWeight?: Tensor | null;
  /** Default 'mean'. */
  readonly reduction?: Reduction;
}

/** Binary cross-entropy with logits; `target` is a float tensor of the input's shape with values in [0, 1]. */
export function binaryCrossEntropyWithLogits(input: Tensor, target: Tensor, opts: BCEWithLogitsOptions = {}): Tensor {
  const op = 'binaryCrossEntropyWithLogits';
  if (!(input instanceof Tensor) || !(target instanceof Tensor)) throw new Error(`${op}: expected input and target to be Tensors`);
  requireFloat(op, input);
  requireFloat(op, target, 'target');
  sameBackend(op, input, target);
  if (!shapesEqual(input.shape, target.shape)) {
    throw new Error(`${op}: expected target of the input's shape ${fmt(input.shape)}; got ${fmt(target.shape)}`);
  }
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const y = target.to(input.dtype);
  const spNeg = softplus(input.neg()); // -log sigmoid(x), (...)
  let loss: Tensor;
  if (opts.posWeight) {
    const pw = opts.posWeight;
    if (!(pw instanceof Tensor)) throw new Error(`${op}: expected opts.posWeight to be a Tensor; got ${typeof pw}`);
    requireFloat(op, pw, 'opts.posWeight');
    sameBackend(op, input, pw);
    broadcastShapes(`${op}: opts.posWeight`, input.shape, pw.shape);
    const l = pw.to(input.dtype).sub(1).mul(y).add(1); // 1 + (posWeight - 1) y
    loss = y.neg().add(1).mul(input).add(l.mul(spNeg));
  } else {
    loss = y.neg().add(1).mul(input).add(spNeg);
  }
  if (opts.weight) {
    const w = opts.weight;
    if (!(w instanceof Tensor)) throw new Error(`${op}: expected opts.weight to be a Tensor; got ${typeof w}`);
    requireFloat(op, w, 'opts.weight');
    sameBackend(op, input, w);
    loss = loss.mul(w.to(input.dtype));
  }
  return reduce(loss, reduction);
}
