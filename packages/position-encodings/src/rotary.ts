/**
 * Applying rotary position embeddings (Su et al. 2021, "RoFormer: Enhanced Transformer with Rotary Position
 * Embedding", eq. 34): each pair of features (a, b) of a query or key at position m is rotated by the angle
 * m * theta_i, so <R_m q, R_n k> depends on m - n only. Two conventions choose which features form a pair:
 *
 * - `'interleaved'` (RoFormer, GPT-J, Meta's original LLaMA code): pairs (x[2i], x[2i + 1]).
 * - `'rotate-half'` (GPT-NeoX, HF LLaMA/Mistral/Qwen): pairs (x[i], x[i + d/2]).
 *
 * They are the same rotation up to a fixed permutation P of the features, P x = [x0, x2, x4, ..., x1, x3, ...]:
 * interleaved(x) = P^-1 rotateHalf(P x). This is why HF permutes the q and k projection rows when it converts Meta's
 * LLaMA checkpoints.
 */
import { cat, stack, type Tensor } from '@formers/tensor-core';

export type RotaryLayout = 'interleaved' | 'rotate-half';

/** (x1, x2) -> (-x2, x1) over the two halves of the last dim (GPT-NeoX's rotate_half). */
export function rotateHalf(x: Tensor): Tensor {
  const last = x.ndim - 1;
  const half = x.shape[last] / 2;
  return cat([x.narrow(last, half, half).neg(), x.narrow(last, 0, half)], last); // (..., d)
}

/** (x[2i], x[2i+1]) -> (-x[2i+1], x[2i]) (GPT-J's rotate_every_two). */
export function rotateInterleaved(x: Tensor): Tensor {
  const last = x.ndim - 1;
  const pairs = x.unflatten(last, [x.shape[last] / 2, 2]); // (..., d/2, 2)
  const even = pairs.select(last + 1, 0); // (..., d/2)
  const odd = pairs.select(last + 1, 1); // (..., d/2)
  return stack([odd.neg(), even], last + 1).flatten(last); // (..., d)
}

/**
 * Rotate the first `cos.shape[-1]` features of x (..., T, Dh) by the tables cos, sin (T, Drot), which must already
 * be laid out for `layout` (angles repeated as [a | a] for rotate-half, [a0, a0, a1, a1, ...] for interleaved, as
 * `RotaryEmbedding.cosSin` returns them). The remaining Dh - Drot features pass through (partial rotary, GPT-NeoX).
 */
export function applyRotary(x: Tensor, cos: Tensor, sin: Tensor, opts: { layout?: RotaryLayout } = {}): Tensor {
  const op = 'applyRotary';
  const layout = opts.layout ?? 'rotate-half';
  if (layout !== 'rotate-half' && layout !== 'interleaved') {
    throw new Error(`${op}: expected opts.layout 'rotate-half' or 'interleaved'; got ${JSON.stringify(layout)}`);
  }
  if (x.ndim < 2) throw new Error(`${op}: expected x of shape (..., T, Dh); got [${x.shape.join(', ')}]`);
  const last = x.ndim - 1;
  const [t, dh] = [x.shape[last - 1], x.shape[last]];
  if (cos.ndim !== 2 || sin.ndim !== 2 || cos.shape[0] !== t || sin.shape[0] !== t || cos.shape[1] !== sin.shape[1]) {
    throw new Error(`${op}: expected cos and sin of shape (T=${t}, Drot); got cos [${cos.shape.join(', ')}], sin [${sin.shape.join(', ')}]`);
  }
  const drot = cos.shape[1];
  if (drot % 2 !== 0 || drot > dh) {
    throw new Error(`${op}: expected the rotary dim (cos.shape[1] = ${drot}) to be even and <= x.shape[-1] (=${dh})`);
  }
  const xRot = drot === dh ? x : x.narrow(last, 0, drot); // (..., T, Drot)
  const rotated = layout === 'rotate-half' ? rotateHalf(xRot) : rotateInterleaved(xRot);
  const out = xRot.mul(cos).add(rotated.mul(sin)); // (..., T, Drot)
  return drot === dh ? out : cat([out, x.narrow(last, drot, dh - drot)], last); // (..., T, Dh)
}
