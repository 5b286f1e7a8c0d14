/**
 * Matrix products with torch.matmul semantics: 1-D operands are promoted to a matrix and the added dim removed
 * again, batch dims broadcast. Operands that are transposed views (e.g. `w.t()`) reach the kernel as is through its
 * transA/transB flags, and an operand without batch dims is shared across the batch with stride 0, so neither is
 * copied.
 */
import { record1 } from '../autograd.js';
import { run } from '../kernel.js';
import { broadcastShapes, fmt, numelOf } from '../shape.js';
import { Tensor } from '../tensor.js';
import { add, requireFloat, sameBackend, cast } from './elementwise.js';
import { sumToShape } from './reduce.js';
import { clone, expand, reshape, squeeze, transpose, unsqueeze } from './views.js';
import { promoteTypes } from '../kernel.js';

interface Operand {
  tensor: Tensor;
  trans: boolean;
  stride: number;
}

/** How a (..., r, c) operand broadcast to batch `batch` reaches the kernel, copying only when its layout demands. */
function operand(x: Tensor, batch: readonly number[]): Operand {
  const r = x.shape[x.ndim - 2];
  const c = x.shape[x.ndim - 1];
  const own = x.shape.slice(0, -2);
  const shared = numelOf(own) === 1 && numelOf(batch) !== 1;
  const mat = shared ? reshape(x, [r, c]) : expand(x, [...batch, r, c]);
  const sR = mat.strides[mat.ndim - 2];
  const sC = mat.strides[mat.ndim - 1];
  const stride = shared ? 0 : r * c;
  const batchDense = (t: Tensor) => {
    // Batch dims must step by exactly one matrix (r * c) in row-major batch order.
    let expected = r * c;
    for (let d = t.ndim - 3; d >= 0; d--) {
      if (t.shape[d] !== 1 && t.strides[d] !== expected) return false;
      expected *= t.shape[d];
    }
    return true;
  };
  if (mat.offset === 0 && batchDense(mat)) {
    if ((sC === 1 || c === 1) && (sR === c || r === 1)) return { tensor: mat, trans: false, stride };
    if ((sR === 1 || r === 1) && (sC === r || c === 1)) return { tensor: mat, trans: true, stride };
  }
  // A fresh copy: contiguous() would return a contiguous view with a nonzero offset as is.
  return { tensor: clone(mat), trans: false, stride };
}

/** The batched kernel on (..., m, k) @ (..., k, n) operands of 2+ dims. */
function matmulNd(a: Tensor, b: Tensor): Tensor {
  const m = a.shape[a.ndim - 2];
  const k = a.shape[a.ndim - 1];
  const n = b.shape[b.ndim - 1];
  if (b.shape[b.ndim - 2] !== k) {
    throw new Error(`matmul: expected b.shape[-2] (=${b.shape[b.ndim - 2]}) to equal a.shape[-1] (=${k}); got a ${fmt(a.shape)}, b ${fmt(b.shape)}`);
  }
  const batch = broadcastShapes('matmul (batch dims)', a.shape.slice(0, -2), b.shape.slice(0, -2));
  const oa = operand(a, batch);
  const ob = operand(b, batch);
  const be = a.backend;
  const p = { batch: numelOf(batch), m, n, k, transA: oa.trans, transB: ob.trans, strideA: oa.stride, strideB: ob.stride };
  const data = run(be, [{ tensor: oa.tensor, as: 'raw' }, { tensor: ob.tensor, as: 'raw' }], ([ha, hb]) => be.matmul(ha as never, hb as never, a.dtype, p));
  const y = Tensor.fromData(be, a.dtype, [...batch, m, n], data);
  return record1('MmBackward', [a, b], y, (g, need) => [
    need[0] ? sumToShape(matmulNd(g, transpose(b, -1, -2)), a.shape) : null,
    need[1] ? sumToShape(matmulNd(transpose(a, -1, -2), g), b.shape) : null,
  ]);
}

/**
 * torch.matmul: dot product for two 1-D tensors, matrix product for 2-D, and broadcast batched products for more
 * dims (a 1-D operand becomes a row/column vector whose dim is removed from the result).
 */
export function matmul(a: Tensor, b: Tensor): Tensor {
  if (!(a instanceof Tensor) || !(b instanceof Tensor)) throw new Error('matmul: expected two Tensors');
  sameBackend('matmul', a, b);
  requireFloat('matmul', a, 'a');
  requireFloat('matmul', b, 'b');
  if (a.ndim === 0 || b.ndim === 0) {
    throw new Error(`matmul: both arguments need at least 1 dim; got a ${fmt(a.shape)}, b ${fmt(b.shape)}`);
  }
  const d = promoteTypes(a.dtype, b.dtype);
  const A = cast(a, d);
  const B = cast(b, d);
  const a2 = A.ndim === 1 ? unsqueeze(A, 0) : A; // (1, k)
  const b2 = B.ndim === 1 ? unsqueeze(B, 1) : B; // (k, 1)
  if (b2.shape[b2.ndim - 2] !== a2.shape[a2.ndim - 1]) {
    throw new Error(
      `matmul: expected b.shape[${B.ndim === 1 ? 0 : -2}] (=${b2.shape[b2.ndim - 2]}) to equal a.shape[-1] (=${a2.shape[a2.ndim - 1]}); ` +
        `got a ${fmt(a.shape)}, b ${fmt(b.shape)}`,
    );
  }
  let y = matmulNd(a2, b2);
  if (B.ndim === 1) y = squeeze(y, -1);
  if (A.ndim === 1) y = squeeze(y, B.ndim === 1 ? -1 : -2);
  return y;
}

/** Batched matrix product of (B, m, k) and (B, k, n), without broadcasting (torch.bmm). */
export function bmm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 3 || b.ndim !== 3) {
    throw new Error(`bmm: expected two 3-D tensors; got a ${fmt(a.shape)}, b ${fmt(b.shape)}`);
  }
  if (a.shape[0] !== b.shape[0]) {
    throw new Error(`bmm: expected equal batch sizes; got a ${fmt(a.shape)}, b ${fmt(b.shape)}`);
  }
  return matmul(a, b);
}

/** Matrix product of two 2-D tensors (torch.mm). */
export function mm(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 2 || b.ndim !== 2) throw new Error(`mm: expected two 2-D tensors; got a ${fmt(a.shape)}, b ${fmt(b.shape)}`);
  return matmul(a, b);
}

/** x @ weight^T + bias, with weight (out, in) as torch.nn.functional.linear; the transpose is never copied. */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.ndim !== 2) throw new Error(`linear: expected weight of shape (out, in); got ${fmt(weight.shape)}`);
  if (x.ndim === 0 || x.shape[x.ndim - 1] !== weight.shape[1]) {
    throw new Error(`linear: expected input.shape[-1] to equal weight.shape[1] (=${weight.shape[1]}); got input ${fmt(x.shape)}, weight ${fmt(weight.shape)}`);
  }
  if (bias && (bias.ndim !== 1 || bias.shape[0] !== weight.shape[0])) {
    throw new Error(`linear: expected bias of shape [${weight.shape[0]}]; got ${fmt(bias.shape)}`);
  }
  const y = matmul(x, transpose(weight, 0, 1)); // (..., out)
  return bias ? add(y, bias) : y;
}

/** Outer product of two 1-D tensors. */
export function outer(a: Tensor, b: Tensor): Tensor {
  if (a.ndim !== 1 || b.ndim !== 1) throw new Error(`outer: expected two 1-D tensors; got ${fmt(a.shape)}, ${fmt(b.shape)}`);
  return matmul(unsqueeze(a, 1), unsqueeze(b, 0)); // (m, 1) @ (1, n)
}
