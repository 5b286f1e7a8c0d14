/**
 * Complex-valued word embeddings that encode order (Wang, Zhao, Lioma, Li, Zhang and Simonsen 2020, "Encoding
 * Word Order in Complex Embeddings", ICLR 2020, eq. 5): word w at position pos is, per dimension j,
 *
 *   f(w, pos)_j = r_{w,j} * exp(i * (omega_{w,j} * pos + theta_{w,j}))
 *
 * with trainable amplitude r, frequency omega and initial phase theta per word and dimension. Shifting the position
 * by d multiplies every dimension by exp(i omega d), a transformation that does not depend on pos (the paper's
 * "position-free offset" property), and |f| = |r| does not depend on pos at all.
 *
 * The result is a `ComplexTensor` (real and imaginary parts as real tensors, so it trains on every backend).
 * `toReal` is the adapter to a real-valued transformer: [Re | Im] concatenated (B, T, 2D), optionally projected
 * back to D by a Linear (`proj`), the paper's real-valued variant.
 *
 * Init (the paper leaves it open): amplitude N(0, 1) as nn.Embedding, frequency the sinusoidal schedule
 * base^(-2 floor(j/2) / D) for every word (so a fresh layer orders tokens like Vaswani et al.'s table), phase 0.
 * Names: `amplitude.weight`, `frequency.weight`, `phase.weight` (vocab, D), `proj.weight`, `proj.bias`.
 *
 * On an H x W patch grid (`{ gridSize, numPrefixTokens }`), the same parameters give the 2-D form: dimensions
 * j < D/2 take the patch's column and the last D/2 its row, as MAE's 2-D sin-cos table (He et al. 2022) and
 * axial 2-D RoPE (Heo et al. 2024) split them; prefix tokens (class) get no position. See grid-2d.ts.
 */
import { cat, complex, Embedding, Linear, Module, noGrad, tensor, type ComplexTensor, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { checkEvenChannels, gridCoordinates, resolvePlacement, type PlacementOptions } from './grid-2d.js';
import { checkInt } from './validate.js';

export interface ComplexOrderEmbeddingOptions extends FactoryOptions {
  /** Vocabulary size. */
  readonly numEmbeddings: number;
  /** Complex dim D. */
  readonly dim: number;
  /** Add the real adapter `proj`: Linear(2D, projectTo) (default none: toReal returns [Re | Im]). */
  readonly projectTo?: number;
  /** Base of the initial frequency schedule (default 10000). */
  readonly base?: number;
}

export class ComplexOrderEmbedding extends Module {
  readonly numEmbeddings: number;
  readonly dim: number;
  readonly amplitude: Embedding;
  readonly frequency: Embedding;
  readonly phase: Embedding;
  readonly proj: Linear | null;

  constructor(opts: ComplexOrderEmbeddingOptions) {
    super();
    const op = 'ComplexOrderEmbedding';
    this.numEmbeddings = checkInt(op, 'opts.numEmbeddings', opts?.numEmbeddings);
    this.dim = checkInt(op, 'opts.dim', opts.dim);
    const f = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    this.amplitude = this.registerModule('amplitude', new Embedding(this.numEmbeddings, this.dim, f));
    this.frequency = this.registerModule('frequency', new Embedding(this.numEmbeddings, this.dim, f));
    this.phase = this.registerModule('phase', new Embedding(this.numEmbeddings, this.dim, f));
    const base = opts.base ?? 10000;
    const freq = new Float64Array(this.numEmbeddings * this.dim);
    for (let w = 0; w < this.numEmbeddings; w++) {
      for (let j = 0; j < this.dim; j++) freq[w * this.dim + j] = base ** (-(2 * Math.floor(j / 2)) / this.dim);
    }
    const like = this.frequency.weight;
    noGrad(() => {
      this.frequency.weight.copy_(tensor(like.dtype === 'float64' ? freq : Float32Array.from(freq), { shape: like.shape, dtype: like.dtype, backend: like.backend }));
      this.phase.weight.zero_();
    });
    this.proj = opts.projectTo === undefined ? null : this.registerModule('proj', new Linear(2 * this.dim, checkInt(op, 'opts.projectTo', opts.projectTo), f));
  }

  /**
   * ids (..., T) int32 at positions offset .. offset + T - 1 -> complex (..., T, D). With `opts.gridSize`, ids
   * (..., P + H W) are P prefix tokens and an H x W patch grid: dimensions j < D/2 take the patch's column as pos,
   * j >= D/2 its row (the channel split of sinCos2dPositionEncoding), and prefix tokens pos 0, i.e. no phase
   * rotation (r e^{i theta}; note this is also patch (0, 0)'s phase).
   */
  forward(ids: Tensor, opts: PlacementOptions = {}): ComplexTensor {
    const op = 'ComplexOrderEmbedding';
    if (ids.dtype !== 'int32' || ids.ndim < 1) throw new Error(`${op}: expected ids to be an int32 tensor (..., T); got ${ids.dtype} [${ids.shape.join(', ')}]`);
    const t = ids.shape[ids.ndim - 1];
    const r = this.amplitude.call(ids); // (..., T, D)
    const omega = this.frequency.call(ids); // (..., T, D)
    const theta = this.phase.call(ids); // (..., T, D)
    const angle = omega.mul(this.positionsFor(op, t, opts)).add(theta); // (..., T, D)
    return complex(r.mul(angle.cos()), r.mul(angle.sin()));
  }

  /** pos per token and dimension: (T, 1) in 1-D, (P + H W, D) on a grid. */
  private positionsFor(op: string, t: number, opts: PlacementOptions): Tensor {
    const w = this.frequency.weight;
    const make = (pos: Float64Array, shape: number[]) =>
      tensor(w.dtype === 'float64' ? pos : Float32Array.from(pos), { shape, dtype: w.dtype, backend: w.backend });
    const at = resolvePlacement(op, opts, t, 'ids.shape[-1]');
    if ('offset' in at) return make(Float64Array.from({ length: t }, (_, i) => at.offset + i), [t, 1]); // (T, 1)
    const g = at.grid;
    checkEvenChannels(op, 'dim', this.dim);
    const { rows, cols } = gridCoordinates(g.h, g.w);
    const half = this.dim / 2;
    const pos = new Float64Array(g.n * this.dim); // prefix rows stay 0
    for (let a = 0; a < rows.length; a++) {
      for (let j = 0; j < this.dim; j++) pos[(g.prefix + a) * this.dim + j] = j < half ? cols[a] : rows[a];
    }
    return make(pos, [g.n, this.dim]); // (N, D)
  }

  /** The adapter to a real-valued model: [Re | Im] (..., T, 2D), or proj of it (..., T, projectTo). */
  toReal(z: ComplexTensor): Tensor {
    const last = z.re.ndim - 1;
    const both = cat([z.re, z.im], last); // (..., T, 2D)
    return this.proj ? this.proj.call(both) : both;
  }
}
