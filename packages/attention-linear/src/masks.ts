/**
 * The allowed-pairs mask shared by the softmax-style cores: causal (bottom-right aligned, so that with a cache of
 * Nk - Nq earlier keys query i sees keys j <= i + Nk - Nq) and key padding.
 */
import { Tensor, arange, ge, mul, reshape, ne } from '@formers/tensor-core';
import type { AttentionCallOptions } from './attention-core.js';

/** A large finite negative score: exp of it underflows to exactly 0 in float32 and float64, without inf - inf. */
export const MASKED_SCORE = -1e30;
/** Scores at or below this count as masked when deciding whether a query row has any key at all. */
export const MASKED_THRESHOLD = -1e29;

/**
 * Allowed (query, key) pairs as a 0/1 tensor broadcastable to (B, 1, Nq, Nk), or null when everything is allowed.
 * `keyStart`/`queryStart` select a block of a longer sequence (chunked and block-sparse forms).
 */
export function allowedMask(
  opts: AttentionCallOptions,
  like: Tensor,
  d: { B: number; Nq: number; Nk: number },
  block: { queryStart?: number; queryLen?: number; keyStart?: number; keyLen?: number } = {},
): Tensor | null {
  const q0 = block.queryStart ?? 0;
  const k0 = block.keyStart ?? 0;
  const nq = block.queryLen ?? d.Nq;
  const nk = block.keyLen ?? d.Nk;
  let m: Tensor | null = null;
  if (opts.causal) {
    const shift = d.Nk - d.Nq;
    const qi = reshape(arange(q0 + shift, q0 + shift + nq, 1, { backend: like.backend }), [nq, 1]); // (Nq, 1)
    const kj = reshape(arange(k0, k0 + nk, 1, { backend: like.backend }), [1, nk]); // (1, Nk)
    m = reshape(ge(qi, kj), [1, 1, nq, nk]); // (1, 1, Nq, Nk)
  }
  if (opts.keyPaddingMask) {
    let pm = ne(opts.keyPaddingMask, 0); // (B, Nk)
    if (k0 !== 0 || nk !== d.Nk) pm = pm.narrow(1, k0, nk);
    const p4 = reshape(pm, [d.B, 1, 1, nk]); // (B, 1, 1, Nk)
    m = m ? mul(m, p4) : p4;
  }
  return m;
}
