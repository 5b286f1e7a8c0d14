/**
 * Linformer (Wang, Li, Khabsa, Fang & Ma 2020, "Linformer: Self-Attention with Linear Complexity"): keys and
 * values are projected along the sequence to a fixed length k << N by learned matrices (E, F in the paper, eq. 7),
 * softmax(q (E K)^T / sqrt(Dh)) (F V), costing O(N k Dh). Parameters follow linformer-pytorch's names and layout:
 * `proj_k` and `proj_v` of shape (seqLen, k) shared by all heads (the paper's headwise sharing) or (H, seqLen, k)
 * per head; with `shareKV` one `proj_k` serves both (key-value sharing). Initialised U(-1/sqrt(k), 1/sqrt(k)).
 * A shorter input uses the first Nk rows. Non-causal only: projecting along the sequence mixes future tokens.
 */
import { Module, matmul, mul, ne, reshape, zeros, nn, type BackendLike, type DType, type Generator, type Tensor } from '@formers/tensor-core';
import type { AttentionCallOptions, AttentionCore } from './attention-core.js';
import { SoftmaxAttention } from './softmax-attention.js';
import { applyQK, checkInt, checkQKV } from './validate.js';

export interface LinformerAttentionOptions {
  readonly numHeads: number;
  /** Maximum sequence length N (rows of E/F). */
  readonly seqLen: number;
  /** Projected length k. */
  readonly projectedLength: number;
  /** 'shared' (default): one E/F for all heads; 'per-head': one per head. */
  readonly sharing?: 'shared' | 'per-head';
  /** Use E for the values too (F = E); default false. */
  readonly shareKV?: boolean;
  readonly scale?: number;
  readonly dropout?: number;
  readonly dtype?: DType;
  readonly backend?: BackendLike;
  readonly generator?: Generator;
}

export class LinformerAttention extends Module implements AttentionCore {
  readonly numHeads: number;
  readonly seqLen: number;
  readonly projectedLength: number;
  readonly sharing: 'shared' | 'per-head';
  readonly shareKV: boolean;
  readonly proj_k: Tensor;
  readonly proj_v: Tensor | null;
  readonly inner: SoftmaxAttention;

  constructor(opts: LinformerAttentionOptions) {
    super();
    const op = 'LinformerAttention';
    if (opts === null || typeof opts !== 'object') throw new Error(`${op}: expected options { numHeads, seqLen, projectedLength }; got ${String(opts)}`);
    this.numHeads = checkInt(op, 'opts.numHeads', opts.numHeads);
    this.seqLen = checkInt(op, 'opts.seqLen (dims.seqLen)', opts.seqLen);
    this.projectedLength = checkInt(op, 'opts.projectedLength', opts.projectedLength);
    const sharing = opts.sharing ?? 'shared';
    if (sharing !== 'shared' && sharing !== 'per-head') throw new Error(`${op}: expected opts.sharing 'shared' or 'per-head'; got ${JSON.stringify(sharing)}`);
    this.sharing = sharing;
    this.shareKV = opts.shareKV ?? false;
    const shape = sharing === 'shared' ? [this.seqLen, this.projectedLength] : [this.numHeads, this.seqLen, this.projectedLength];
    const t = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
    const bound = 1 / Math.sqrt(this.projectedLength);
    const init = (): Tensor => nn.init.uniform_(zeros(shape, t), { a: -bound, b: bound, generator: opts.generator });
    this.proj_k = this.registerParameter('proj_k', init());
    this.proj_v = this.registerParameter('proj_v', this.shareKV ? null : init());
    this.inner = this.registerModule('inner', new SoftmaxAttention({ scale: opts.scale, dropout: opts.dropout, generator: opts.generator }));
  }

  forward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const op = 'LinformerAttention';
    const d = checkQKV(op, q, k, v, opts);
    if (opts.causal) throw new Error(`${op}: causal attention is not supported: the sequence projection mixes future tokens into every key`);
    if (opts.bias) throw new Error(`${op}: opts.bias is not supported: scores are over projected keys (Nq, k), not (Nq, Nk)`);
    if (d.Nk > this.seqLen) throw new Error(`${op}: expected Nk <= seqLen = ${this.seqLen}; got Nk = ${d.Nk}`);
    if (d.H !== this.numHeads) throw new Error(`${op}: expected H = ${this.numHeads} heads as configured; got ${d.H}`);
    [q, k] = applyQK(q, k, opts);
    if (opts.keyPaddingMask) {
      const keep = reshape(ne(opts.keyPaddingMask, 0), [d.B, 1, d.Nk, 1]); // (B, 1, Nk, 1)
      k = mul(k, keep); // padded tokens contribute nothing to the projections
      v = mul(v, keep);
    }
    const E = this.proj_k.narrow(-2, 0, d.Nk); // (Nk, k) or (H, Nk, k)
    const F = (this.proj_v ?? this.proj_k).narrow(-2, 0, d.Nk);
    const kp = matmul(E.transpose(-2, -1), k); // (B, H, k, Dh): E^T K along the sequence
    const vp = matmul(F.transpose(-2, -1), v); // (B, H, k, Dh)
    this.inner.training = this.training;
    return this.inner.call(q, kp, vp); // (B, H, Nq, Dh)
  }

  protected override extraRepr(): string {
    return `seqLen=${this.seqLen}, projectedLength=${this.projectedLength}, sharing=${this.sharing}, shareKV=${this.shareKV}`;
  }
}
