/**
 * Sparse attention patterns: which key j a query at position i may attend to.
 *
 * - sliding window (Beltagy, Peters & Cohan 2020, "Longformer", sec. 3.1): |i - j| <= window;
 * - strided (Child, Gray, Radford & Sutskever 2019, "Generating Long Sequences with Sparse Transformers", sec.
 *   4.2): j within the previous `stride` positions (|i - j| < stride non-causally), or (i - j) mod stride == 0;
 * - fixed (Child et al. 2019): j in i's block of `stride` positions, or j among the last `summary` (c, default 1)
 *   positions of any block, the "summary" cells;
 * - global tokens (Longformer sec. 3.1): the first g positions attend everywhere and are attended by all.
 *
 * Causal attention additionally requires j <= i.
 */
import type { SparsePattern } from './attention-config.js';
import { checkInt } from './validate.js';

export type { SparsePattern };

/** A predicate allowed(i, j) for absolute positions. */
export type AllowedFn = (i: number, j: number) => boolean;

/** Validate a pattern and return its predicate. */
export function sparsePattern(op: string, p: SparsePattern, opts: { globalTokens?: number; causal?: boolean } = {}): AllowedFn {
  if (p === null || typeof p !== 'object') throw new Error(`${op}: expected pattern { kind, ... }; got ${String(p)}`);
  const g = checkInt(op, 'globalTokens', opts.globalTokens ?? 0, 0);
  let base: AllowedFn;
  switch (p.kind) {
    case 'sliding-window': {
      const w = checkInt(op, 'pattern.window', p.window, 0);
      base = (i, j) => Math.abs(i - j) <= w;
      break;
    }
    case 'strided': {
      const l = checkInt(op, 'pattern.stride', p.stride);
      base = (i, j) => Math.abs(i - j) < l || (((i - j) % l) + l) % l === 0;
      break;
    }
    case 'fixed': {
      const l = checkInt(op, 'pattern.stride', p.stride);
      const c = checkInt(op, 'pattern.summary', p.summary ?? 1);
      if (c > l) throw new Error(`${op}: expected pattern.summary <= pattern.stride (${l}); got ${c}`);
      base = (i, j) => Math.floor(i / l) === Math.floor(j / l) || j % l >= l - c;
      break;
    }
    default:
      throw new Error(`${op}: expected pattern.kind 'sliding-window', 'strided' or 'fixed'; got ${JSON.stringify((p as { kind?: unknown }).kind)}`);
  }
  const causal = opts.causal ?? false;
  return (i, j) => (!causal || j <= i) && (i < g || j < g || base(i, j));
}
