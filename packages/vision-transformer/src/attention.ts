/**
 * Multi-head self-attention of a ViT block, as timm's `Attention`: one `qkv` projection (D -> 3D), split into
 * heads, an attention core, and the output projection `proj`. The state_dict keys (`qkv.weight`, `qkv.bias`,
 * `proj.weight`, `proj.bias`) do not depend on the core, so swapping softmax for a linear attention changes no
 * weight names; a core with parameters of its own registers them under `core`.
 *
 * The default core is timm's math (softmax(q Dh^-0.5 k^T) v, Vaswani et al. 2017, eq. 1) written inline: a ViT
 * needs no masks, so this is exactly what timm computes. Any other core (an @formers/attention-linear variant)
 * is built by `createCore`. An optional 2-D RoPE rotates q and k before the core (Heo et al. 2024).
 */
import { dropout, Linear, Module, softmax, type FactoryOptions, type Generator, type Tensor } from '@formers/tensor-core';
import { checkInt, checkRange } from './validate.js';

/** The 2-D rotary transform of q and k (structural: `RotaryEmbedding2d` of @formers/position-encodings satisfies it). */
export interface QK2dTransform extends Module {
  forward(q: Tensor, k: Tensor, opts: { gridSize: readonly [number, number]; numPrefixTokens?: number }): [Tensor, Tensor];
}

/**
 * An attention core over split heads: q, k, v (B, H, N, Dh) -> (B, H, N, Dh). Structural, so every core of
 * @formers/attention-linear (its `AttentionCore`) fits.
 */
export interface AttentionCoreLike extends Module {
  forward(q: Tensor, k: Tensor, v: Tensor): Tensor;
}

/** Where the tokens sit, passed down from the model to every block: the patch grid and the prefix tokens before it. */
export interface TokenLayout {
  readonly gridSize: [number, number];
  readonly numPrefixTokens: number;
}

export interface AttentionOptions extends FactoryOptions {
  readonly dim: number;
  readonly numHeads: number;
  /** Bias in the qkv projection (default true, as timm's ViT). */
  readonly qkvBias?: boolean;
  /** Dropout on the attention probabilities (inline softmax core only; default 0). */
  readonly attnDrop?: number;
  /** Dropout after `proj` (default 0). */
  readonly projDrop?: number;
  /** Builds the attention core; default none = timm's inline softmax. */
  readonly core?: AttentionCoreLike | null;
  /** Rotary transform of q and k; default none. */
  readonly rope?: QK2dTransform | null;
}

export class Attention extends Module {
  readonly numHeads: number;
  readonly headDim: number;
  readonly scale: number;
  readonly attnDrop: number;
  readonly qkv: Linear;
  readonly core: AttentionCoreLike | null;
  readonly rope: QK2dTransform | null;
  readonly proj: Linear;
  readonly projDrop: number;
  private readonly generator: Generator | undefined;

  constructor(opts: AttentionOptions) {
    super();
    const op = 'Attention';
    const dim = checkInt(op, 'opts.dim', opts?.dim);
    this.numHeads = checkInt(op, 'opts.numHeads', opts.numHeads);
    if (dim % this.numHeads !== 0) throw new Error(`${op}: expected opts.dim (${dim}) to be divisible by opts.numHeads (${this.numHeads})`);
    this.headDim = dim / this.numHeads;
    this.scale = this.headDim ** -0.5;
    this.attnDrop = checkRange(op, 'opts.attnDrop', opts.attnDrop ?? 0, 0, 1);
    this.projDrop = checkRange(op, 'opts.projDrop', opts.projDrop ?? 0, 0, 1);
    this.generator = opts.generator;
    const f = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    this.qkv = this.registerModule('qkv', new Linear(dim, 3 * dim, { ...f, bias: opts.qkvBias ?? true }));
    this.rope = opts.rope ? this.registerModule('rope', opts.rope) : null;
    this.core = opts.core ? this.registerModule('core', opts.core) : null;
    this.proj = this.registerModule('proj', new Linear(dim, dim, f));
  }

  /** x (B, N, D) -> (B, N, D). */
  forward(x: Tensor, layout: TokenLayout): Tensor {
    const [b, n, d] = x.shape;
    const qkv = this.qkv.call(x).reshape([b, n, 3, this.numHeads, this.headDim]).permute([2, 0, 3, 1, 4]); // (3, B, H, N, Dh)
    let q = qkv.select(0, 0); // (B, H, N, Dh)
    let k = qkv.select(0, 1); // (B, H, N, Dh)
    const v = qkv.select(0, 2); // (B, H, N, Dh)
    if (this.rope) [q, k] = this.rope.forward(q, k, { gridSize: layout.gridSize, numPrefixTokens: layout.numPrefixTokens });
    let o: Tensor;
    if (this.core) {
      o = this.core.forward(q, k, v); // (B, H, N, Dh)
    } else {
      let p = softmax(q.mul(this.scale).matmul(k.transpose(-2, -1)), -1); // (B, H, N, N)
      p = dropout(p, { p: this.attnDrop, training: this.training, generator: this.generator });
      o = p.matmul(v); // (B, H, N, Dh)
    }
    const merged = o.transpose(1, 2).reshape([b, n, d]); // (B, N, H Dh = D)
    const y = this.proj.call(merged); // (B, N, D)
    return dropout(y, { p: this.projDrop, training: this.training, generator: this.generator });
  }
}
