import type { AxisLayout, ReduceOp } from '../../types.js';
import type { Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { lineArg, lineReduce } from './line-reduce.js';

/**
 * sum / max / min / argmax / argmin over the middle axis of a float32 (outer, size, inner) buffer, to
 * (outer, inner). argmax/argmin come back as float32 indices (exact below 2^24); the backend stores them as int32.
 * An empty axis gives the op's identity without a kernel: 0 for sum, -/+Infinity for max/min, index 0.
 */
export function reduceKernel(run: KernelRunner, op: ReduceOp, x: Float32Array, layout: AxisLayout): Maybe<Float32Array> {
  const lines = layout.outer * layout.inner;
  if (layout.size === 0) {
    const fill = op === 'max' ? -Infinity : op === 'min' ? Infinity : 0;
    return new Float32Array(lines).fill(fill);
  }
  if (op === 'argmax' || op === 'argmin') return lineArg(run, x, layout, op);
  if (op !== 'sum' && op !== 'max' && op !== 'min') throw new Error(`gpujs.reduce: unknown op "${String(op)}"`);
  return lineReduce(run, x, layout, { kernel: 'reduce', op });
}
