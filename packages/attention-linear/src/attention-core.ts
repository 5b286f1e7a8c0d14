/**
 * The contract every attention in this package satisfies, so that a model swaps them by configuration.
 *
 * An attention *core* maps already-projected, already-split heads to heads: q (B, H, Nq, Dh), k and v
 * (B, H, Nk, Dh) -> (B, H, Nq, Dh). Projections (timm's `qkv`/`proj`, HF's `q_proj`...) live in the model, so a
 * model's state_dict keys do not depend on which attention it runs; a core that has parameters of its own
 * (Linformer's E/F, TransNormer's norm) registers them under its own module name.
 */
import type { Module, Tensor } from '@formers/tensor-core';

/**
 * A transform applied to q and k after the projections and before the scores, e.g. RoPE. Structural, so that
 * `RotaryEmbedding` from @formers/position-encodings satisfies it without either package importing the other.
 * `offset` is the position of the first query token (incremental decoding).
 */
export type QKTransform = (q: Tensor, k: Tensor, opts: { offset?: number }) => [Tensor, Tensor];

export interface AttentionCallOptions {
  /** Causal masking: query i sees keys j <= i (+ the key offset when decoding with a cache). Default false. */
  readonly causal?: boolean;
  /**
   * Key padding mask (B, Nk): nonzero = attend, 0 = padding. Padded keys get zero weight; a query whose keys are
   * all padded returns zeros, never NaN.
   */
  readonly keyPaddingMask?: Tensor;
  /** Additive score bias, broadcastable to (B, H, Nq, Nk): T5, ALiBi, a relative bias. Softmax-style cores only. */
  readonly bias?: Tensor;
  /** Applied to (q, k) before the scores; see `QKTransform`. */
  readonly qkTransform?: QKTransform;
  /** Position of the first query token, passed to `qkTransform`; default 0. */
  readonly offset?: number;
}

/** A module computing attention over split heads. */
export interface AttentionCore extends Module {
  /** q (B, H, Nq, Dh), k and v (B, H, Nk, Dh) -> (B, H, Nq, Dh). */
  forward(q: Tensor, k: Tensor, v: Tensor, opts?: AttentionCallOptions): Tensor;
}
