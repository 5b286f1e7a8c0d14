/**
 * The base of the kernelised attentions (linear attention, Performer, TransNormer's NormAttention): a subclass
 * supplies the feature map phi; this class handles masks, the causal forms, the q/k hook and incremental decoding
 * with an explicit state.
 */
import { Module, Tensor, add, div, matmul, mul, ne, ones, onesLike, reshape, sum } from '@formers/tensor-core';
import type { AttentionCallOptions, AttentionCore } from './attention-core.js';
import { linearKernel, linearKernelWithDenominator, type CausalForm } from './linear-kernel.js';
import { applyQK, checkInt, checkQKV, fmt } from './validate.js';

/** The recurrent state of a causal kernelised attention after `position` tokens. */
export interface KernelizedAttentionState {
  /** The class that made it and its feature configuration; `step()` rejects a state from another config. */
  readonly owner: string;
  /** Tokens consumed so far (the offset given to the q/k hook for the next token). */
  readonly position: number;
  /** sum_j phi(k_j) v_j^T (B, H, M, Dh). */
  readonly S: Tensor;
  /** sum_j phi(k_j) (B, H, M, 1); null for cores without a denominator (NormAttention). */
  readonly z: Tensor | null;
}

export interface KernelizedAttentionOptions {
  /** Causal computation form; default 'chunkwise'. */
  readonly causalForm?: CausalForm;
  /** Chunk length of the chunkwise form; default 64. Sequences are zero-padded to a multiple (documented). */
  readonly chunkSize?: number;
}

const FORMS: readonly CausalForm[] = ['parallel', 'chunkwise', 'recurrent'];

/** A (1, n) row of ones with x's dtype and backend (a constant: no gradient). */
function onesRow(n: number, x: Tensor): Tensor {
  return ones([1, n], { dtype: x.dtype, backend: x.backend }); // (1, n)
}

export abstract class KernelizedAttention extends Module implements AttentionCore {
  readonly causalForm: CausalForm;
  readonly chunkSize: number;

  constructor(op: string, opts: KernelizedAttentionOptions) {
    super();
    const form = opts.causalForm ?? 'chunkwise';
    if (!FORMS.includes(form)) throw new Error(`${op}: expected opts.causalForm 'parallel', 'chunkwise' or 'recurrent'; got ${JSON.stringify(form)}`);
    this.causalForm = form;
    this.chunkSize = checkInt(op, 'opts.chunkSize', opts.chunkSize ?? 64);
  }

  /** phi applied to q or k (B, H, N, Dh) -> (B, H, N, M). */
  protected abstract features(x: Tensor, which: 'q' | 'k'): Tensor;

  /**
   * phi as base + offset, with `offset` a constant, so that the non-causal products can fold the constant in
   * (phi(q) S = base_q S + offset 1 (1^T S), and likewise for the keys) instead of adding it to every (N, M)
   * feature: the same function, one elementwise pass over (N, M) fewer per side. Default: phi itself, offset 0.
   */
  protected splitFeatures(x: Tensor, which: 'q' | 'k'): { base: Tensor; offset: number } {
    return { base: this.features(x, which), offset: 0 };
  }

  /**
   * Where the q/k hook applies: 'features' rotates phi(q), phi(k) in the numerator only, keeping the denominator
   * positive (RoFormer, Su et al. 2021, sec. 3.4.3, eq. 19); 'inputs' transforms q and k before phi.
   */
  protected get qkHookOn(): 'features' | 'inputs' {
    return 'features';
  }

  /** Turn the numerator (B, H, Nq, Dh) and denominator (B, H, Nq, 1) into the output. */
  protected combine(num: Tensor, den: Tensor | null): Tensor {
    return den ? div(num, den) : num;
  }

  /** Whether this core has a denominator phi(q) . sum phi(k). */
  protected get hasDenominator(): boolean {
    return true;
  }

  /** A string naming the feature configuration, stored in states. */
  protected abstract get signature(): string;

  /** Hook run once per forward before features are computed (Performer's redraw). */
  protected beforeForward(): void {}

  forward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const op = this.className;
    checkQKV(op, q, k, v, opts);
    if (opts.bias) throw new Error(`${op}: opts.bias is not supported: an additive score bias needs the explicit score matrix (use a softmax-style core)`);
    this.beforeForward();
    return this.run(q, k, v, opts, null).out;
  }

  /**
   * Incremental decoding: consume T new tokens q, k, v (B, H, T, Dh) causally after `state` (none = the start)
   * and return their outputs (B, H, T, Dh) and the new state. Equal to the causal forward on the whole prefix.
   */
  step(q: Tensor, k: Tensor, v: Tensor, state: KernelizedAttentionState | null = null, opts: Pick<AttentionCallOptions, 'qkTransform'> = {}): { out: Tensor; state: KernelizedAttentionState } {
    const op = `${this.className}.step`;
    const d = checkQKV(op, q, k, v, opts);
    if (d.Nq !== d.Nk) throw new Error(`${op}: expected q, k and v with the same number of new tokens; got Nq = ${d.Nq}, Nk = ${d.Nk}`);
    if (state !== null) this.checkState(op, state, d.B, d.H, d.Dh);
    const r = this.run(q, k, v, { causal: true, qkTransform: opts.qkTransform, offset: state?.position ?? 0 }, state);
    return { out: r.out, state: { owner: this.stateOwner, position: (state?.position ?? 0) + d.Nq, S: r.S, z: r.z } };
  }

  private get stateOwner(): string {
    return `${this.className}(${this.signature})`;
  }

  private checkState(op: string, s: KernelizedAttentionState, B: number, H: number, Dh: number): void {
    if (s === null || typeof s !== 'object' || !(s.S instanceof Tensor)) throw new Error(`${op}: expected state from ${this.className}.step(); got ${String(s)}`);
    if (s.owner !== this.stateOwner) throw new Error(`${op}: expected a state from ${this.stateOwner}; got one from ${s.owner}`);
    if (s.S.shape[0] !== B || s.S.shape[1] !== H || s.S.shape[3] !== Dh) {
      throw new Error(`${op}: expected a state for (B, H, Dh) = (${B}, ${H}, ${Dh}); got S ${fmt(s.S.shape)}`);
    }
  }

  private run(q: Tensor, k: Tensor, v: Tensor, opts: AttentionCallOptions, state: KernelizedAttentionState | null): { out: Tensor; S: Tensor; z: Tensor | null } {
    if (this.qkHookOn === 'inputs') [q, k] = applyQK(q, k, opts);
    const ropeOnFeatures = this.qkHookOn === 'features' && opts.qkTransform !== undefined;
    if (this.hasDenominator && !ropeOnFeatures && !opts.causal && state === null) return this.nonCausal(q, k, v, opts.keyPaddingMask);
    let fq = this.features(q, 'q'); // (B, H, Nq, M)
    let fk = this.features(k, 'k'); // (B, H, Nk, M)
    if (opts.keyPaddingMask) {
      const [B, Nk] = opts.keyPaddingMask.shape;
      fk = mul(fk, reshape(ne(opts.keyPaddingMask, 0), [B, 1, Nk, 1])); // padded keys contribute nothing
    }
    const kopts = { causal: opts.causal ?? false, form: this.causalForm, chunkSize: this.chunkSize };
    if (!this.hasDenominator) {
      const [nq, nk] = ropeOnFeatures ? applyQK(fq, fk, opts) : [fq, fk];
      const r = linearKernel(nq, nk, v, { ...kopts, S0: state?.S ?? null });
      return { out: this.combine(r.out, null), S: r.state, z: null };
    }
    if (!ropeOnFeatures) {
      // Numerator and denominator in one pass over the features.
      const r = linearKernelWithDenominator(fq, fk, v, { ...kopts, S0: state?.S ?? null, z0: state?.z ?? null });
      return { out: this.combine(r.out, r.den), S: r.state, z: r.z };
    }
    const [nq, nk] = applyQK(fq, fk, opts); // rotated features, numerator only
    const rn = linearKernel(nq, nk, v, { ...kopts, S0: state?.S ?? null });
    const rd = linearKernel(fq, fk, onesLike(v.narrow(3, 0, 1)), { ...kopts, S0: state?.z ?? null });
    return { out: this.combine(rn.out, rd.out), S: rn.state, z: rd.state };
  }

  /**
   * Non-causal with a denominator: S = phi(k)^T v and z = sum_j phi(k_j), O(N M Dh), nothing appended to v. With
   * phi = base + c, S = base_k^T v + c (w^T v) and z^T = w^T base_k + c sum(w), where w is the key weight row (ones,
   * or the padding mask); then phi(q) S = base_q S + c 1^T S and phi(q) z = base_q z + c sum(z). The weighted sums
   * run as GEMMs with the (1, Nk) row (shared across (B, H) with stride 0, several times faster than the generic
   * reduction over the middle axis). S and z stay separate products: an (M, Dh + 1) [S | z] would leave a strided
   * numerator for the division, which costs more than the (Nq, 1) product it saves.
   */
  private nonCausal(q: Tensor, k: Tensor, v: Tensor, keyPaddingMask: Tensor | undefined): { out: Tensor; S: Tensor; z: Tensor } {
    const { base: bq, offset: cq } = this.splitFeatures(q, 'q'); // (B, H, Nq, M)
    const { base: bk0, offset: ck } = this.splitFeatures(k, 'k'); // (B, H, Nk, M)
    const [B, H, Nq] = q.shape;
    const Nk = k.shape[2];
    let w: Tensor = onesRow(Nk, bk0); // (1, Nk)
    let bk = bk0;
    if (keyPaddingMask) {
      const keep = ne(keyPaddingMask, 0).to(bk0.dtype); // (B, Nk)
      w = reshape(keep, [B, 1, 1, Nk]); // (B, 1, 1, Nk)
      bk = mul(bk0, reshape(keep, [B, 1, Nk, 1])); // padded keys contribute nothing
    }
    let S = matmul(bk.transpose(-2, -1), v); // (B, H, M, Dh)
    let zt = matmul(w, bk); // (B, H, 1, M)
    if (ck !== 0) {
      S = add(S, mul(matmul(w, v), ck)); // (B, H, M, Dh) + (B, H, 1, Dh)
      zt = add(zt, mul(sum(w, -1, true), ck)); // (B, H, 1, M) + (B?, 1, 1, 1)
    }
    const z = zt.transpose(-2, -1); // (B, H, M, 1)
    let num = matmul(bq, S); // (B, H, Nq, Dh)
    // The denominator as the row z^T base_q^T: a one-row GEMM is about twice as fast as the one-column one.
    let den = reshape(matmul(zt, bq.transpose(-2, -1)), [B, H, Nq, 1]); // (B, H, 1, Nq) -> (B, H, Nq, 1)
    if (cq !== 0) {
      num = add(num, mul(sum(S, -2, true), cq)); // (B, H, Nq, Dh) + (B, H, 1, Dh)
      den = add(den, mul(sum(zt, -1, true), cq)); // (B, H, Nq, 1) + (B, H, 1, 1)
    }
    return { out: this.combine(num, den), S, z };
  }
}

