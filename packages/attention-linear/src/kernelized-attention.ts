/**
 * The base of the kernelised attentions (linear attention, Performer, TransNormer's NormAttention): a subclass
 * supplies the feature map phi; this class handles masks, the causal forms, the q/k hook and incremental decoding
 * with an explicit state.
 */
import { Module, Tensor, cat, div, matmul, mul, ne, onesLike, reshape, sum } from '@formers/tensor-core';
import type { AttentionCallOptions, AttentionCore } from './attention-core.js';
import { linearKernel, type CausalForm } from './linear-kernel.js';
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
    let fq = this.features(q, 'q'); // (B, H, Nq, M)
    let fk = this.features(k, 'k'); // (B, H, Nk, M)
    if (opts.keyPaddingMask) {
      const [B, Nk] = opts.keyPaddingMask.shape;
      fk = mul(fk, reshape(ne(opts.keyPaddingMask, 0), [B, 1, Nk, 1])); // padded keys contribute nothing
    }
    const kopts = { causal: opts.causal ?? false, form: this.causalForm, chunkSize: this.chunkSize };
    const ropeOnFeatures = this.qkHookOn === 'features' && opts.qkTransform !== undefined;
    if (!this.hasDenominator) {
      const [nq, nk] = ropeOnFeatures ? applyQK(fq, fk, opts) : [fq, fk];
      const r = linearKernel(nq, nk, v, { ...kopts, S0: state?.S ?? null });
      return { out: this.combine(r.out, null), S: r.state, z: null };
    }
    if (!ropeOnFeatures && !kopts.causal && state === null) {
      // Non-causal: S = fk^T v and z = sum fk, O(N M Dh) with no extra column copied into v.
      const S = matmul(fk.transpose(-2, -1), v); // (B, H, M, Dh)
      const z = sum(fk, 2, true).transpose(-2, -1); // (B, H, M, 1)
      return { out: this.combine(matmul(fq, S), matmul(fq, z)), S, z };
    }
    if (!ropeOnFeatures) {
      // Numerator and denominator in one pass: append a column of ones to v, (fq fk^T) 1 = fq . sum fk.
      const Dh = v.shape[3];
      const v1 = cat([v, onesLike(v.narrow(3, 0, 1))], 3); // (B, H, Nk, Dh + 1)
      const S0 = state ? cat([state.S, state.z!], 3) : null; // (B, H, M, Dh + 1)
      const r = linearKernel(fq, fk, v1, { ...kopts, S0 });
      const num = r.out.narrow(3, 0, Dh); // (B, H, Nq, Dh)
      const den = r.out.narrow(3, Dh, 1); // (B, H, Nq, 1)
      return { out: this.combine(num, den), S: r.state.narrow(3, 0, Dh), z: r.state.narrow(3, Dh, 1) };
    }
    const [nq, nk] = applyQK(fq, fk, opts); // rotated features, numerator only
    const rn = linearKernel(nq, nk, v, { ...kopts, S0: state?.S ?? null });
    const rd = linearKernel(fq, fk, onesLike(v.narrow(3, 0, 1)), { ...kopts, S0: state?.z ?? null });
    return { out: this.combine(rn.out, rd.out), S: rn.state, z: rd.state };
  }
}

