/** Dropout (Srivastava et al. 2014) with inverted scaling, on a host-generated, seeded mask. */
import { rand } from '../creation.js';
import type { Generator } from '../random.js';
import type { Tensor } from '../tensor.js';
import { div, lt, mul, requireFloat } from './elementwise.js';

export interface DropoutOptions {
  /** Probability of zeroing an element; default 0.5. */
  readonly p?: number;
  /** Identity when false (evaluation); default true, as torch.nn.functional.dropout. */
  readonly training?: boolean;
  readonly generator?: Generator;
}

/** Zero each element with probability p and scale the rest by 1 / (1 - p), so the expectation is unchanged. */
export function dropout(x: Tensor, opts: DropoutOptions = {}): Tensor {
  const p = opts.p ?? 0.5;
  if (!(p >= 0 && p <= 1)) throw new Error(`dropout: expected p in [0, 1]; got ${p}`);
  requireFloat('dropout', x);
  if (!(opts.training ?? true) || p === 0) return x;
  if (p === 1) return mul(x, 0);
  const u = rand(x.shape, { dtype: x.dtype, backend: x.backend, generator: opts.generator });
  const keep = lt(u, 1 - p); // 1 with probability 1 - p
  return div(mul(x, keep), 1 - p);
}
