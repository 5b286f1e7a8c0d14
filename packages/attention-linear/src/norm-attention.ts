/**
 * TransNormer's NormAttention (Qin, Han, Sun, Li, Kong, Barnes & Zhong 2022, "The Devil in Linear Transformer",
 * EMNLP, sec. 4.1): linear attention without the denominator, phi(q) (phi(k)^T v), followed by a normalisation.
 * The paper shows the denominator makes gradients unbounded; dropping it and normalising the output instead keeps
 * them bounded. phi defaults to 1 + elu as the paper's code; the norm runs over the merged heads (H * Dh), as the
 * paper applies it to the attention output before the output projection: RMSNorm by default, or LayerNorm.
 * Parameters: `norm.weight` (H * Dh) and, for LayerNorm, `norm.bias`.
 */
import { LayerNorm, RMSNorm, reshape, type BackendLike, type DType, type Tensor } from '@formers/tensor-core';
import { featureMap, type FeatureMapFn, type FeatureMapName } from './feature-maps.js';
import { KernelizedAttention, type KernelizedAttentionOptions } from './kernelized-attention.js';
import { checkInt, checkPositive, fmt } from './validate.js';

export interface NormAttentionOptions extends KernelizedAttentionOptions {
  readonly numHeads: number;
  readonly headDim: number;
  /** phi; default 'elu+1'. */
  readonly featureMap?: FeatureMapName | FeatureMapFn;
  /** Output normalisation over H * Dh; default 'rmsnorm'. */
  readonly norm?: 'rmsnorm' | 'layernorm';
  /** Norm epsilon; default 1e-6 (rmsnorm) or 1e-5 (layernorm). */
  readonly eps?: number;
  readonly dtype?: DType;
  readonly backend?: BackendLike;
}

export class NormAttention extends KernelizedAttention {
  readonly numHeads: number;
  readonly headDim: number;
  readonly normType: 'rmsnorm' | 'layernorm';
  readonly featureMapName: string;
  readonly norm: RMSNorm | LayerNorm;
  private readonly phi: FeatureMapFn;

  constructor(opts: NormAttentionOptions) {
    const op = 'NormAttention';
    super(op, opts ?? {});
    if (opts === null || typeof opts !== 'object') throw new Error(`${op}: expected options { numHeads, headDim }; got ${String(opts)}`);
    this.numHeads = checkInt(op, 'opts.numHeads', opts.numHeads);
    this.headDim = checkInt(op, 'opts.headDim', opts.headDim);
    const normType = opts.norm ?? 'rmsnorm';
    if (normType !== 'rmsnorm' && normType !== 'layernorm') throw new Error(`${op}: expected opts.norm 'rmsnorm' or 'layernorm'; got ${JSON.stringify(normType)}`);
    this.normType = normType;
    this.phi = featureMap(op, opts.featureMap);
    this.featureMapName = typeof opts.featureMap === 'function' ? 'custom' : (opts.featureMap ?? 'elu+1');
    const eps = checkPositive(op, 'opts.eps', opts.eps ?? (normType === 'rmsnorm' ? 1e-6 : 1e-5));
    const D = this.numHeads * this.headDim;
    const t = { dtype: opts.dtype, backend: opts.backend };
    this.norm = this.registerModule('norm', normType === 'rmsnorm' ? new RMSNorm(D, { eps, ...t }) : new LayerNorm(D, { eps, ...t }));
  }

  protected features(x: Tensor): Tensor {
    const [, H, , Dh] = x.shape;
    if (H !== this.numHeads || Dh !== this.headDim) {
      throw new Error(`NormAttention: expected (H, Dh) = (${this.numHeads}, ${this.headDim}) as configured; got shape ${fmt(x.shape)}`);
    }
    return this.phi(x);
  }

  protected override get hasDenominator(): boolean {
    return false;
  }

  protected get signature(): string {
    return `featureMap=${this.featureMapName}, H=${this.numHeads}, Dh=${this.headDim}`;
  }

  protected override combine(num: Tensor): Tensor {
    const [B, H, N, Dh] = num.shape;
    const merged = reshape(num.permute(0, 2, 1, 3), [B, N, H * Dh]); // (B, N, H * Dh)
    const normed = this.norm.call(merged); // (B, N, H * Dh)
    return reshape(normed, [B, N, H, Dh]).permute(0, 2, 1, 3); // (B, H, N, Dh)
  }

  protected override extraRepr(): string {
    return `featureMap=${this.featureMapName}, norm=${this.normType}, causalForm=${this.causalForm}`;
  }
}
