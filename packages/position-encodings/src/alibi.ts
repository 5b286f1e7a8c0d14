/**
 * ALiBi, Attention with Linear Biases (Press, Smith and Lewis 2022, "Train Short, Test Long: Attention with Linear
 * Biases Enables Input Length Extrapolation", ICLR 2022).
 *
 * No position is added to the tokens. Instead head h adds -m_h * |i - j| to the attention logit of query i and
 * key j, with a fixed geometric slope schedule: for n heads (a power of two) m_h = 2^(-8h/n), h = 1..n. For other
 * head counts the paper takes the 2^floor(log2 n) schedule and fills the remaining heads with every other slope of
 * the schedule for twice as many heads.
 *
 * Causal models use the lower triangle, where -m (i - j) equals our -m |i - j|. BLOOM and HF add m * j instead,
 * which differs from -m (i - j) by m * i, a constant per query row, so after softmax both give the same weights.
 */
import { tensor, Module, type Tensor, type TensorOptions } from '@formers/tensor-core';
import { checkInt } from './validate.js';

function powerOfTwoSlopes(n: number): number[] {
  // start = 2^(-8/n); slopes start^1 .. start^n.
  const start = 2 ** (-8 / n);
  return Array.from({ length: n }, (_, i) => start ** (i + 1));
}

/** The ALiBi slope of every head (length numHeads), largest first. */
export function alibiSlopes(numHeads: number): number[] {
  checkInt('alibiSlopes', 'numHeads', numHeads);
  const closest = 2 ** Math.floor(Math.log2(numHeads));
  if (closest === numHeads) return powerOfTwoSlopes(numHeads);
  const extra = alibiSlopes(2 * closest).filter((_, i) => i % 2 === 0).slice(0, numHeads - closest);
  return [...powerOfTwoSlopes(closest), ...extra];
}

export interface AlibiBiasOptions extends Pick<TensorOptions, 'backend' | 'dtype'> {
  /** Position of the first query; keys start at 0 (default keyLength - queryLength, the decoding convention). */
  readonly queryOffset?: number;
}

/** The bias (1, H, Tq, Tk) with entry [0, h, i, j] = -m_h * |j - (queryOffset + i)|. */
export function alibiBias(numHeads: number, queryLength: number, keyLength: number, opts: AlibiBiasOptions = {}): Tensor {
  const op = 'alibiBias';
  checkInt(op, 'numHeads', numHeads);
  checkInt(op, 'queryLength', queryLength);
  checkInt(op, 'keyLength', keyLength);
  const offset = opts.queryOffset ?? keyLength - queryLength;
  if (!Number.isInteger(offset)) throw new Error(`${op}: expected opts.queryOffset to be an integer; got ${offset}`);
  const slopes = alibiSlopes(numHeads);
  const out = new Float64Array(numHeads * queryLength * keyLength);
  let k = 0;
  for (let h = 0; h < numHeads; h++) {
    for (let i = 0; i < queryLength; i++) {
      for (let j = 0; j < keyLength; j++) out[k++] = -slopes[h] * Math.abs(j - (offset + i));
    }
  }
  const dtype = opts.dtype ?? 'float32';
  const data = dtype === 'float64' ? out : Float32Array.from(out);
  return tensor(data, { shape: [1, numHeads, queryLength, keyLength], dtype, backend: opts.backend }); // (1, H, Tq, Tk)
}

export interface ALiBiOptions {
  readonly numHeads: number;
}

/**
 * ALiBi as a module: `forward(queryLength, keyLength, { queryOffset })` returns the bias (1, H, Tq, Tk) to add to
 * the attention logits. It has no parameters (the slopes are fixed by the paper); `slopes` is a non-persistent
 * buffer (H), so state dicts stay empty as in PyTorch ports.
 */
export class ALiBi extends Module {
  readonly numHeads: number;
  readonly slopes: Tensor;

  constructor(opts: ALiBiOptions) {
    super();
    this.numHeads = checkInt('ALiBi', 'opts.numHeads', opts?.numHeads);
    this.slopes = this.registerBuffer('slopes', tensor(alibiSlopes(this.numHeads)), { persistent: false }); // (H)
  }

  forward(queryLength: number, keyLength: number, opts: AlibiBiasOptions = {}): Tensor {
    return alibiBias(this.numHeads, queryLength, keyLength, { backend: this.slopes.backend, ...opts });
  }
}
