/** Scans along one dim: cumulative sum, and the first-order linear recurrence behind SSMs and linear attention. */
import { record1 } from '../autograd.js';
import { run } from '../kernel.js';
import { axisLayout, fmt, normDim, shapesEqual } from '../shape.js';
import { Tensor } from '../tensor.js';
import { cast, mul, requireFloat, sameBackend } from './elementwise.js';
import { sum } from './reduce.js';
import { cat, pad } from './join.js';
import { narrow, slice } from './views.js';

function cumsumRaw(x: Tensor, d: number, reverse: boolean): Tensor {
  const be = x.backend;
  const layout = axisLayout(x.shape, d);
  const data = run(be, [x], ([h]) => be.cumsum(h as never, x.dtype, { ...layout, reverse }));
  return Tensor.fromData(be, x.dtype, x.shape, data);
}

function cumsumOp(x: Tensor, d: number, reverse: boolean): Tensor {
  const y = cumsumRaw(x, d, reverse);
  return record1('CumsumBackward', [x], y, (g) => [cumsumOp(g, d, !reverse)], []);
}

/** Inclusive cumulative sum along `dim` (torch.cumsum). */
export function cumsum(x: Tensor, dim: number, opts: { reverse?: boolean } = {}): Tensor {
  const d = normDim('cumsum', dim, x.ndim);
  if (x.ndim === 0) return x;
  return cumsumOp(x, d, opts.reverse ?? false);
}

function recurrenceRaw(a: Tensor, b: Tensor, h0: Tensor | null, d: number, reverse: boolean): Tensor {
  const be = a.backend;
  const layout = axisLayout(a.shape, d);
  const args = h0 ? [a, b, h0] : [a, b];
  const data = run(be, args, (hs) => be.linearRecurrence(hs[0] as never, hs[1] as never, (hs[2] ?? null) as never, a.dtype, { ...layout, reverse }));
  return Tensor.fromData(be, a.dtype, a.shape, data);
}

/**
 * h[t] = a[t] * h[t-1] + b[t] along `dim`, with h[-1] = h0 (shape of a without `dim`; zeros when omitted).
 * With `reverse`, t runs from the end and h[T] = h0. Returns every h[t] (a's shape). Differentiable in a, b, h0:
 * the adjoint is the same recurrence run the other way, dL/dh[t] = g[t] + a[t+1] dL/dh[t+1].
 */
export function linearRecurrence(a: Tensor, b: Tensor, opts: { dim?: number; h0?: Tensor | null; reverse?: boolean } = {}): Tensor {
  requireFloat('linearRecurrence', a, 'a');
  requireFloat('linearRecurrence', b, 'b');
  sameBackend('linearRecurrence', a, b);
  if (!shapesEqual(a.shape, b.shape)) throw new Error(`linearRecurrence: expected a and b of one shape; got a ${fmt(a.shape)}, b ${fmt(b.shape)}`);
  if (a.ndim === 0) throw new Error('linearRecurrence: expected at least 1 dim');
  const d = normDim('linearRecurrence', opts.dim ?? 0, a.ndim);
  const reverse = opts.reverse ?? false;
  const bb = cast(b, a.dtype);
  const h0 = opts.h0 ? cast(opts.h0, a.dtype) : null;
  const stateShape = a.shape.filter((_, i) => i !== d);
  if (h0 && !shapesEqual(h0.shape, stateShape)) {
    throw new Error(`linearRecurrence: expected h0 of shape ${fmt(stateShape)} (a's shape without dim ${d}); got ${fmt(h0.shape)}`);
  }
  return recurrence(a, bb, h0, d, reverse);
}

function recurrence(a: Tensor, b: Tensor, h0: Tensor | null, d: number, reverse: boolean): Tensor {
  const h = recurrenceRaw(a, b, h0, d, reverse);
  const T = a.shape[d];
  const inputs = h0 ? [a, b, h0] : [a, b];
  return record1('LinearRecurrenceBackward', inputs, h, (g) => {
    // Forward direction: adjoint lam[t] = g[t] + a[t+1] lam[t+1], run in reverse with a shifted by one step.
    const shiftPad = reverse ? [1, 0] : [0, 1];
    const aNext = pad(reverse ? slice(a, d, 0, T - 1) : slice(a, d, 1), padFor(a.ndim, d, shiftPad)); // a[t+1] (a[t-1] reversed), 0 at the end
    const lam = recurrence(aNext, g, null, d, !reverse);
    const zeroPrev = h0 ? h0.unsqueeze(d) : null;
    // h[t-1] (h[t+1] when reversed), with h0 at the boundary.
    const hPrev = reverse
      ? cat([slice(h, d, 1), zeroPrev ?? narrow(mul(h, 0), d, 0, 1)], d)
      : cat([zeroPrev ?? narrow(mul(h, 0), d, 0, 1), slice(h, d, 0, T - 1)], d);
    const ga = mul(lam, hPrev);
    const gh0 = h0 ? sum(mul(narrow(lam, d, reverse ? T - 1 : 0, 1), narrow(a, d, reverse ? T - 1 : 0, 1)), d) : null;
    return h0 ? [ga, lam, gh0] : [ga, lam];
  }, [a, h, ...(h0 ? [h0] : [])]);
}

/** A torch-style pad list that pads only dim `d` of an ndim tensor with (before, after). */
function padFor(ndim: number, d: number, [before, after]: number[]): number[] {
  const p = new Array<number>(2 * (ndim - d)).fill(0);
  p[2 * (ndim - 1 - d)] = before;
  p[2 * (ndim - 1 - d) + 1] = after;
  return p;
}
