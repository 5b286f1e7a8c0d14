/**
 * RoPE with linear attention, as RoFormer describes it (Su et al. 2021, "RoFormer: Enhanced Transformer with
 * Rotary Position Embedding", sec. 3.4.3, eq. 19):
 *
 *   out_m = sum_n (R_m phi(q_m))^T (R_n phi(k_n)) v_n / sum_n phi(q_m)^T phi(k_n)
 *
 * The rotation is applied to the features phi(q), phi(k) in the numerator only: a rotated inner product can be
 * negative, so the denominator keeps the unrotated, positive features and never divides by zero or a negative
 * number. phi is a non-negative feature map (default elu(x) + 1, Katharopoulos et al. 2020).
 *
 * This is a function on tensors; attention-linear does not import it. Its cores take the same hook as a
 * `QKTransform` (`RotaryEmbedding.qkTransform`), applied to the features in the numerator, which is this function.
 */
import { elu, matmul, ones, onesLike, tril, type Tensor } from '@formers/tensor-core';

export interface RopeLinearAttentionOptions {
  /** The rotation applied to phi(q) and phi(k), e.g. `new RotaryEmbedding({ dim: M }).qkTransform`. */
  readonly rotate: (q: Tensor, k: Tensor, opts: { offset?: number }) => [Tensor, Tensor];
  /** Non-negative feature map applied to q and k (default elu(x) + 1). */
  readonly featureMap?: (x: Tensor) => Tensor;
  /** Query m sees keys n <= m (+ offset) only (default false). */
  readonly causal?: boolean;
  /** Position of the first query (decoding); keys start at 0. Default Nk - Nq. */
  readonly offset?: number;
  /** Added to the denominator (default 1e-6, as fast-transformers). */
  readonly eps?: number;
}

const eluPlusOne = (x: Tensor): Tensor => elu(x).add(1);

/** q (B, H, Nq, Dh), k and v (B, H, Nk, Dh) -> (B, H, Nq, Dh). */
export function ropeLinearAttention(q: Tensor, k: Tensor, v: Tensor, opts: RopeLinearAttentionOptions): Tensor {
  const op = 'ropeLinearAttention';
  if (q.ndim !== 4 || k.ndim !== 4 || v.ndim !== 4) {
    throw new Error(`${op}: expected q, k, v of shape (B, H, N, Dh); got [${q.shape.join(', ')}], [${k.shape.join(', ')}], [${v.shape.join(', ')}]`);
  }
  if (k.shape[2] !== v.shape[2] || q.shape[3] !== k.shape[3] || q.shape[0] !== k.shape[0] || q.shape[1] !== k.shape[1]) {
    throw new Error(`${op}: expected k and v with the same N, and q and k with the same B, H, Dh; got q [${q.shape.join(', ')}], k [${k.shape.join(', ')}], v [${v.shape.join(', ')}]`);
  }
  if (typeof opts?.rotate !== 'function') throw new Error(`${op}: expected opts.rotate to be a (q, k, { offset }) => [q, k] function; got ${typeof opts?.rotate}`);
  const nq = q.shape[2];
  const nk = k.shape[2];
  const offset = opts.offset ?? nk - nq;
  if (!Number.isInteger(offset) || offset < 0) throw new Error(`${op}: expected opts.offset to be an integer >= 0; got ${String(offset)}`);
  const phi = opts.featureMap ?? eluPlusOne;
  const fq = phi(q); // (B, H, Nq, M)
  const fk = phi(k); // (B, H, Nk, M)
  // Queries sit at offset .. offset + Nq - 1 and keys at 0 .. Nk - 1: rotate each at its own positions.
  const [rq] = opts.rotate(fq, fq, { offset }); // (B, H, Nq, M)
  const [, rk] = opts.rotate(fk, fk, { offset: 0 }); // (B, H, Nk, M)
  const eps = opts.eps ?? 1e-6;
  if (!opts.causal) {
    // Linear in N: contract keys with values first.
    const kv = matmul(rk.transpose(2, 3), v); // (B, H, M, Dh)
    const num = matmul(rq, kv); // (B, H, Nq, Dh)
    const den = matmul(fq, fk.sum(2, true).transpose(2, 3)); // (B, H, Nq, 1)
    return num.div(den.add(eps));
  }
  // Causal: the masked quadratic form (the recurrent form lives in attention-linear's cores).
  const mask = tril(ones([nq, nk], { dtype: q.dtype, backend: q.backend }), offset); // (Nq, Nk): key n <= offset + m
  const num = matmul(matmul(rq, rk.transpose(2, 3)).mul(mask), v); // (B, H, Nq, Dh)
  const den = matmul(matmul(fq, fk.transpose(2, 3)).mul(mask), onesLike(v.narrow(3, 0, 1))); // (B, H, Nq, 1)
  return num.div(den.add(eps));
}
