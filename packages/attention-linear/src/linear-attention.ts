/**
 * Linear attention (Katharopoulos, Vyas, Pappas & Fleuret 2020, "Transformers are RNNs: Fast Autoregressive
 * Transformers with Linear Attention", ICML): softmax(q k^T) is replaced by the kernel phi(q) . phi(k), so
 * out_i = phi(q_i)^T (sum_j phi(k_j) v_j^T) / (phi(q_i)^T sum_j phi(k_j) + eps) (eq. 6), computed in O(N M Dh).
 * The feature map defaults to the paper's elu(x) + 1 (sec. 3.2.1); relu and identity are offered too. Causal
 * attention runs as prefix sums (parallel), chunkwise-parallel, or recurrently (eq. 18-20, `step()`).
 */
import { add, div, type Tensor } from '@formers/tensor-core';
import { featureMap, type FeatureMapFn, type FeatureMapName } from './feature-maps.js';
import { KernelizedAttention, type KernelizedAttentionOptions } from './kernelized-attention.js';
import { checkPositive } from './validate.js';

export interface LinearAttentionOptions extends KernelizedAttentionOptions {
  /** phi; default 'elu+1'. A function must map (B, H, N, Dh) to non-negative (B, H, N, M). */
  readonly featureMap?: FeatureMapName | FeatureMapFn;
  /** Added to the denominator; default 1e-6 (as fast-transformers). */
  readonly eps?: number;
}

export class LinearAttention extends KernelizedAttention {
  readonly eps: number;
  readonly featureMapName: string;
  private readonly phi: FeatureMapFn;

  constructor(opts: LinearAttentionOptions = {}) {
    super('LinearAttention', opts);
    this.phi = featureMap('LinearAttention', opts.featureMap);
    this.featureMapName = typeof opts.featureMap === 'function' ? 'custom' : (opts.featureMap ?? 'elu+1');
    this.eps = checkPositive('LinearAttention', 'opts.eps', opts.eps ?? 1e-6, true);
  }

  protected features(x: Tensor): Tensor {
    return this.phi(x);
  }

  protected get signature(): string {
    return `featureMap=${this.featureMapName}`;
  }

  protected override combine(num: Tensor, den: Tensor | null): Tensor {
    return div(num, add(den!, this.eps)); // (B, H, Nq, Dh)
  }

  protected override extraRepr(): string {
    return `featureMap=${this.featureMapName}, eps=${this.eps}, causalForm=${this.causalForm}, chunkSize=${this.chunkSize}`;
  }
}
