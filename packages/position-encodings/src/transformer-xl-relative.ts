/**
 * The relative position encoding of Transformer-XL (Dai et al. 2019, "Transformer-XL: Attentive Language Models
 * Beyond a Fixed-Length Context", sec. 3.3), also used by XLNet (Yang et al. 2019). For query i (absolute position
 * mlen + i, with mlen = Tk - Tq memory tokens before the segment) and key j:
 *
 *   A_ij = (q_i + u) . k_j  +  (q_i + v) . W_r R_{mlen + i - j}          (terms (a) + (c), then (b) + (d))
 *
 * with R the sinusoidal table in the [sin | cos] layout, W_r a learned projection (`r_net`, no bias), and u, v
 * learned global biases per head (`r_w_bias`, `r_r_bias`, HF TransfoXL's names). The second term is computed for
 * every distance once, (B, H, Tq, L), and moved onto the (i, j) grid with the relative-shift trick (`relShift`),
 * which costs a reshape instead of a gather. We encode distances Tk down to -Tq + 1, as XLNet does, so the result
 * is right on the whole grid; Transformer-XL's causal model then masks j > mlen + i.
 *
 * With `{ gridSize }` the same module scores an image's patch grid with a 2-D R (see `positionScores2d`).
 */
import { Linear, matmul, Module, tensor, zeros, init, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { checkGridTokens, gatherRelativeScores, gridRelativeIndex, resolveGridOptions, type GridOptions } from './grid-2d.js';
import { checkInt, checkPositive } from './validate.js';

export interface TransformerXLRelativePositionOptions extends FactoryOptions {
  /** Model dim D (the width of the sinusoidal table R). */
  readonly dModel: number;
  readonly numHeads: number;
  readonly headDim: number;
  /** Frequency base of R (default 10000). */
  readonly base?: number;
}

/**
 * The relative shift: x (..., Tq, L) whose column c holds distance Tk - c, L = Tk + Tq, to (..., Tq, Tk) whose
 * entry (i, j) holds distance (Tk - Tq) + i - j. Reading the buffer as (L, Tq), dropping the first row and reading
 * it back as (Tq, L - 1) shifts row i left by Tq - i.
 */
export function relShift(x: Tensor, keyLength: number): Tensor {
  const last = x.ndim - 1;
  const [tq, l] = [x.shape[last - 1], x.shape[last]];
  if (l !== keyLength + tq) throw new Error(`relShift: expected x.shape[-1] = Tk + Tq (=${keyLength} + ${tq}); got ${l}`);
  const lead = x.shape.slice(0, last - 1);
  const swapped = x.contiguous().reshape([...lead, l, tq]); // (..., L, Tq): same buffer, other reading
  const dropped = swapped.narrow(last - 1, 1, l - 1).contiguous(); // (..., L - 1, Tq)
  return dropped.reshape([...lead, tq, l - 1]).narrow(last, 0, keyLength); // (..., Tq, Tk)
}

export class TransformerXLRelativePosition extends Module {
  readonly dModel: number;
  readonly numHeads: number;
  readonly headDim: number;
  readonly base: number;
  /** u (H, Dh): the global content bias. */
  readonly rWBias: Tensor;
  /** v (H, Dh): the global position bias. */
  readonly rRBias: Tensor;
  /** W_r: R (L, D) -> (L, H Dh). */
  readonly rNet: Linear;

  constructor(opts: TransformerXLRelativePositionOptions) {
    super();
    const op = 'TransformerXLRelativePosition';
    this.dModel = checkInt(op, 'opts.dModel', opts?.dModel);
    if (this.dModel % 2 !== 0) throw new Error(`${op}: expected an even opts.dModel (sin and cos halves); got ${this.dModel}`);
    this.numHeads = checkInt(op, 'opts.numHeads', opts.numHeads);
    this.headDim = checkInt(op, 'opts.headDim', opts.headDim);
    this.base = checkPositive(op, 'opts.base', opts.base ?? 10000);
    const t = { dtype: opts.dtype, backend: opts.backend };
    this.rWBias = this.registerParameter('r_w_bias', zeros([this.numHeads, this.headDim], t));
    this.rRBias = this.registerParameter('r_r_bias', zeros([this.numHeads, this.headDim], t));
    // HF TransfoXL initialises both biases with N(0, 0.02^2).
    init.normal_(this.rWBias, { std: 0.02, generator: opts.generator });
    init.normal_(this.rRBias, { std: 0.02, generator: opts.generator });
    this.rNet = this.registerModule('r_net', new Linear(this.dModel, this.numHeads * this.headDim, { ...t, bias: false, generator: opts.generator }));
  }

  /** R for distances Tk, Tk - 1, ..., -Tq + 1: (Tk + Tq, D), [sin | cos] (Transformer-XL's PositionalEmbedding). */
  relativeTable(queryLength: number, keyLength: number): Tensor {
    const distances = Array.from({ length: keyLength + queryLength }, (_, c) => keyLength - c);
    return this.sinusoid(distances, this.dModel); // (L, D)
  }

  /**
   * Attention logits A (B, H, Tq, Tk), unscaled and unmasked, for q (B, H, Tq, Dh) and k (B, H, Tk, Dh). With
   * `opts.gridSize` the tokens are P prefix tokens and an H x W patch grid (Tq = Tk = P + H W) and R is 2-D, see
   * `positionScores2d`.
   */
  forward(q: Tensor, k: Tensor, opts?: GridOptions): Tensor {
    const op = 'TransformerXLRelativePosition';
    const [h, dh] = [this.numHeads, this.headDim];
    if (q.ndim !== 4 || k.ndim !== 4 || q.shape[1] !== h || k.shape[1] !== h || q.shape[3] !== dh || k.shape[3] !== dh || q.shape[0] !== k.shape[0]) {
      throw new Error(`${op}: expected q (B, H = ${h}, Tq, Dh = ${dh}) and k (B, H = ${h}, Tk, Dh = ${dh}); got q [${q.shape.join(', ')}], k [${k.shape.join(', ')}]`);
    }
    const [tq, tk] = [q.shape[2], k.shape[2]];
    if (opts === undefined && tq > tk) throw new Error(`${op}: expected Tq <= Tk (keys are memory + the segment); got Tq ${tq}, Tk ${tk}`);
    const u = this.rWBias.reshape([h, 1, dh]); // (H, 1, Dh)
    const v = this.rRBias.reshape([h, 1, dh]); // (H, 1, Dh)
    const content = matmul(q.add(u), k.transpose(2, 3)); // (B, H, Tq, Tk): terms (a) + (c)
    if (opts !== undefined) return content.add(this.positionScores2d(q.add(v), tk, opts));
    const r = this.rNet.call(this.relativeTable(tq, tk)); // (L, H Dh)
    const rHeads = r.reshape([tk + tq, h, dh]).permute([1, 2, 0]); // (H, Dh, L)
    const position = relShift(matmul(q.add(v), rHeads), tk); // (B, H, Tq, L) -> (B, H, Tq, Tk): terms (b) + (d)
    return content.add(position);
  }

  /**
   * Terms (b) + (d) on a patch grid: R_{dy, dx} = [R_x(dx) | R_y(dy)], each a [sin | cos] table of width D/2 (the
   * channel split of sinCos2dPositionEncoding, MAE), so W_r R = W_r[:, :D/2] R_x(dx) + W_r[:, D/2:] R_y(dy) is a
   * column term plus a row term (iRPE's per-direction "cross" method, Wu et al. 2021). Each is computed for every
   * offset once and gathered onto the grid (the 1-D shift trick needs a Toeplitz layout a 2-D grid does not have).
   * Pairs with a prefix token get no position term; the parameters are the 1-D ones, so one checkpoint serves both.
   */
  private positionScores2d(qv: Tensor, keyLength: number, opts: GridOptions): Tensor {
    const op = 'TransformerXLRelativePosition';
    if (this.dModel % 4 !== 0) throw new Error(`${op}: expected opts.dModel divisible by 4 in 2-D (sin and cos of two axes); got ${this.dModel}`);
    const g = resolveGridOptions(op, opts);
    checkGridTokens(op, 'q.shape[2]', qv.shape[2], g);
    checkGridTokens(op, 'k.shape[2]', keyLength, g);
    const half = this.dModel / 2;
    const w = this.rNet.weight; // (H Dh, D)
    const axis = (length: number, start: number, pick: 'y' | 'x'): Tensor => {
      const offsets = Array.from({ length: 2 * length - 1 }, (_, c) => c - (length - 1)); // -(L-1) .. L-1
      const r = matmul(this.sinusoid(offsets, half), w.narrow(1, start, half).transpose(0, 1)); // (2L - 1, H Dh)
      const rHeads = r.reshape([2 * length - 1, this.numHeads, this.headDim]).permute([1, 2, 0]); // (H, Dh, 2L - 1)
      const index = gridRelativeIndex(g, (d) => d + length - 1, 2 * length - 1)[pick]; // (N, N)
      return gatherRelativeScores(matmul(qv, rHeads), index, keyLength); // (B, H, N, 2L - 1) -> (B, H, N, N)
    };
    return axis(g.w, 0, 'x').add(axis(g.h, half, 'y'));
  }

  /** [sin | cos] rows (distances.length, width) at frequencies base^(-2f / width), in the weight's dtype. */
  private sinusoid(distances: readonly number[], width: number): Tensor {
    const half = width / 2;
    const out = new Float64Array(distances.length * width);
    distances.forEach((dist, c) => {
      for (let f = 0; f < half; f++) {
        const a = dist / this.base ** ((2 * f) / width);
        out[c * width + f] = Math.sin(a);
        out[c * width + half + f] = Math.cos(a);
      }
    });
    const w = this.rNet.weight;
    return tensor(w.dtype === 'float64' ? out : Float32Array.from(out), { shape: [distances.length, width], dtype: w.dtype, backend: w.backend }); // (L, width)
  }
}
