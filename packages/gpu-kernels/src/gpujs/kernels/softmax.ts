import type { AxisLayout } from '../../types.js';
import { andThen, type Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { decompose, f, kernelSource } from '../source.js';
import { lineReduce } from './line-reduce.js';

/**
 * softmax (or log_softmax) along the middle axis of (outer, size, inner), in three passes: the line max, the
 * line sum of exp(x - max), then each element. Shifting by the max keeps exp finite for any logits; a line that
 * is all -Infinity gives NaN, as torch does, because x - max is NaN there.
 */
export function softmaxKernel(run: KernelRunner, x: Float32Array, layout: AxisLayout, log: boolean): Maybe<Float32Array> {
  const { outer, size, inner } = layout;
  if (outer * size * inner === 0) return new Float32Array(0);
  const max = lineReduce(run, x, layout, { kernel: 'softmax', op: 'max' });
  return andThen(max, (m) => {
    const sum = lineReduce(run, x, layout, { kernel: 'softmax', op: 'sum', element: 'Math.exp(v - aux0[ln])', aux: [m] });
    return andThen(sum, (s) => {
      const body = [
        decompose('i', [outer, size, inner], 'p'),
        `const ln = p0 * ${f(inner)} + p2;`,
        'const d = x[i] - mx[ln];',
        log ? 'return d - Math.log(sm[ln]);' : 'return Math.exp(d) / sm[ln];',
      ].join('\n');
      return run.run({ kernel: 'softmax', source: kernelSource(['x', 'mx', 'sm'], body), size: x.length, args: [x, m, s] });
    });
  });
}
