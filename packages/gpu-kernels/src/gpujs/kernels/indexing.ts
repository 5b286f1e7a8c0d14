import type { AxisLayout, View } from '../../types.js';
import { allOf, andThen, type Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { decompose, f, int, kernelSource } from '../source.js';
import { unaryKernel } from './elementwise.js';

/** The index view in row-major order of its own shape, as a contiguous float array (a strided copy on gpu.js). */
function contiguousIndex(run: KernelRunner, index: View<Float32Array>): Maybe<Float32Array> {
  return unaryKernel(run, 'identity', index);
}

/**
 * torch.gather along the middle axis: out[o, t, j] = x[o, index[o, t, j], j], out (outer, outSize, inner). An
 * index outside [0, size) is clamped into range, so the kernel never reads outside x.
 */
export function gatherKernel(
  run: KernelRunner,
  x: Float32Array,
  layout: AxisLayout,
  index: View<Float32Array>,
  outSize: number,
): Maybe<Float32Array> {
  const { outer, size, inner } = layout;
  const total = outer * outSize * inner;
  if (total === 0 || size === 0) return new Float32Array(total);
  return andThen(contiguousIndex(run, index), (idx) => {
    const body = [
      decompose('i', [outer, outSize, inner], 'p'),
      `const s = Math.min(Math.max(Math.trunc(ix[i]), 0.0), ${f(size - 1)});`,
      `return x[(p0 * ${f(size)} + s) * ${f(inner)} + p2];`,
    ].join('\n');
    return run.run({ kernel: 'gather', source: kernelSource(['x', 'ix'], body), size: total, args: [x, idx] });
  });
}

/**
 * The adjoint of gather: out (outer, size, inner) with out[o, index[o, t, j], j] += src[o, t, j]. Written in gather
 * form, so no two threads write one element: each output sums the sources whose index points at it (srcSize
 * reads per output). Out-of-range indices match no output, so they are skipped, as the contract says.
 */
export function scatterAddKernel(
  run: KernelRunner,
  src: Float32Array,
  index: View<Float32Array>,
  layout: AxisLayout,
  srcSize: number,
): Maybe<Float32Array> {
  const { outer, size, inner } = layout;
  const total = outer * size * inner;
  if (total === 0 || srcSize === 0) return new Float32Array(total);
  return andThen(contiguousIndex(run, index), (idx) => {
    const body = [
      decompose('i', [outer, size, inner], 'p'),
      `const base = p0 * ${f(srcSize * inner)} + p2;`,
      'let acc = 0.0;',
      `for (let t = 0; t < ${int(srcSize)}; t++) {`,
      `  const at = base + t * ${f(inner)};`,
      '  if (Math.trunc(ix[at]) == p1) { acc += src[at]; }',
      '}',
      'return acc;',
    ].join('\n');
    return run.run({ kernel: 'scatterAdd', source: kernelSource(['src', 'ix'], body), size: total, args: [src, idx] });
  });
}

/** Inputs per concat kernel: GL backends bind each argument as a texture, and 8 fit every implementation. */
const MAX_CONCAT_ARGS = 8;

/**
 * Concatenate contiguous (outer, sizes[k], inner) buffers along the middle axis. Each output element picks its
 * input by comparing its axis position with the running offsets; more than MAX_CONCAT_ARGS inputs are joined in
 * groups, then the groups are joined.
 */
export function concatKernel(
  run: KernelRunner,
  xs: readonly Float32Array[],
  outer: number,
  sizes: readonly number[],
  inner: number,
): Maybe<Float32Array> {
  const total = sizes.reduce((s, d) => s + d, 0);
  if (outer * total * inner === 0) return new Float32Array(outer * total * inner);
  if (xs.length > MAX_CONCAT_ARGS) {
    const groups: Maybe<Float32Array>[] = [];
    const groupSizes: number[] = [];
    for (let g = 0; g < xs.length; g += MAX_CONCAT_ARGS) {
      const part = sizes.slice(g, g + MAX_CONCAT_ARGS);
      groups.push(concatKernel(run, xs.slice(g, g + MAX_CONCAT_ARGS), outer, part, inner));
      groupSizes.push(part.reduce((s, d) => s + d, 0));
    }
    return andThen(allOf(groups), (parts) => concatKernel(run, parts, outer, groupSizes, inner));
  }
  const lines: string[] = [decompose('i', [outer, total, inner], 'p'), 'let r = 0.0;'];
  let start = 0;
  sizes.forEach((n, k) => {
    if (n === 0) return;
    // p1 in [start, start + n): element (p0, p1 - start, p2) of input k.
    lines.push(
      `if (p1 >= ${f(start)} && p1 < ${f(start + n)}) { r = x${k}[(p0 * ${f(n)} + p1 - ${f(start)}) * ${f(inner)} + p2]; }`,
    );
    start += n;
  });
  lines.push('return r;');
  const args = xs.map((_, k) => `x${k}`);
  return run.run({ kernel: 'concat', source: kernelSource(args, lines.join('\n')), size: outer * total * inner, args: [...xs] });
}
