/**
 * Scaled dot-product attention (Vaswani et al. 2017, "Attention Is All You Need", eq. 1):
 * softmax(q k^T * scale + bias) v, with scale = 1 / sqrt(Dh) by default.
 *
 * Numerically stable with masks and biases: masked scores are replaced by a large finite negative number (never
 * -Infinity, which would give inf - inf = NaN in a fully masked row), the fused softmax kernel subtracts the row
 * max, and a query row whose keys are all masked (including by a -Infinity bias) returns zeros, as documented in
 * `AttentionCallOptions.keyPaddingMask`. This is the O(N^2)-memory baseline every other core is tested against.
 */
import { Module, amax, dropout, gt, matmul, maximum, mul, noGrad, softmax, where, type Generator, type Tensor } from '@formers/tensor-core';
import type { AttentionCallOptions, AttentionCore } from './attention-core.js';
import { MASKED_SCORE, MASKED_THRESHOLD, allowedMask } from './masks.js';
import { applyQK, checkDropout, checkPositive, checkQKV } from './validate.js';

export interface SoftmaxAttentionOptions {
  /** Score scale; default 1 / sqrt(Dh) (read from q at call time). */
  readonly scale?: number;
  /** Dropout probability on the attention probabilities, active in training mode only; default 0. */
  readonly dropout?: number;
  /** Generator for the dropout masks; default the global one. */
  readonly generator?: Generator;
}

/**
 * Softmax attention as an `AttentionCore`: q (B, H, Nq, Dh), k, v (B, H, Nk, Dh) -> (B, H, Nq, Dh).
 * Causal masking is bottom-right aligned: with Nk > Nq (a key cache first), query i sees keys j <= i + Nk - Nq.
 */
export class SoftmaxAttention extends Module implements AttentionCore {
  readonly scale: number | undefined;
  readonly dropoutP: number;
  private readonly generator: Generator | undefined;

  constructor(opts: SoftmaxAttentionOptions = {}) {
    super();
    this.scale = opts.scale === undefined ? undefined : checkPositive('SoftmaxAttention', 'opts.scale', opts.scale);
    this.dropoutP = checkDropout('SoftmaxAttention', 'opts.dropout', opts.dropout ?? 0);
    this.generator = opts.generator;
  }

  forward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const d = checkQKV('SoftmaxAttention', q, k, v, opts);
    [q, k] = applyQK(q, k, opts);
    const scale = this.scale ?? 1 / Math.sqrt(d.Dh);
    let s = matmul(mul(q, scale), k.transpose(-2, -1)); // (B, H, Nq, Nk)
    const masked = opts.bias !== undefined || opts.causal === true || opts.keyPaddingMask !== undefined;
    // A -Infinity bias (a mask written as a bias) is clamped so that it counts as masked instead of giving NaN.
    if (opts.bias) s = maximum(s.add(opts.bias), MASKED_SCORE); // (B, H, Nq, Nk)
    const allowed = allowedMask(opts, q, d);
    if (allowed) s = where(allowed, s, MASKED_SCORE); // (B, H, Nq, Nk)
    let p = softmax(s, -1); // (B, H, Nq, Nk)
    p = dropout(p, { p: this.dropoutP, training: this.training, generator: this.generator });
    let out = matmul(p, v); // (B, H, Nq, Dh)
    if (masked) {
      // A fully masked row has a uniform softmax over masked keys; zero it (the documented contract).
      const rowHasKey = noGrad(() => gt(amax(s, -1, true), MASKED_THRESHOLD)); // (B, H, Nq, 1)
      out = where(rowHasKey, out, 0); // (B, H, Nq, Dh)
    }
    return out;
  }

  protected override extraRepr(): string {
    return `scale=${this.scale ?? '1/sqrt(Dh)'}, dropout=${this.dropoutP}`;
  }
}
