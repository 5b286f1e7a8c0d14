/**
 * TransNormer's DiagAttention (Qin et al. 2022, "The Devil in Linear Transformer", sec. 4.2): softmax attention
 * restricted to non-overlapping blocks of `chunkSize` tokens (64 by default), i.e. a block-diagonal attention
 * matrix. Local attention fixes the attention dilution of linear attention in the lower layers. Cost O(N C Dh).
 *
 * Self-attention only (Nq = Nk). A length that is not a multiple of the chunk is zero-padded at the end and the
 * padded keys are masked (documented: no divisibility needed). Causal masks within each block. `step()` decodes
 * with a cache holding the current block's keys and values.
 */
import { Module, Tensor, cat, ones, pad, reshape, type Generator } from '@formers/tensor-core';
import type { AttentionCallOptions, AttentionCore } from './attention-core.js';
import { SoftmaxAttention } from './softmax-attention.js';
import { applyQK, checkDropout, checkInt, checkPositive, checkQKV, fmt } from './validate.js';

export interface DiagAttentionOptions {
  /** Block length C; default 64. */
  readonly chunkSize?: number;
  /** Score scale; default 1 / sqrt(Dh). */
  readonly scale?: number;
  readonly dropout?: number;
  readonly generator?: Generator;
}

/** DiagAttention decoding state: keys and values of the current (partial) block. */
export interface DiagAttentionState {
  readonly owner: string;
  readonly position: number;
  readonly k: Tensor;
  readonly v: Tensor;
}

export class DiagAttention extends Module implements AttentionCore {
  readonly chunkSize: number;
  readonly inner: SoftmaxAttention;

  constructor(opts: DiagAttentionOptions = {}) {
    super();
    const op = 'DiagAttention';
    this.chunkSize = checkInt(op, 'opts.chunkSize', opts.chunkSize ?? 64);
    if (opts.scale !== undefined) checkPositive(op, 'opts.scale', opts.scale);
    checkDropout(op, 'opts.dropout', opts.dropout ?? 0);
    this.inner = this.registerModule('inner', new SoftmaxAttention({ scale: opts.scale, dropout: opts.dropout, generator: opts.generator }));
  }

  forward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const op = 'DiagAttention';
    const d = checkQKV(op, q, k, v, opts);
    if (d.Nq !== d.Nk) throw new Error(`${op}: expected self-attention with Nq = Nk (block-diagonal); got Nq = ${d.Nq}, Nk = ${d.Nk}`);
    if (opts.bias) throw new Error(`${op}: opts.bias is not supported (the score matrix is block-diagonal); use a softmax core`);
    [q, k] = applyQK(q, k, opts);
    const { B, H, Nq: N, Dh } = d;
    const C = Math.min(this.chunkSize, N);
    const padN = (C - (N % C)) % C;
    const nb = (N + padN) / C;
    this.inner.training = this.training;
    if (!padN && !opts.keyPaddingMask && !(this.training && this.inner.dropoutP > 0)) {
      // Without padding or masks the blocks can ride along as extra heads: (B, H, nb C, Dh) -> (B, H nb, C, Dh) is a
      // view, so no block is copied in or out. (With dropout active the layout below is kept, as the order of the
      // dropout draws follows the layout.)
      const asHeads = (x: Tensor): Tensor => reshape(x, [B, H * nb, C, Dh]); // (B, H nb, C, Dh)
      const out = this.inner.call(asHeads(q), asHeads(k), asHeads(v), { causal: opts.causal }); // (B, H nb, C, Dh)
      return reshape(out, [B, H, N, Dh]); // (B, H, N, Dh)
    }
    const toBlocks = (x: Tensor): Tensor => {
      const p = padN ? pad(x, [0, 0, 0, padN]) : x; // (B, H, nb * C, Dh)
      return reshape(reshape(p, [B, H, nb, C, Dh]).permute(0, 2, 1, 3, 4), [B * nb, H, C, Dh]); // (B nb, H, C, Dh)
    };
    let keep: Tensor | undefined = opts.keyPaddingMask;
    if (padN) {
      const base = keep ?? ones([B, N], { dtype: q.dtype, backend: q.backend });
      keep = pad(base, [0, padN]); // (B, nb * C): padded keys masked
    }
    const blockMask = keep ? reshape(keep, [B * nb, C]) : undefined; // (B nb, C)
    const out = this.inner.call(toBlocks(q), toBlocks(k), toBlocks(v), { causal: opts.causal, keyPaddingMask: blockMask }); // (B nb, H, C, Dh)
    const merged = reshape(reshape(out, [B, nb, H, C, Dh]).permute(0, 2, 1, 3, 4), [B, H, nb * C, Dh]); // (B, H, nb * C, Dh)
    return padN ? merged.narrow(2, 0, N) : merged;
  }

  /** Causal decoding: T new tokens (B, H, T, Dh) after `state`; equal to the causal forward on the prefix. */
  step(q: Tensor, k: Tensor, v: Tensor, state: DiagAttentionState | null = null, opts: Pick<AttentionCallOptions, 'qkTransform'> = {}): { out: Tensor; state: DiagAttentionState } {
    const op = 'DiagAttention.step';
    const d = checkQKV(op, q, k, v, opts);
    const owner = `DiagAttention(chunkSize=${this.chunkSize})`;
    if (state !== null) {
      if (typeof state !== 'object' || state.owner !== owner) throw new Error(`${op}: expected a state from ${owner}; got one from ${String(state?.owner)}`);
      if (state.k.shape[0] !== d.B || state.k.shape[1] !== d.H || state.k.shape[3] !== d.Dh) {
        throw new Error(`${op}: expected a state for (B, H, Dh) = (${d.B}, ${d.H}, ${d.Dh}); got k ${fmt(state.k.shape)}`);
      }
    }
    let pos = state?.position ?? 0;
    let ck = state?.k ?? null;
    let cv = state?.v ?? null;
    const outs: Tensor[] = [];
    for (let t = 0; t < d.Nq; t++) {
      let [qt, kt] = [q.narrow(2, t, 1), k.narrow(2, t, 1)]; // (B, H, 1, Dh)
      if (opts.qkTransform) [qt, kt] = applyQK(qt, kt, { qkTransform: opts.qkTransform, offset: pos });
      if (pos % this.chunkSize === 0) ck = cv = null; // a new block starts
      ck = ck ? cat([ck, kt], 2) : kt; // (B, H, n, Dh)
      cv = cv ? cat([cv, v.narrow(2, t, 1)], 2) : v.narrow(2, t, 1);
      this.inner.training = this.training;
      outs.push(this.inner.call(qt, ck, cv)); // the block's earlier keys are all visible
      pos++;
    }
    return { out: outs.length === 1 ? outs[0] : cat(outs, 2), state: { owner, position: pos, k: ck!, v: cv! } };
  }

  protected override extraRepr(): string {
    return `chunkSize=${this.chunkSize}`;
  }
}
