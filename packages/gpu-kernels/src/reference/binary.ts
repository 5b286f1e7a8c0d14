import type { BinaryOp, DType, TypedArray, View } from '../types.js';
import { allocate } from './dtype.js';
import { collapseDims, walkBlocks } from './blocked-walk.js';
import { binaryLoopsFor } from './elementwise-loops.js';
import { checkView, isContiguous, sizeOf } from './strided.js';

/**
 * The scalar function of each binary op in float64. maximum/minimum propagate NaN, as torch does (Math.max
 * already does). Comparisons give 1 or 0.
 */
export const binaryFns: Readonly<Record<BinaryOp, (a: number, b: number) => number>> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  pow: Math.pow,
  maximum: Math.max,
  minimum: Math.min,
  atan2: Math.atan2,
  eq: (a, b) => (a === b ? 1 : 0),
  ne: (a, b) => (a !== b ? 1 : 0),
  lt: (a, b) => (a < b ? 1 : 0),
  le: (a, b) => (a <= b ? 1 : 0),
  gt: (a, b) => (a > b ? 1 : 0),
  ge: (a, b) => (a >= b ? 1 : 0),
};

/**
 * The boundary checks of `binary` and `where`, on every backend that runs them on host arrays: each operand is
 * already expanded to `outShape` (the kernels never broadcast on their own) and addresses only its own buffer.
 */
export function checkElementwiseArgs(kernel: string, views: Readonly<Record<string, View<ArrayLike<number>>>>, outShape: readonly number[]): void {
  for (const [arg, v] of Object.entries(views)) checkShape(kernel, arg, v, outShape);
  for (const [arg, v] of Object.entries(views)) checkView(kernel, arg, v);
}

/** Throws unless `view` is already expanded to `outShape`. */
function checkShape(kernel: string, arg: string, view: View<unknown>, outShape: readonly number[]): void {
  const same = view.shape.length === outShape.length && view.shape.every((d, i) => d === outShape[i]);
  if (!same) {
    throw new Error(
      `reference.${kernel}: expected ${arg}.shape to be expanded to the output shape [${outShape.join(',')}]; ` +
        `got [${view.shape.join(',')}]`,
    );
  }
}

/**
 * Elementwise binary op; `a` and `b` are already broadcast to `outShape` (stride 0 on expanded dims). int32 by
 * int32 products use Math.imul so they wrap exactly like int32 hardware instead of losing bits past 2^53.
 */
export function binary(
  op: BinaryOp,
  a: View<TypedArray>,
  b: View<TypedArray>,
  outShape: readonly number[],
  outDtype: DType,
): TypedArray {
  const fn = binaryFns[op];
  if (fn === undefined) throw new Error(`reference.binary: unknown op "${String(op)}"`);
  checkElementwiseArgs('binary', { a, b }, outShape);
  const size = sizeOf(outShape);
  const out = allocate(outDtype, size);
  const da = a.data;
  const db = b.data;
  const imul = op === 'mul' && a.dtype === 'int32' && b.dtype === 'int32' && outDtype === 'int32';
  const f = imul ? Math.imul : fn;
  const loops = binaryLoopsFor(imul ? 'imul' : op);
  if (size === 0) return out;
  const broadcastOne = (v: View<TypedArray>) => v.strides.every((s, d) => s === 0 || v.shape[d] === 1);
  const contigA = isContiguous(a);
  const contigB = isContiguous(b);
  // Same-shape operands and a single broadcast value (a scalar, or a tensor expanded from one element) run as one
  // flat loop; everything else (a bias row, a transposed operand) by (rows, cols) blocks of merged dims.
  if (contigA && contigB) loops.contiguous(f, da, a.offset, db, b.offset, out, size);
  else if (contigA && broadcastOne(b)) loops.scalarB(f, da, a.offset, db[b.offset], out, size);
  else if (broadcastOne(a) && contigB) loops.scalarA(f, da[a.offset], db, b.offset, out, size);
  else {
    walkBlocks(collapseDims(outShape, [a, b]), (s, rows, cols, rs, cs, at) =>
      loops.block(f, da, s[0], rs[0], cs[0], db, s[1], rs[1], cs[1], out, at, rows, cols),
    );
  }
  return out;
}

/** `cond ? a : b` elementwise, any nonzero cond counting as true; all three already broadcast to `outShape`. */
export function where(
  cond: View<TypedArray>,
  a: View<TypedArray>,
  b: View<TypedArray>,
  outShape: readonly number[],
  outDtype: DType,
): TypedArray {
  checkElementwiseArgs('where', { cond, a, b }, outShape);
  const size = sizeOf(outShape);
  const out = allocate(outDtype, size);
  const dc = cond.data;
  const da = a.data;
  const db = b.data;
  walkBlocks(collapseDims(outShape, [cond, a, b]), (s, rows, cols, rs, cs, at) => {
    let o = at;
    for (let r = 0; r < rows; r++) {
      let ic = s[0] + r * rs[0];
      let ia = s[1] + r * rs[1];
      let ib = s[2] + r * rs[2];
      for (let c = 0; c < cols; c++, ic += cs[0], ia += cs[1], ib += cs[2]) out[o++] = dc[ic] !== 0 ? da[ia] : db[ib];
    }
  });
  return out;
}
