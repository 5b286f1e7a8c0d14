/**
 * Relative position representations of Shaw, Uszkoreit and Vaswani 2018 ("Self-Attention with Relative Position
 * Representations", NAACL 2018). Learned vectors a^K_{ij} and a^V_{ij} for the clipped distance
 * clip(j - i, -k, k) enter the attention logits and the values (eq. 3-5):
 *
 *   e_ij = q_i . (k_j + a^K_ij) / sqrt(Dh),   z_i = sum_j softmax_j(e_ij) (v_j + a^V_ij).
 *
 * The tables (2k + 1, Dh) are shared across heads, as in the paper; row r holds distance r - k. Names:
 * `relative_keys` and `relative_values` (the latter absent with `values: false`). The sums over j of the
 * relative terms are written as batched matmuls per query, so no (B, H, Tq, Tk, Dh) tensor is built.
 * For an image's patch grid, `ShawRelativePosition2d` sums a row-offset and a column-offset table (iRPE, Wu et al. 2021).
 */
import { init, matmul, Module, softmax, tensor, zeros, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { checkInt } from './validate.js';

export interface ShawRelativePositionOptions extends FactoryOptions {
  /** Head dim Dh of queries, keys and values. */
  readonly headDim: number;
  /** Distances are clipped to [-k, k] (the paper's k; default 16). */
  readonly maxRelativePosition?: number;
  /** Also learn a^V for the values (default true, as the paper). */
  readonly values?: boolean;
}

export interface ShawAttentionOptions {
  /** Position of the first query; keys are at 0 .. Tk - 1 (default Tk - Tq, the decoding convention). */
  readonly queryOffset?: number;
  /** Additive mask or bias broadcastable to (B, H, Tq, Tk), e.g. -Infinity above the causal diagonal. */
  readonly bias?: Tensor;
}

/** clip(j - i, -k, k) + k for queries at offset .. offset + Tq - 1 and keys at 0 .. Tk - 1: (Tq, Tk) host ints. */
export function shawRelativeIndex(queryLength: number, keyLength: number, maxRelativePosition: number, queryOffset = keyLength - queryLength): Int32Array {
  const out = new Int32Array(queryLength * keyLength);
  const k = maxRelativePosition;
  for (let i = 0; i < queryLength; i++) {
    for (let j = 0; j < keyLength; j++) out[i * keyLength + j] = Math.max(-k, Math.min(k, j - (i + queryOffset))) + k;
  }
  return out;
}

export class ShawRelativePosition extends Module {
  readonly headDim: number;
  readonly maxRelativePosition: number;
  /** a^K (2k + 1, Dh). */
  readonly relativeKeys: Tensor;
  /** a^V (2k + 1, Dh), or null with values: false. */
  readonly relativeValues: Tensor | null;

  constructor(opts: ShawRelativePositionOptions) {
    super();
    const op = 'ShawRelativePosition';
    this.headDim = checkInt(op, 'opts.headDim', opts?.headDim);
    this.maxRelativePosition = checkInt(op, 'opts.maxRelativePosition', opts.maxRelativePosition ?? 16);
    const t = { dtype: opts.dtype, backend: opts.backend };
    const n = 2 * this.maxRelativePosition + 1;
    // Xavier-uniform as tensor2tensor's relative embeddings.
    this.relativeKeys = this.registerParameter('relative_keys', zeros([n, this.headDim], t));
    init.xavierUniform_(this.relativeKeys, { generator: opts.generator });
    this.relativeValues = this.registerParameter('relative_values', opts.values === false ? null : zeros([n, this.headDim], t));
    if (this.relativeValues) init.xavierUniform_(this.relativeValues, { generator: opts.generator });
  }

  /** The per-pair tables a[i, j] = table[clip(j - i) + k]: (Tq, Tk, Dh). */
  private pairs(table: Tensor, tq: number, tk: number, offset: number): Tensor {
    const idx = tensor(shawRelativeIndex(tq, tk, this.maxRelativePosition, offset), { dtype: 'int32', shape: [tq * tk], backend: table.backend });
    return table.indexSelect(0, idx).reshape([tq, tk, this.headDim]); // (Tq, Tk, Dh)
  }

  /** q_i . a^K_ij for q (B, H, Tq, Dh) against Tk keys: (B, H, Tq, Tk), unscaled. */
  keyScores(q: Tensor, keyLength: number, opts: { queryOffset?: number } = {}): Tensor {
    const [, , tq] = checkHeadTensor('ShawRelativePosition.keyScores', q, 'q', this.headDim);
    const offset = this.offset(opts.queryOffset, tq, keyLength);
    return pairScores(q, this.pairs(this.relativeKeys, tq, keyLength, offset));
  }

  /** Full attention with relative keys and values: q (B, H, Tq, Dh), k, v (B, H, Tk, Dh) -> (B, H, Tq, Dh). */
  forward(q: Tensor, k: Tensor, v: Tensor, opts: ShawAttentionOptions = {}): Tensor {
    const [tq, tk] = checkQkv('ShawRelativePosition', q, k, v, this.headDim);
    const offset = this.offset(opts.queryOffset, tq, tk);
    const aK = this.pairs(this.relativeKeys, tq, tk, offset); // (Tq, Tk, Dh)
    const aV = this.relativeValues ? this.pairs(this.relativeValues, tq, tk, offset) : null; // (Tq, Tk, Dh)
    return shawAttention(q, k, v, aK, aV, opts.bias);
  }

  private offset(given: number | undefined, tq: number, tk: number): number {
    const o = given ?? tk - tq;
    if (!Number.isInteger(o)) throw new Error(`ShawRelativePosition: expected opts.queryOffset to be an integer; got ${String(given)}`);
    return o;
  }
}

/** q_i . a_ij for q (B, H, Tq, Dh) and pair vectors a (Tq, Tk, Dh): (B, H, Tq, Tk), one batched matmul per query. */
export function pairScores(q: Tensor, a: Tensor): Tensor {
  const [b, h, tq, dh] = q.shape;
  const tk = a.shape[1];
  const perQuery = q.permute([2, 0, 1, 3]).reshape([tq, b * h, dh]); // (Tq, B H, Dh)
  return matmul(perQuery, a.transpose(1, 2)).reshape([tq, b, h, tk]).permute([1, 2, 0, 3]); // (B, H, Tq, Tk)
}

/**
 * Shaw et al.'s attention (eq. 3-5) given the pair tables aK and aV (Tq, Tk, Dh) (aV null: values unchanged), shared
 * by the 1-D and 2-D modules: softmax((q k^T + q a^K) / sqrt(Dh) + bias) (v + a^V).
 */
export function shawAttention(q: Tensor, k: Tensor, v: Tensor, aK: Tensor, aV: Tensor | null, bias?: Tensor): Tensor {
  const [b, h, tq, dh] = q.shape;
  const tk = k.shape[2];
  let logits = matmul(q, k.transpose(2, 3)).add(pairScores(q, aK)).mul(1 / Math.sqrt(dh)); // (B, H, Tq, Tk)
  if (bias) logits = logits.add(bias);
  const alpha = softmax(logits, -1); // (B, H, Tq, Tk)
  const out = matmul(alpha, v); // (B, H, Tq, Dh)
  if (!aV) return out;
  const perQuery = alpha.permute([2, 0, 1, 3]).reshape([tq, b * h, tk]); // (Tq, B H, Tk)
  return out.add(matmul(perQuery, aV).reshape([tq, b, h, dh]).permute([1, 2, 0, 3])); // (B, H, Tq, Dh)
}

/** Throw unless x is (B, H, T, Dh = headDim); returns its shape. */
export function checkHeadTensor(op: string, x: Tensor, name: string, headDim: number): [number, number, number, number] {
  if (x.ndim !== 4 || x.shape[3] !== headDim) {
    throw new Error(`${op}: expected ${name} of shape (B, H, T, Dh = ${headDim}); got [${x.shape.join(', ')}]`);
  }
  return x.shape as unknown as [number, number, number, number];
}

/** Throw unless q (B, H, Tq, Dh), k and v (B, H, Tk, Dh) agree; returns [Tq, Tk]. */
export function checkQkv(op: string, q: Tensor, k: Tensor, v: Tensor, headDim: number): [number, number] {
  const [b, h, tq] = checkHeadTensor(op, q, 'q', headDim);
  checkHeadTensor(op, k, 'k', headDim);
  checkHeadTensor(op, v, 'v', headDim);
  const tk = k.shape[2];
  if (k.shape[0] !== b || k.shape[1] !== h || v.shape[0] !== b || v.shape[1] !== h || v.shape[2] !== tk) {
    throw new Error(`${op}: expected q (B, H, Tq, Dh), k and v (B, H, Tk, Dh) with one B and H; got q [${q.shape.join(', ')}], k [${k.shape.join(', ')}], v [${v.shape.join(', ')}]`);
  }
  return [tq, tk];
}
