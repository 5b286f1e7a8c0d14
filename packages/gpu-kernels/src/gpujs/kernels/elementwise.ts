import type { BinaryOp, UnaryOp, View } from '../../types.js';
import type { Maybe } from '../async.js';
import type { KernelRunner } from '../runner.js';
import { kernelSource } from '../source.js';
import { coordinates, jointGeometry, offsetExpr } from './strided.js';
import { UNARY_STATEMENTS } from './unary-ops.js';

function sizeOf(shape: readonly number[]): number {
  return shape.reduce((s, d) => s * d, 1);
}

/** Elementwise unary op over a strided view, into a contiguous float32 result. */
export function unaryKernel(run: KernelRunner, op: UnaryOp, x: View<Float32Array>): Maybe<Float32Array> {
  const statements = UNARY_STATEMENTS[op];
  if (statements === undefined) throw new Error(`gpujs.unary: unknown op "${String(op)}"`);
  const g = jointGeometry(x.shape, [x]);
  const body = `${coordinates(g)}\nconst v = x[${offsetExpr(g, 0)}];\nlet r = 0.0;\n${statements}\nreturn r;`;
  return run.run({ kernel: 'unary', source: kernelSource(['x'], body), size: sizeOf(x.shape), args: [x.data] });
}

/** Each binary op as an expression of floats `a` and `b`; comparisons give 1 or 0. */
const BINARY_EXPR: Readonly<Record<BinaryOp, string>> = {
  add: 'a + b',
  sub: 'a - b',
  mul: 'a * b',
  div: 'a / b',
  pow: 'Math.pow(a, b)',
  // NaN propagates, as torch.maximum/minimum do (a != a only holds for NaN).
  maximum: '(a != a || b != b) ? (a + b) : Math.max(a, b)',
  minimum: '(a != a || b != b) ? (a + b) : Math.min(a, b)',
  atan2: 'Math.atan2(a, b)',
  eq: '(a == b) ? 1.0 : 0.0',
  ne: '(a != b) ? 1.0 : 0.0',
  lt: '(a < b) ? 1.0 : 0.0',
  le: '(a <= b) ? 1.0 : 0.0',
  gt: '(a > b) ? 1.0 : 0.0',
  ge: '(a >= b) ? 1.0 : 0.0',
};

/** Elementwise binary op; both views are already expanded (stride 0) to `outShape`. */
export function binaryKernel(
  run: KernelRunner,
  op: BinaryOp,
  a: View<Float32Array>,
  b: View<Float32Array>,
  outShape: readonly number[],
): Maybe<Float32Array> {
  const expr = BINARY_EXPR[op];
  if (expr === undefined) throw new Error(`gpujs.binary: unknown op "${String(op)}"`);
  const g = jointGeometry(outShape, [a, b]);
  const body = [
    coordinates(g),
    `const a = xa[${offsetExpr(g, 0)}];`,
    `const b = xb[${offsetExpr(g, 1)}];`,
    `return ${expr};`,
  ].join('\n');
  return run.run({ kernel: 'binary', source: kernelSource(['xa', 'xb'], body), size: sizeOf(outShape), args: [a.data, b.data] });
}

/** `cond ? a : b` elementwise, any nonzero cond counting as true; all three expanded to `outShape`. */
export function whereKernel(
  run: KernelRunner,
  cond: View<Float32Array>,
  a: View<Float32Array>,
  b: View<Float32Array>,
  outShape: readonly number[],
): Maybe<Float32Array> {
  const g = jointGeometry(outShape, [cond, a, b]);
  const body = [
    coordinates(g),
    `const c = xc[${offsetExpr(g, 0)}];`,
    `let r = xb[${offsetExpr(g, 2)}];`,
    `if (c != 0.0) { r = xa[${offsetExpr(g, 1)}]; }`,
    'return r;',
  ].join('\n');
  return run.run({
    kernel: 'where',
    source: kernelSource(['xc', 'xa', 'xb'], body),
    size: sizeOf(outShape),
    args: [cond.data, a.data, b.data],
  });
}
