/**
 * `RotaryEmbedding`: RoPE (Su et al. 2021, RoFormer) as a module, with cached cos/sin tables, position offsets for
 * incremental decoding, partial rotary dimensions (GPT-NeoX) and the HF context-extension scalings
 * (see rope-parameters.ts).
 *
 * Defaults follow HuggingFace's LLaMA/GPT-NeoX path, which is what most checkpoints a user loads expect:
 * base 10000, layout 'rotate-half', partialRotaryFactor 1. Use layout 'interleaved' for RoFormer, GPT-J and
 * Meta-format LLaMA weights.
 */
import { keep, Module, tensor, type BackendLike, type DType, type Tensor } from '@formers/tensor-core';
import { applyRotary, type RotaryLayout } from './rotary.js';
import { ropeParameters, type RopeScaling } from './rope-parameters.js';
import { checkInt, checkOneOf, checkPositive } from './validate.js';

export interface RotaryEmbeddingOptions {
  /** The head dim Dh of the queries and keys. */
  readonly dim: number;
  /** Frequency base theta (default 10000; LLaMA 3 uses 500000). */
  readonly base?: number;
  /** Which features form a rotation pair (default 'rotate-half'); see rotary.ts. */
  readonly layout?: RotaryLayout;
  /** Rotate only the first floor(dim * factor) features (default 1; GPT-NeoX uses 0.25). */
  readonly partialRotaryFactor?: number;
  /** Context extension (default none). */
  readonly scaling?: RopeScaling;
  /** Initial length of the cos/sin cache (default 2048); it grows on demand. */
  readonly maxPositionEmbeddings?: number;
  /** dtype of the cos/sin tables (default float32); inputs of another dtype get the tables converted. */
  readonly dtype?: DType;
  readonly backend?: BackendLike;
}

export interface RotaryPositionOptions {
  /** Position of the first token (default 0), e.g. the KV cache length when decoding. */
  readonly offset?: number;
  /** Explicit positions, one per token (overrides offset), e.g. for packed sequences. */
  readonly positions?: readonly number[];
}

const LAYOUTS: readonly RotaryLayout[] = ['rotate-half', 'interleaved'];

export class RotaryEmbedding extends Module {
  readonly dim: number;
  readonly rotaryDim: number;
  readonly base: number;
  readonly layout: RotaryLayout;
  readonly scaling: RopeScaling;
  readonly attentionScaling: number;
  /** Inverse frequencies (rotaryDim / 2): a non-persistent buffer `inv_freq`, as in HF. */
  readonly invFreq: Tensor;
  private readonly invFreqHost: Float64Array;
  private readonly dtype: DType;
  private cache: { length: number; cos: Tensor; sin: Tensor } | null = null;

  constructor(opts: RotaryEmbeddingOptions) {
    super();
    const op = 'RotaryEmbedding';
    this.dim = checkInt(op, 'opts.dim', opts?.dim);
    this.base = checkPositive(op, 'opts.base', opts.base ?? 10000);
    this.layout = checkOneOf(op, 'opts.layout', opts.layout ?? 'rotate-half', LAYOUTS);
    const factor = opts.partialRotaryFactor ?? 1;
    if (!(typeof factor === 'number' && factor > 0 && factor <= 1)) {
      throw new Error(`${op}: expected opts.partialRotaryFactor in (0, 1]; got ${String(factor)}`);
    }
    this.rotaryDim = Math.floor(this.dim * factor);
    if (this.rotaryDim < 2 || this.rotaryDim % 2 !== 0) {
      throw new Error(
        `${op}: expected an even rotary dim >= 2 (rotations act on pairs); got dim ${this.dim} * partialRotaryFactor ${factor} = ${this.rotaryDim}`,
      );
    }
    this.scaling = opts.scaling ?? { type: 'default' };
    this.dtype = opts.dtype ?? 'float32';
    if (this.dtype !== 'float32' && this.dtype !== 'float64') {
      throw new Error(`${op}: expected opts.dtype 'float32' or 'float64'; got ${JSON.stringify(this.dtype)}`);
    }
    const p = ropeParameters(this.rotaryDim, { base: this.base, scaling: this.scaling });
    this.invFreqHost = p.invFreq;
    this.attentionScaling = p.attentionScaling;
    this.invFreq = this.registerBuffer('inv_freq', tensor(p.invFreq, { dtype: this.dtype, backend: opts.backend }), {
      persistent: false,
    }); // (Drot/2)
    this.growCache(checkInt(op, 'opts.maxPositionEmbeddings', opts.maxPositionEmbeddings ?? 2048));
  }

  /** Host cos/sin rows for `positions` with `invFreq`, laid out for this module's layout. */
  private tables(positions: ArrayLike<number>, invFreq: Float64Array): { cos: Tensor; sin: Tensor } {
    const d = this.rotaryDim;
    const half = d / 2;
    const cos = new Float64Array(positions.length * d);
    const sin = new Float64Array(positions.length * d);
    for (let t = 0; t < positions.length; t++) {
      for (let i = 0; i < half; i++) {
        const angle = positions[t] * invFreq[i];
        const c = Math.cos(angle) * this.attentionScaling;
        const s = Math.sin(angle) * this.attentionScaling;
        const [a, b] = this.layout === 'rotate-half' ? [i, i + half] : [2 * i, 2 * i + 1];
        cos[t * d + a] = c;
        cos[t * d + b] = c;
        sin[t * d + a] = s;
        sin[t * d + b] = s;
      }
    }
    const make = (data: Float64Array) =>
      tensor(this.dtype === 'float64' ? data : Float32Array.from(data), {
        shape: [positions.length, d],
        dtype: this.dtype,
        backend: this.invFreq.backend,
      }); // (T, Drot)
    return { cos: make(cos), sin: make(sin) };
  }

  private growCache(length: number): void {
    const old = this.cache;
    const { cos, sin } = this.tables(Float64Array.from({ length }, (_, i) => i), this.invFreqHost);
    this.cache = { length, cos: keep(cos), sin: keep(sin) };
    old?.cos.dispose();
    old?.sin.dispose();
  }

  /**
   * The cos and sin tables (T, Drot) for `seqLen` tokens at positions offset .. offset + T - 1 (or `positions`),
   * already multiplied by `attentionScaling` and laid out for `layout`.
   */
  cosSin(seqLen: number, opts: RotaryPositionOptions = {}): { cos: Tensor; sin: Tensor } {
    const op = 'RotaryEmbedding.cosSin';
    checkInt(op, 'seqLen', seqLen);
    if (opts.positions !== undefined) {
      const pos = opts.positions;
      if (pos.length !== seqLen) throw new Error(`${op}: expected opts.positions to have length T (=${seqLen}); got ${pos.length}`);
      pos.forEach((p, i) => checkInt(op, `opts.positions[${i}]`, p, 0));
      return this.tables(pos, this.invFreqFor(Math.max(...pos) + 1));
    }
    const offset = checkInt(op, 'opts.offset', opts.offset ?? 0, 0);
    const end = offset + seqLen;
    if (this.scaling.type === 'dynamic' && end > this.scaling.maxPositionEmbeddings) {
      // Dynamic NTK: the base depends on the current length, so the cached table does not apply (HF recomputes too).
      return this.tables(Float64Array.from({ length: seqLen }, (_, i) => offset + i), this.invFreqFor(end));
    }
    if (end > this.cache!.length) this.growCache(Math.max(end, 2 * this.cache!.length));
    return { cos: this.cache!.cos.narrow(0, offset, seqLen), sin: this.cache!.sin.narrow(0, offset, seqLen) }; // (T, Drot)
  }

  private invFreqFor(seqLen: number): Float64Array {
    if (this.scaling.type !== 'dynamic') return this.invFreqHost;
    return ropeParameters(this.rotaryDim, { base: this.base, scaling: this.scaling, seqLen }).invFreq;
  }

  /** Rotate one tensor x (..., T, Dh): the q/k transform attention modules accept. */
  rotate(x: Tensor, opts: RotaryPositionOptions = {}): Tensor {
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== this.dim) {
      throw new Error(`RotaryEmbedding: expected x of shape (..., T, ${this.dim}); got [${x.shape.join(', ')}]`);
    }
    const { cos, sin } = this.cosSin(x.shape[x.ndim - 2], opts);
    // The tables follow the input (backend, then dtype), like a buffer moved with the activations.
    return applyRotary(x, cos.to(x.backend).to(x.dtype), sin.to(x.backend).to(x.dtype), { layout: this.layout });
  }

  /**
   * The q/k transform attention cores accept (attention-linear's structural `QKTransform`,
   * `(q, k, { offset }) => [q, k]`), bound to this module so it can be passed as a plain function.
   */
  readonly qkTransform = (q: Tensor, k: Tensor, opts: { offset?: number } = {}): [Tensor, Tensor] => this.forward(q, k, opts);

  /** Rotate queries and keys (..., T, Dh) at the same positions; returns [q, k]. */
  forward(q: Tensor, k: Tensor, opts: RotaryPositionOptions = {}): [Tensor, Tensor] {
    return [this.rotate(q, opts), this.rotate(k, opts)];
  }
}
