/**
 * Cross-entropy between logits and targets (torch.nn.functional.cross_entropy): log-softmax over the class dim
 * (dim 1, or dim 0 for an unbatched (C) input), with class-index or class-probability targets, class weights,
 * an ignored index and label smoothing (Szegedy et al. 2016).
 */
import { ones } from '../creation.js';
import { eq, neg, requireFloat, sameBackend, where } from '../ops/elementwise.js';
import { gather, indexSelect } from '../ops/indexing.js';
import { logSoftmax } from '../ops/softmax.js';
import { fmt, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { checkReduction, reduce, type Reduction } from './reduction.js';

export interface CrossEntropyOptions {
  /** A manual rescaling weight per class, shape (C). */
  readonly weight?: Tensor | null;
  /** Class-index targets equal to this contribute nothing (default -100, as torch). */
  readonly ignoreIndex?: number;
  /** Default 'mean'. With index targets 'mean' divides by the summed weights of the non-ignored targets. */
  readonly reduction?: Reduction;
  /** Mix the target with the uniform distribution: (1 - s) target + s / C. Default 0. */
  readonly labelSmoothing?: number;
}

/**
 * Cross-entropy loss.
 *
 * - `input`: logits (N, C), (N, C, d1, ..., dk) or unbatched (C).
 * - `target`: int32 class indices of shape (N, d1, ..., dk) (or 0-d for unbatched input) with values in [0, C) or
 *   equal to `ignoreIndex`; or float class probabilities of the input's shape.
 *
 * With index targets and reduction 'mean', a batch whose targets are all ignored gives 0 (torch gives NaN).
 */
export function crossEntropy(input: Tensor, target: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const op = 'crossEntropy';
  if (!(input instanceof Tensor)) throw new Error(`${op}: expected input to be a Tensor; got ${typeof input}`);
  if (!(target instanceof Tensor)) throw new Error(`${op}: expected target to be a Tensor; got ${typeof target}`);
  requireFloat(op, input);
  sameBackend(op, input, target);
  const reduction = checkReduction(op, opts.reduction ?? 'mean');
  const smoothing = opts.labelSmoothing ?? 0;
  if (typeof smoothing !== 'number' || !(smoothing >= 0 && smoothing <= 1)) {
    throw new Error(`${op}: expected opts.labelSmoothing in [0, 1]; got ${JSON.stringify(smoothing)}`);
  }
  const ignoreIndex = opts.ignoreIndex ?? -100;
  if (!Number.isInteger(ignoreIndex)) throw new Error(`${op}: expected opts.ignoreIndex to be an integer; got ${ignoreIndex}`);
  if (input.ndim === 0) throw new Error(`${op}: expected input of shape (C), (N, C) or (N, C, d1, ...); got a 0-d tensor`);

  // An unbatched (C) input is a batch of one.
  const unbatched = input.ndim === 1;
  const x = unbatched ? input.unsqueeze(0) : input; // (N, C, ...)
  const probs = target.dtype !== 'int32';
  const t = unbatched ? target.unsqueeze(0) : target;
  const C = x.shape[1];
  const w = opts.weight ?? null;
  if (w !== null) {
    if (!(w instanceof Tensor) || w.ndim !== 1 || w.shape[0] !== C) {
      throw new Error(`${op}: expected opts.weight of shape [${C}] (one per class); got ${w instanceof Tensor ? fmt(w.shape) : typeof w}`);
    }
    requireFloat(op, w, 'opts.weight');
    sameBackend(op, input, w);
  }
  // Class weights shaped to broadcast along the class dim: (1, C, 1, ..., 1).
  const wClass = w ? w.to(x.dtype).reshape([1, C, ...x.shape.slice(2).map(() => 1)]) : null;
  const logp = logSoftmax(x, 1); // (N, C, ...)

  let loss: Tensor;
  if (probs) {
    if (!shapesEqual(t.shape, x.shape)) {
      throw new Error(`${op}: expected probability targets of the input's shape ${fmt(input.shape)}; got ${fmt(target.shape)}`);
    }
    const wl = wClass ? logp.mul(wClass) : logp;
    const q = smoothing > 0 ? t.to(x.dtype).mul(1 - smoothing).add(smoothing / C) : t.to(x.dtype);
    loss = neg(wl.mul(q).sum(1)); // (N, ...)
    const out = reduce(loss, reduction);
    return unbatched && reduction === 'none' ? out.squeeze(0) : out;
  }

  const expected = [x.shape[0], ...x.shape.slice(2)];
  if (!shapesEqual(t.shape, expected)) {
    throw new Error(`${op}: expected class-index target of shape ${fmt(unbatched ? [] : expected)} for input ${fmt(input.shape)}; got ${fmt(target.shape)}`);
  }
  checkTargets(op, t, C, ignoreIndex);
  const valid = eq(t, ignoreIndex).neg().add(1); // int32 1 where counted, 0 where ignored
  const safe = where(valid, t, 0); // (N, ...) int32, every entry a valid class
  const picked = gather(logp, 1, safe.unsqueeze(1)).squeeze(1); // (N, ...)
  const wT = w ? indexSelect(w.to(x.dtype), 0, safe.flatten()).reshape(safe.shape) : ones(safe.shape, { dtype: x.dtype, backend: x.backend });
  const wValid = where(valid, wT, 0); // (N, ...) per-target weight, 0 where ignored
  let perTarget = where(valid, neg(picked).mul(wT), 0); // weighted NLL
  if (smoothing > 0) {
    const smooth = where(valid, neg((wClass ? logp.mul(wClass) : logp).sum(1)), 0); // (N, ...)
    perTarget = perTarget.mul(1 - smoothing).add(smooth.mul(smoothing / C));
  }
  if (reduction === 'none') return unbatched ? perTarget.squeeze(0) : perTarget;
  if (reduction === 'sum') return perTarget.sum();
  const denom = wValid.sum();
  return perTarget.sum().div(where(eq(denom, 0), 1, denom));
}

/** Range-check class indices on synchronous backends (an async backend would need a readback). */
function checkTargets(op: string, t: Tensor, C: number, ignoreIndex: number): void {
  if (!t.backend.sync || t.isPending || t.numel === 0) return;
  const d = t.dataSync();
  for (let i = 0; i < d.length; i++) {
    const v = d[i];
    if (v !== ignoreIndex && (v < 0 || v >= C)) {
      throw new Error(`${op}: target ${v} is out of bounds: expected class indices in [0, ${C - 1}] or ignoreIndex (${ignoreIndex})`);
    }
  }
}
