/** softmax and log_softmax along one dim, on the fused kernel, with closed-form backward passes. */
import { record1 } from '../autograd.js';
import { run } from '../kernel.js';
import { axisLayout, normDim } from '../shape.js';
import { Tensor } from '../tensor.js';
import { exp, mul, requireFloat, sub } from './elementwise.js';
import { sum } from './reduce.js';

function softmaxRaw(x: Tensor, d: number, log: boolean): Tensor {
  const layout = axisLayout(x.shape, d);
  const be = x.backend;
  const data = run(be, [x], ([h]) => be.softmax(h as never, x.dtype, layout, log));
  return Tensor.fromData(be, x.dtype, x.shape, data);
}

/** exp(x) / sum(exp(x)) along `dim`; a slice that is all -Infinity gives NaN, as torch. */
export function softmax(x: Tensor, dim: number): Tensor {
  requireFloat('softmax', x);
  if (dim === undefined) throw new Error('softmax: expected dim (an integer); got undefined');
  const d = normDim('softmax', dim, x.ndim);
  const y = softmaxRaw(x, d, false);
  // dx = y * (g - sum(g * y))
  return record1('SoftmaxBackward', [x], y, (g) => [mul(y, sub(g, sum(mul(g, y), d, true)))], [y]);
}

/** x - logsumexp(x) along `dim`. */
export function logSoftmax(x: Tensor, dim: number): Tensor {
  requireFloat('logSoftmax', x);
  if (dim === undefined) throw new Error('logSoftmax: expected dim (an integer); got undefined');
  const d = normDim('logSoftmax', dim, x.ndim);
  const y = softmaxRaw(x, d, true);
  // dx = g - softmax * sum(g)
  return record1('LogSoftmaxBackward', [x], y, (g) => [sub(g, mul(exp(y), sum(g, d, true)))], [y]);
}
