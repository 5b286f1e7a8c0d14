/**
 * Argument checks shared by every attention: the public boundary rejects wrong ranks, mismatched head dims and
 * masks of the wrong shape with a message naming the argument, what was expected and what came.
 */
import { Tensor, broadcastShapes } from '@formers/tensor-core';
import type { AttentionCallOptions } from './attention-core.js';

const fmt = (s: readonly number[]): string => `[${s.join(', ')}]`;

/** Dimensions read off validated q, k, v. */
export interface HeadDims {
  readonly B: number;
  readonly H: number;
  readonly Nq: number;
  readonly Nk: number;
  readonly Dh: number;
}

/** Check q (B, H, Nq, Dh), k and v (B, H, Nk, Dh) and the call options; returns the dims. @internal */
export function checkQKV(op: string, q: unknown, k: unknown, v: unknown, opts: AttentionCallOptions = {}): HeadDims {
  for (const [name, t] of [['q', q], ['k', k], ['v', v]] as const) {
    if (!(t instanceof Tensor)) throw new Error(`${op}: expected ${name} to be a Tensor; got ${t === null ? 'null' : typeof t}`);
    if (t.ndim !== 4) throw new Error(`${op}: expected ${name} of rank 4 (B, H, N, Dh); got shape ${fmt(t.shape)}`);
    if (t.dtype === 'int32') throw new Error(`${op}: expected ${name} to have a float dtype; got int32`);
  }
  const [tq, tk, tv] = [q, k, v] as Tensor[];
  const [B, H, Nq, Dh] = tq.shape;
  if (tk.shape[0] !== B || tk.shape[1] !== H || tv.shape[0] !== B || tv.shape[1] !== H) {
    throw new Error(`${op}: expected q, k and v to share (B, H) = (${B}, ${H}); got q ${fmt(tq.shape)}, k ${fmt(tk.shape)}, v ${fmt(tv.shape)}`);
  }
  if (tk.shape[3] !== Dh || tv.shape[3] !== Dh) {
    throw new Error(`${op}: head dim mismatch: expected q, k and v to have the same head dim Dh = ${Dh}; got q ${fmt(tq.shape)}, k ${fmt(tk.shape)}, v ${fmt(tv.shape)}`);
  }
  const Nk = tk.shape[2];
  if (tv.shape[2] !== Nk) throw new Error(`${op}: expected k and v to have the same length Nk; got k ${fmt(tk.shape)}, v ${fmt(tv.shape)}`);
  checkOptions(op, opts, { B, H, Nq, Nk, Dh });
  return { B, H, Nq, Nk, Dh };
}

/** Check the call options against the dims. @internal */
export function checkOptions(op: string, opts: AttentionCallOptions, d: HeadDims): void {
  if (opts === null || typeof opts !== 'object') throw new Error(`${op}: expected opts to be an object; got ${String(opts)}`);
  const m = opts.keyPaddingMask;
  if (m !== undefined && m !== null) {
    if (!(m instanceof Tensor)) throw new Error(`${op}: expected opts.keyPaddingMask to be a Tensor (B, Nk); got ${typeof m}`);
    if (m.ndim !== 2 || m.shape[0] !== d.B || m.shape[1] !== d.Nk) {
      throw new Error(`${op}: expected opts.keyPaddingMask of shape [${d.B}, ${d.Nk}] (B, Nk); got ${fmt(m.shape)}`);
    }
  }
  const b = opts.bias;
  if (b !== undefined && b !== null) {
    if (!(b instanceof Tensor)) throw new Error(`${op}: expected opts.bias to be a Tensor; got ${typeof b}`);
    const target = [d.B, d.H, d.Nq, d.Nk];
    let ok = b.ndim <= 4;
    if (ok) {
      try {
        const s = broadcastShapes(op, b.shape, target);
        ok = s.length === 4 && s.every((x, i) => x === target[i]);
      } catch {
        ok = false;
      }
    }
    if (!ok) throw new Error(`${op}: expected opts.bias broadcastable to ${fmt(target)} (B, H, Nq, Nk); got ${fmt(b.shape)}`);
  }
  if (opts.causal !== undefined && typeof opts.causal !== 'boolean') {
    throw new Error(`${op}: expected opts.causal to be a boolean; got ${JSON.stringify(opts.causal)}`);
  }
  if (opts.causal && d.Nk < d.Nq) {
    throw new Error(`${op}: causal attention expects Nk >= Nq (cached keys come first); got Nq = ${d.Nq}, Nk = ${d.Nk}`);
  }
  if (opts.offset !== undefined && !(Number.isInteger(opts.offset) && opts.offset >= 0)) {
    throw new Error(`${op}: expected opts.offset to be an integer >= 0; got ${JSON.stringify(opts.offset)}`);
  }
  if (opts.qkTransform !== undefined && typeof opts.qkTransform !== 'function') {
    throw new Error(`${op}: expected opts.qkTransform to be a function (q, k, { offset }) => [q, k]; got ${typeof opts.qkTransform}`);
  }
}

/** Throw unless `v` is an integer >= `min`. @internal */
export function checkInt(op: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${op}: expected ${name} to be an integer >= ${min}; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Throw unless `v` is a finite number > 0 (or >= 0 with `allowZero`). @internal */
export function checkPositive(op: string, name: string, v: unknown, allowZero = false): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0 || (!allowZero && v === 0)) {
    throw new Error(`${op}: expected ${name} to be a finite number ${allowZero ? '>= 0' : '> 0'}; got ${JSON.stringify(v)}`);
  }
  return v;
}

/** Throw unless `v` is a probability in [0, 1). @internal */
export function checkDropout(op: string, name: string, v: unknown): number {
  if (typeof v !== 'number' || !(v >= 0 && v < 1)) throw new Error(`${op}: expected ${name} in [0, 1); got ${JSON.stringify(v)}`);
  return v;
}

/** Apply the q/k transform hook (RoPE) when present. @internal */
export function applyQK(q: Tensor, k: Tensor, opts: AttentionCallOptions): [Tensor, Tensor] {
  if (!opts.qkTransform) return [q, k];
  const out = opts.qkTransform(q, k, { offset: opts.offset ?? 0 });
  if (!Array.isArray(out) || out.length !== 2 || !(out[0] instanceof Tensor) || !(out[1] instanceof Tensor)) {
    throw new Error('attention: expected opts.qkTransform to return [q, k] (two Tensors)');
  }
  if (out[0].shape.join() !== q.shape.join() || out[1].shape.join() !== k.shape.join()) {
    throw new Error(`attention: expected opts.qkTransform to keep the shapes q ${fmt(q.shape)}, k ${fmt(k.shape)}; got ${fmt(out[0].shape)}, ${fmt(out[1].shape)}`);
  }
  return out;
}

export { fmt };
