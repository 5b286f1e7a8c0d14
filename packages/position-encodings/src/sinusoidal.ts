/**
 * Sinusoidal absolute position encodings (Vaswani et al. 2017, "Attention Is All You Need", section 3.5).
 *
 * Frequencies w_i = base^(-2i/D), i = 0 .. D/2 - 1 (base 10000 in the paper). Two layouts are in use:
 * - `'interleaved'` (the paper's equation): PE[p, 2i] = sin(p w_i), PE[p, 2i + 1] = cos(p w_i).
 *   PyTorch tutorials, the Annotated Transformer and HF's RoFormer sinusoidal table use this layout.
 * - `'concat'`: PE[p, i] = sin(p w_i), PE[p, D/2 + i] = cos(p w_i), i.e. [sin | cos]. tensor2tensor,
 *   Transformer-XL and MAE's 1-D table use this layout.
 * The two hold the same numbers; `concat` is `interleaved` with the columns permuted (evens first, then odds).
 * Note fairseq's SinusoidalPositionalEmbedding uses [sin | cos] with w_i = base^(-i/(D/2 - 1)), a slightly different
 * frequency set that is not offered here.
 *
 * Because sin/cos of p + k are a rotation of sin/cos of p by k w_i, PE(p + k) is a fixed linear map of PE(p), which
 * is the property the paper cites for learning relative attention.
 */
import { Dropout, Module, type Tensor } from '@formers/tensor-core';
import { tableTensor, type TableOptions } from './host-tensor.js';
import { checkInt, checkOneOf, checkPositive } from './validate.js';

export type SinusoidalLayout = 'interleaved' | 'concat';
const LAYOUTS: readonly SinusoidalLayout[] = ['interleaved', 'concat'];

export interface SinusoidalOptions {
  /** Column layout, see the file comment (default 'interleaved', the paper's equation). */
  readonly layout?: SinusoidalLayout;
  /** Frequency base (default 10000). */
  readonly base?: number;
}

/** The table (numPositions, dim) in float64 on the host, for positions 0 .. numPositions - 1. */
export function sinusoidalTableHost(numPositions: number, dim: number, opts: SinusoidalOptions = {}): Float64Array {
  const op = 'sinusoidalPositionEncoding';
  checkInt(op, 'numPositions', numPositions, 0);
  checkInt(op, 'dim', dim);
  if (dim % 2 !== 0) throw new Error(`${op}: expected dim to be even (sin and cos pairs); got ${dim}`);
  const layout = checkOneOf(op, 'opts.layout', opts.layout ?? 'interleaved', LAYOUTS);
  const base = checkPositive(op, 'opts.base', opts.base ?? 10000);
  const half = dim / 2;
  const out = new Float64Array(numPositions * dim);
  for (let i = 0; i < half; i++) {
    const w = base ** (-(2 * i) / dim);
    const [si, ci] = layout === 'interleaved' ? [2 * i, 2 * i + 1] : [i, half + i];
    for (let p = 0; p < numPositions; p++) {
      out[p * dim + si] = Math.sin(p * w);
      out[p * dim + ci] = Math.cos(p * w);
    }
  }
  return out;
}

/** The sinusoidal table as a tensor (numPositions, dim), float32 unless `opts.dtype` says otherwise. */
export function sinusoidalPositionEncoding(
  numPositions: number,
  dim: number,
  opts: SinusoidalOptions & TableOptions = {},
): Tensor {
  return tableTensor('sinusoidalPositionEncoding', sinusoidalTableHost(numPositions, dim, opts), [numPositions, dim], opts); // (T, D)
}

export interface SinusoidalPositionalEncodingOptions extends SinusoidalOptions, TableOptions {
  readonly dim: number;
  /** Table length (default 5000, as the PyTorch tutorial's PositionalEncoding). */
  readonly maxLen?: number;
  /** Dropout on the sum (default 0; the paper uses 0.1). */
  readonly dropout?: number;
}

/**
 * Adds the sinusoidal table to token embeddings: (B, T, D) -> (B, T, D), x + PE[offset : offset + T], then dropout.
 * The table is a non-persistent buffer `pe` (it is a function of the options, so state dicts need not carry it).
 * No parameters; gradients flow to x.
 */
export class SinusoidalPositionalEncoding extends Module {
  readonly dim: number;
  readonly maxLen: number;
  readonly pe: Tensor;
  readonly dropout: Dropout;

  constructor(opts: SinusoidalPositionalEncodingOptions) {
    super();
    this.dim = checkInt('SinusoidalPositionalEncoding', 'opts.dim', opts?.dim);
    this.maxLen = checkInt('SinusoidalPositionalEncoding', 'opts.maxLen', opts.maxLen ?? 5000);
    this.pe = this.registerBuffer('pe', sinusoidalPositionEncoding(this.maxLen, this.dim, opts), { persistent: false }); // (maxLen, D)
    this.dropout = this.registerModule('dropout', new Dropout(opts.dropout ?? 0));
  }

  /** x (B, T, D) -> (B, T, D); positions start at `opts.offset` (default 0), e.g. the cache length when decoding. */
  forward(x: Tensor, opts: { offset?: number } = {}): Tensor {
    const op = 'SinusoidalPositionalEncoding';
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== this.dim) {
      throw new Error(`${op}: expected x of shape (..., T, ${this.dim}); got [${x.shape.join(', ')}]`);
    }
    const t = x.shape[x.ndim - 2];
    const offset = checkInt(op, 'opts.offset', opts.offset ?? 0, 0);
    if (offset + t > this.maxLen) {
      throw new Error(`${op}: expected offset + T (=${offset} + ${t}) <= maxLen (=${this.maxLen}); build the module with a larger maxLen`);
    }
    const pe = this.pe.narrow(0, offset, t).to(x.backend).to(x.dtype); // (T, D), on the input's backend and dtype
    return this.dropout.call(x.add(pe)); // (B, T, D)
  }
}
