/**
 * Performer attention with FAVOR+ (Choromanski et al. 2021, "Rethinking Attention with Performers", ICLR):
 * softmax attention approximated by positive random features,
 * phi(x) = M^{-1/2} (exp(w_m . x' - |x'|^2 / 2 - c) + eps), x' = x Dh^{-1/4} (so phi(q) . phi(k) estimates
 * exp(q . k / sqrt(Dh)) up to a constant), with orthogonal random features (`random-features.ts`). The M^{-1/2}
 * factor scales numerator and denominator alike and cancels exactly, so it is not computed.
 *
 * The stabiliser c: for queries the row max over features (it cancels between numerator and denominator); for keys
 * the max over all keys and features of a head in non-causal mode (also cancels), and 0 in causal mode, because a
 * max over future keys is not available when decoding token by token and `step()` must equal the forward. Defaults
 * follow performer-pytorch: M = round(Dh ln Dh), eps = 1e-4, redraw interval none (set one to redraw in training).
 */
import { Generator, add, amax, defaultGenerator, exp, gt, matmul, mul, noGrad, reciprocal, sub, sum, square, where, type BackendLike, type DType, type Tensor } from '@formers/tensor-core';
import { KernelizedAttention, type KernelizedAttentionOptions } from './kernelized-attention.js';
import { gaussianRandomFeatures } from './random-features.js';
import { checkInt, checkPositive, fmt } from './validate.js';

export interface PerformerAttentionOptions extends KernelizedAttentionOptions {
  /** Head dim Dh (the projection is (M, Dh)). */
  readonly headDim: number;
  /** Random features M; default round(Dh ln Dh) (performer-pytorch's nb_features). */
  readonly numFeatures?: number;
  /** Orthogonal random features; default true. */
  readonly orthogonal?: boolean;
  /** Redraw the projection every this many training-mode forwards; default null (never automatically). */
  readonly redrawInterval?: number | null;
  /** Added inside the features; default 1e-4. */
  readonly eps?: number;
  /** An explicit (M, Dh) projection (e.g. to match a reference); otherwise drawn from `generator`. */
  readonly projection?: Tensor;
  readonly dtype?: DType;
  readonly backend?: BackendLike;
  readonly generator?: Generator;
}

export class PerformerAttention extends KernelizedAttention {
  readonly headDim: number;
  readonly numFeatures: number;
  readonly orthogonal: boolean;
  readonly redrawInterval: number | null;
  readonly eps: number;
  /** The (M, Dh) projection; a buffer named as performer-pytorch's `projection_matrix`. */
  get projectionMatrix(): Tensor {
    return this.proj;
  }
  private proj: Tensor;
  private readonly gen: Generator;
  private readonly tensorOpts: { dtype: DType; backend?: BackendLike };
  /** Training forwards since the last redraw. */
  private callsSinceRedraw = 0;
  private causalMode = false;

  constructor(opts: PerformerAttentionOptions) {
    super('PerformerAttention', opts);
    const op = 'PerformerAttention';
    if (opts === null || typeof opts !== 'object') throw new Error(`${op}: expected options { headDim, ... }; got ${String(opts)}`);
    this.headDim = checkInt(op, 'opts.headDim', opts.headDim);
    this.numFeatures = checkInt(op, 'opts.numFeatures', opts.numFeatures ?? Math.max(1, Math.round(this.headDim * Math.log(this.headDim))));
    this.orthogonal = opts.orthogonal ?? true;
    this.redrawInterval = opts.redrawInterval == null ? null : checkInt(op, 'opts.redrawInterval', opts.redrawInterval);
    this.eps = checkPositive(op, 'opts.eps', opts.eps ?? 1e-4, true);
    this.gen = opts.generator ?? defaultGenerator();
    this.tensorOpts = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
    if (opts.projection) {
      const p = opts.projection;
      if (p.ndim !== 2 || p.shape[0] !== this.numFeatures || p.shape[1] !== this.headDim) {
        throw new Error(`${op}: expected opts.projection of shape [${this.numFeatures}, ${this.headDim}] (M, Dh); got ${fmt(p.shape)}`);
      }
      this.proj = p.detach().clone();
    } else {
      this.proj = gaussianRandomFeatures(this.numFeatures, this.headDim, this.gen, { orthogonal: this.orthogonal, ...this.tensorOpts });
    }
    this.registerBuffer('projection_matrix', this.proj);
  }

  /** Draw a fresh projection now (FAVOR+ feature redrawing); `generator` defaults to the constructor's. */
  redrawFeatures(generator?: Generator): void {
    const fresh = gaussianRandomFeatures(this.numFeatures, this.headDim, generator ?? this.gen, { orthogonal: this.orthogonal, dtype: this.proj.dtype, backend: this.proj.backend });
    noGrad(() => this.proj.copy_(fresh));
    this.callsSinceRedraw = 0;
  }

  protected override beforeForward(): void {
    if (this.training && this.redrawInterval !== null) {
      if (this.callsSinceRedraw >= this.redrawInterval) this.redrawFeatures();
      this.callsSinceRedraw++;
    }
  }

  override forward(q: Tensor, k: Tensor, v: Tensor, opts: Parameters<KernelizedAttention['forward']>[3] = {}): Tensor {
    this.causalMode = opts.causal ?? false;
    return super.forward(q, k, v, opts);
  }

  override step(...args: Parameters<KernelizedAttention['step']>): ReturnType<KernelizedAttention['step']> {
    this.causalMode = true;
    return super.step(...args);
  }

  protected override get qkHookOn(): 'inputs' {
    return 'inputs';
  }

  protected get signature(): string {
    return `M=${this.numFeatures}, orthogonal=${this.orthogonal}`;
  }

  protected features(x: Tensor, which: 'q' | 'k'): Tensor {
    const { base, offset } = this.splitFeatures(x, which);
    return add(base, offset); // (B, H, N, M)
  }

  /** phi = exp(w . x' - |x'|^2 / 2 - c) + eps as (base, eps), so that the non-causal path folds eps in. */
  protected override splitFeatures(x: Tensor, which: 'q' | 'k'): { base: Tensor; offset: number } {
    const normalizer = this.headDim ** -0.25;
    // Fold Dh^-1/4 into the (M, Dh) projection (small) instead of scaling the (N, Dh) input.
    const proj = mul(this.proj.dtype === x.dtype ? this.proj : this.proj.to(x.dtype), normalizer);
    const dash = matmul(x, proj.transpose(0, 1)); // (B, H, N, M): w_m . x'
    const diag = mul(sum(square(x), -1, true), 0.5 * normalizer * normalizer); // (B, H, N, 1): |x'|^2 / 2
    let shift: Tensor = diag;
    if (which === 'q') shift = add(diag, amax(dash, -1, true)); // (B, H, N, 1)
    else if (!this.causalMode) shift = add(diag, amax(dash, [-2, -1], true)); // (B, H, N, 1)
    // M^-1/2 multiplies numerator and denominator alike (eps included), so it cancels and is not applied.
    return { base: exp(sub(dash, shift)), offset: this.eps }; // (B, H, N, M)
  }

  protected override combine(num: Tensor, den: Tensor | null): Tensor {
    // den > 0 unless every key is padded; those rows return 0 instead of 0 / 0. The choice is made on the (Nq, 1)
    // reciprocal, so the (Nq, Dh) numerator takes one per-row multiply and no select.
    const ok = gt(den!, 0); // (B, H, Nq, 1)
    const inv = where(ok, reciprocal(where(ok, den!, 1)), 0); // (B, H, Nq, 1): 1 / den, or 0 for a row without keys
    return mul(num, inv); // (B, H, Nq, Dh)
  }

  protected override extraRepr(): string {
    return `headDim=${this.headDim}, numFeatures=${this.numFeatures}, orthogonal=${this.orthogonal}, redrawInterval=${this.redrawInterval}, causalForm=${this.causalForm}`;
  }
}
