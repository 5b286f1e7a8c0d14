/**
 * Multi-head attention around any `AttentionCore` (Vaswani et al. 2017, sec. 3.2.2): project, split heads, run the
 * core, merge heads, project out. Separate `q_proj`, `k_proj`, `v_proj` and `out_proj` linears (the HF
 * BART/OPT/LLaMA naming) rather than torch.nn.MultiheadAttention's fused `in_proj_weight`: separate projections
 * allow cross-attention with other key/value widths (`kdim`, `vdim`), and a timm-style fused `qkv` checkpoint maps
 * by splitting its weight in three (documented in the README). The core is registered as `attn`, so a core with
 * parameters (Linformer's `attn.proj_k`, TransNormer's `attn.norm.weight`) gets stable names. Inputs are batch
 * first, (B, N, D), as torch's `batch_first=True`.
 */
import { Dropout, Linear, Module, Tensor, cat, reshape, type BackendLike, type DType, type Generator } from '@formers/tensor-core';
import type { AttentionCallOptions, AttentionCore } from './attention-core.js';
import type { AttentionConfig } from './attention-config.js';
import { ChunkedSoftmaxAttention } from './chunked-softmax-attention.js';
import { createAttentionCore } from './create-attention-core.js';
import { SoftmaxAttention } from './softmax-attention.js';
import { applyQK, checkDropout, checkInt, fmt } from './validate.js';

export interface MultiheadAttentionOptions {
  readonly numHeads: number;
  /** The core: a config (default { type: 'softmax' }) or a ready module. */
  readonly attention?: AttentionConfig | AttentionCore;
  /** Bias in the four projections; default true. */
  readonly bias?: boolean;
  /** Dropout on the output projection (timm's proj_drop); attention-probability dropout is the core's option. */
  readonly dropout?: number;
  /** Key and value input widths for cross-attention; default embedDim. */
  readonly kdim?: number;
  readonly vdim?: number;
  /** Maximum sequence length (needed by Linformer). */
  readonly seqLen?: number;
  readonly dtype?: DType;
  readonly backend?: BackendLike;
  readonly generator?: Generator;
}

/** Decoding state of a `MultiheadAttention`: the core's own state, or a key/value cache for softmax cores. */
export interface MultiheadAttentionState {
  readonly owner: string;
  readonly position: number;
  readonly core: unknown;
  readonly k: Tensor | null;
  readonly v: Tensor | null;
}

interface Steppable {
  step(q: Tensor, k: Tensor, v: Tensor, state: unknown, opts: Pick<AttentionCallOptions, 'qkTransform'>): { out: Tensor; state: unknown };
}

export class MultiheadAttention extends Module {
  readonly embedDim: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly q_proj: Linear;
  readonly k_proj: Linear;
  readonly v_proj: Linear;
  readonly out_proj: Linear;
  readonly attn: AttentionCore;
  readonly projDrop: Dropout;

  constructor(embedDim: number, opts: MultiheadAttentionOptions) {
    super();
    const op = 'MultiheadAttention';
    if (opts === null || typeof opts !== 'object') throw new Error(`${op}: expected options { numHeads, ... }; got ${String(opts)}`);
    this.embedDim = checkInt(op, 'embedDim', embedDim);
    this.numHeads = checkInt(op, 'opts.numHeads', opts.numHeads);
    if (embedDim % this.numHeads !== 0) throw new Error(`${op}: expected embedDim (${embedDim}) divisible by opts.numHeads (${this.numHeads})`);
    this.headDim = embedDim / this.numHeads;
    const f = { bias: opts.bias ?? true, dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    this.q_proj = this.registerModule('q_proj', new Linear(embedDim, embedDim, f));
    this.k_proj = this.registerModule('k_proj', new Linear(checkInt(op, 'opts.kdim', opts.kdim ?? embedDim), embedDim, f));
    this.v_proj = this.registerModule('v_proj', new Linear(checkInt(op, 'opts.vdim', opts.vdim ?? embedDim), embedDim, f));
    this.out_proj = this.registerModule('out_proj', new Linear(embedDim, embedDim, f));
    const a = opts.attention ?? { type: 'softmax' };
    const core = a instanceof Module ? (a as AttentionCore) : createAttentionCore(a as AttentionConfig, { numHeads: this.numHeads, headDim: this.headDim, seqLen: opts.seqLen, dtype: opts.dtype, backend: opts.backend, generator: opts.generator });
    this.attn = this.registerModule('attn', core);
    this.projDrop = this.registerModule('proj_drop', new Dropout(checkDropout(op, 'opts.dropout', opts.dropout ?? 0), { generator: opts.generator }));
  }

  private heads(x: Tensor): Tensor {
    const [B, N] = x.shape;
    return reshape(x, [B, N, this.numHeads, this.headDim]).permute(0, 2, 1, 3); // (B, N, D) -> (B, H, N, Dh)
  }

  private merge(o: Tensor): Tensor {
    const [B, H, N, Dh] = o.shape;
    return reshape(o.permute(0, 2, 1, 3), [B, N, H * Dh]); // (B, H, N, Dh) -> (B, N, D)
  }

  private check(name: string, x: unknown, D: number): asserts x is Tensor {
    if (!(x instanceof Tensor) || x.ndim !== 3 || x.shape[2] !== D) {
      throw new Error(`MultiheadAttention: expected ${name} of shape (B, N, ${D}); got ${x instanceof Tensor ? fmt(x.shape) : String(x)}`);
    }
  }

  /** query (B, Nq, D), key (B, Nk, kdim) and value (B, Nk, vdim) (default: self-attention) -> (B, Nq, D). */
  forward(query: Tensor, key?: Tensor, value?: Tensor, opts: AttentionCallOptions = {}): Tensor {
    this.check('query', query, this.embedDim);
    const k = key ?? query;
    const v = value ?? k;
    this.check('key', k, this.k_proj.inFeatures);
    this.check('value', v, this.v_proj.inFeatures);
    if (k.shape[0] !== query.shape[0] || v.shape[1] !== k.shape[1] || v.shape[0] !== k.shape[0]) {
      throw new Error(`MultiheadAttention: expected key and value (B, Nk, .) matching query's batch; got query ${fmt(query.shape)}, key ${fmt(k.shape)}, value ${fmt(v.shape)}`);
    }
    const q = this.heads(this.q_proj.call(query)); // (B, H, Nq, Dh)
    const kh = this.heads(this.k_proj.call(k)); // (B, H, Nk, Dh)
    const vh = this.heads(this.v_proj.call(v)); // (B, H, Nk, Dh)
    const o = this.attn.forward(q, kh, vh, opts); // (B, H, Nq, Dh)
    return this.projDrop.call(this.out_proj.call(this.merge(o))); // (B, Nq, D)
  }

  /**
   * Causal incremental decoding: x (B, T, D) are the next T tokens; returns their outputs and the new state. Uses
   * the core's own recurrent `step()` where it has one (linear attention, Performer, NormAttention, DiagAttention,
   * sparse), and a key/value cache for softmax cores. Equal to the causal forward over the whole prefix.
   */
  step(x: Tensor, state: MultiheadAttentionState | null = null, opts: Pick<AttentionCallOptions, 'qkTransform'> = {}): { out: Tensor; state: MultiheadAttentionState } {
    const op = 'MultiheadAttention.step';
    this.check('x', x, this.embedDim);
    const owner = `MultiheadAttention(${this.attn.className}, numHeads=${this.numHeads}, embedDim=${this.embedDim})`;
    if (state !== null && (typeof state !== 'object' || state.owner !== owner)) {
      throw new Error(`${op}: expected a state from ${owner}; got one from ${String(state?.owner)}`);
    }
    const q = this.heads(this.q_proj.call(x)); // (B, H, T, Dh)
    const k = this.heads(this.k_proj.call(x));
    const v = this.heads(this.v_proj.call(x));
    const T = x.shape[1];
    const pos = state?.position ?? 0;
    let o: Tensor;
    let next: MultiheadAttentionState;
    const core = this.attn as unknown as Partial<Steppable>;
    if (typeof core.step === 'function') {
      const r = core.step(q, k, v, state?.core ?? null, opts);
      o = r.out;
      next = { owner, position: pos + T, core: r.state, k: null, v: null };
    } else if (this.attn instanceof SoftmaxAttention || this.attn instanceof ChunkedSoftmaxAttention) {
      const [qt, kt] = applyQK(q, k, { qkTransform: opts.qkTransform, offset: pos });
      const ck = state?.k ? cat([state.k, kt], 2) : kt; // (B, H, pos + T, Dh): keys stored after the q/k hook
      const cv = state?.v ? cat([state.v, v], 2) : v;
      o = this.attn.forward(qt, ck, cv, { causal: true });
      next = { owner, position: pos + T, core: null, k: ck, v: cv };
    } else {
      throw new Error(`${op}: ${this.attn.className} has no causal decoding (it is non-causal by construction)`);
    }
    return { out: this.projDrop.call(this.out_proj.call(this.merge(o))), state: next };
  }
}
