/**
 * FLASH with mixed chunk attention (Hua et al. 2022, "Transformer Quality in Linear Time", sec. 3.2, Code 6-8):
 * a GAU whose attention is split over chunks of G tokens (group size, 256 by default):
 *
 *   quadratic inside chunks: relu(Q_g K_g^T / G + b_rel)^2 V_g (causal within the chunk if causal);
 *   linear across chunks: Q'_g (sum over chunks of K'^T V) / N non-causally, or, causally, Q'_g times the exclusive
 *   cumulative sum over earlier chunks of K'_h^T V_h / G (so a token sees earlier chunks only through the linear
 *   part and its own chunk through the quadratic part);
 *   out = (U * (quad + lin)) W_o + x.
 *
 * Q, K (quadratic) and Q', K' (linear) are four offset-scales of one shared Z. A length that is not a multiple of G
 * is zero-padded at the end with the padded keys masked (documented; FLASH-pytorch does the same). A q/k hook
 * (RoPE) applies to both pairs, as the paper uses RoPE. Causal FLASH offers `step()` for decoding.
 */
import { Dropout, LayerNorm, Linear, Module, Tensor, add, cat, cumsum, matmul, mul, ne, ones, pad, reshape, relu, silu, square, sub, sum, tril, type BackendLike, type DType, type Generator } from '@formers/tensor-core';
import type { QKTransform } from './attention-core.js';
import { OffsetScale, checkBlockInput } from './gated-attention-unit.js';
import { T5RelativeBias } from './t5-relative-bias.js';
import { checkDropout, checkInt, checkPositive, fmt } from './validate.js';

export interface FLASHOptions {
  /** Chunk (group) size G; default 256. */
  readonly groupSize?: number;
  /** s; default 128. */
  readonly queryKeyDim?: number;
  /** e = expansionFactor * D; default 2. */
  readonly expansionFactor?: number;
  readonly causal?: boolean;
  /** Dropout on the quadratic scores; default 0. */
  readonly dropout?: number;
  readonly relPosBias?: boolean;
  readonly dtype?: DType;
  readonly backend?: BackendLike;
  readonly generator?: Generator;
}

export interface FLASHCallOptions {
  /** (B, N), nonzero = keep. */
  readonly keyPaddingMask?: Tensor;
  /** Applied to (quad Q, quad K) and (lin Q, lin K) as (B, 1, N, s) tensors, e.g. RoPE. */
  readonly qkTransform?: QKTransform;
}

/** Causal FLASH decoding state. */
export interface FLASHState {
  readonly owner: string;
  readonly position: number;
  /** sum over completed chunks of K'^T V / G (B, s, e), or null before the first chunk completes. */
  readonly S: Tensor | null;
  /** The current chunk's quadratic keys (B, c, s), linear keys (B, c, s) and values (B, c, e). */
  readonly quadK: Tensor | null;
  readonly linK: Tensor | null;
  readonly v: Tensor | null;
}

export class FLASH extends Module {
  readonly dim: number;
  readonly groupSize: number;
  readonly queryKeyDim: number;
  readonly hiddenDim: number;
  readonly causal: boolean;
  readonly norm: LayerNorm;
  readonly to_hidden: Linear;
  readonly to_qk: Linear;
  readonly qk_offset_scale: OffsetScale;
  readonly rel_pos_bias: T5RelativeBias | null;
  readonly to_out: Linear;
  readonly attnDropout: Dropout;

  constructor(dim: number, opts: FLASHOptions = {}) {
    super();
    const op = 'FLASH';
    this.dim = checkInt(op, 'dim', dim);
    this.groupSize = checkInt(op, 'opts.groupSize', opts.groupSize ?? 256);
    this.queryKeyDim = checkInt(op, 'opts.queryKeyDim', opts.queryKeyDim ?? 128);
    this.hiddenDim = checkInt(op, 'expansionFactor * dim', Math.floor(checkPositive(op, 'opts.expansionFactor', opts.expansionFactor ?? 2) * dim));
    this.causal = opts.causal ?? false;
    const f = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    this.norm = this.registerModule('norm', new LayerNorm(dim, { dtype: opts.dtype, backend: opts.backend }));
    this.to_hidden = this.registerModule('to_hidden', new Linear(dim, 2 * this.hiddenDim, f));
    this.to_qk = this.registerModule('to_qk', new Linear(dim, this.queryKeyDim, f));
    this.qk_offset_scale = this.registerModule('qk_offset_scale', new OffsetScale(this.queryKeyDim, 4, f));
    this.rel_pos_bias = this.registerModule('rel_pos_bias', opts.relPosBias === false ? null : new T5RelativeBias({ causal: this.causal, scale: Math.sqrt(this.queryKeyDim), ...f }));
    this.to_out = this.registerModule('to_out', new Linear(this.hiddenDim, dim, f));
    this.attnDropout = this.registerModule('attn_drop', new Dropout(checkDropout(op, 'opts.dropout', opts.dropout ?? 0), { generator: opts.generator }));
  }

  /** Shared projections: V, U (B, N, e) and quad Q, lin Q, quad K, lin K (B, N, s), after the q/k hook. */
  private project(x: Tensor, qkTransform: QKTransform | undefined, offset: number): { v: Tensor; u: Tensor; qq: Tensor; lq: Tensor; qk: Tensor; lk: Tensor } {
    const [B, N] = x.shape;
    const xn = this.norm.call(x); // (B, N, D)
    const hid = silu(this.to_hidden.call(xn)); // (B, N, 2e)
    const v = hid.narrow(2, 0, this.hiddenDim); // (B, N, e)
    const u = hid.narrow(2, this.hiddenDim, this.hiddenDim); // (B, N, e)
    let [qq, lq, qk, lk] = this.qk_offset_scale.call(silu(this.to_qk.call(xn))); // (B, N, s) each
    if (qkTransform) {
      const s = this.queryKeyDim;
      const to4 = (t: Tensor) => reshape(t, [B, 1, N, s]); // (B, 1, N, s)
      const to3 = (t: Tensor) => reshape(t, [B, N, s]); // (B, N, s)
      const [a, b] = qkTransform(to4(qq), to4(qk), { offset });
      const [c, d] = qkTransform(to4(lq), to4(lk), { offset });
      [qq, qk, lq, lk] = [to3(a), to3(b), to3(c), to3(d)];
    }
    return { v, u, qq, lq, qk, lk };
  }

  /** x (B, N, D) -> (B, N, D). */
  forward(x: Tensor, opts: FLASHCallOptions = {}): Tensor {
    checkBlockInput('FLASH', x, this.dim, opts.keyPaddingMask);
    const [B, N] = x.shape;
    const { v, u, qq, lq, qk, lk: lk0 } = this.project(x, opts.qkTransform, 0);
    let lk = lk0;
    const G = this.groupSize;
    const padN = (G - (N % G)) % G;
    const nc = (N + padN) / G;
    let keep = opts.keyPaddingMask ? ne(opts.keyPaddingMask, 0) : null; // (B, N)
    if (keep) lk = mul(lk, reshape(keep, [B, N, 1])); // padded keys add nothing to the linear part
    if (padN) keep = pad(keep ?? ones([B, N], { dtype: x.dtype, backend: x.backend }), [0, padN]); // (B, N + pad)
    const grp = (t: Tensor) => reshape(padN ? pad(t, [0, 0, 0, padN]) : t, [B, nc, G, t.shape[2]]); // (B, nc, G, .)
    const [gqq, gqk, glq, glk, gv] = [grp(qq), grp(qk), grp(lq), grp(lk), grp(v)];
    // Quadratic attention inside each chunk.
    let sim = mul(matmul(gqq, gqk.transpose(-2, -1)), 1 / G); // (B, nc, G, G)
    if (this.rel_pos_bias) sim = add(sim, this.rel_pos_bias.call(G, G));
    let a = this.attnDropout.call(square(relu(sim))); // (B, nc, G, G)
    if (keep) a = mul(a, reshape(keep, [B, nc, 1, G])); // mask padded keys
    if (this.causal) a = tril(a);
    const quad = matmul(a, gv); // (B, nc, G, e)
    // Linear attention across chunks.
    let lin: Tensor;
    if (this.causal) {
      const kv = mul(matmul(glk.transpose(-2, -1), gv), 1 / G); // (B, nc, s, e)
      const prev = sub(cumsum(kv, 1), kv); // exclusive cumsum over chunks (B, nc, s, e)
      lin = matmul(glq, prev); // (B, nc, G, e)
    } else {
      const kv = mul(sum(matmul(glk.transpose(-2, -1), gv), 1, true), 1 / N); // (B, 1, s, e)
      lin = matmul(glq, kv); // (B, nc, G, e)
    }
    let att = reshape(add(quad, lin), [B, nc * G, this.hiddenDim]); // (B, N + pad, e)
    if (padN) att = att.narrow(1, 0, N);
    return add(this.to_out.call(mul(u, att)), x); // (B, N, D)
  }

  /** Causal decoding: x (B, T, D) after `state`; equal to the causal forward on the whole prefix. */
  step(x: Tensor, state: FLASHState | null = null, opts: Pick<FLASHCallOptions, 'qkTransform'> = {}): { out: Tensor; state: FLASHState } {
    const op = 'FLASH.step';
    if (!this.causal) throw new Error(`${op}: step() needs a causal FLASH (opts.causal = true)`);
    checkBlockInput(op, x, this.dim);
    const owner = `FLASH(dim=${this.dim}, groupSize=${this.groupSize}, queryKeyDim=${this.queryKeyDim})`;
    if (state !== null) {
      if (typeof state !== 'object' || state.owner !== owner) throw new Error(`${op}: expected a state from ${owner}; got one from ${String(state?.owner)}`);
      const ref = state.v ?? state.S;
      if (ref && ref.shape[0] !== x.shape[0]) throw new Error(`${op}: expected a state for batch ${x.shape[0]}; got ${fmt(ref.shape)}`);
    }
    const [, T] = x.shape;
    const G = this.groupSize;
    let pos = state?.position ?? 0;
    let { S, quadK, linK, v: cv } = state ?? { S: null, quadK: null, linK: null, v: null };
    const p = this.project(x, opts.qkTransform, pos);
    const outs: Tensor[] = [];
    for (let t = 0; t < T; t++) {
      const c = pos % G;
      const at = (z: Tensor) => z.narrow(1, t, 1); // (B, 1, .)
      quadK = quadK ? cat([quadK, at(p.qk)], 1) : at(p.qk); // (B, c + 1, s)
      linK = linK ? cat([linK, at(p.lk)], 1) : at(p.lk);
      cv = cv ? cat([cv, at(p.v)], 1) : at(p.v); // (B, c + 1, e)
      let sim = mul(matmul(at(p.qq), quadK.transpose(-2, -1)), 1 / G); // (B, 1, c + 1)
      if (this.rel_pos_bias) sim = add(sim, this.rel_pos_bias.call(1, c + 1, c, 0));
      const quad = matmul(this.attnDropout.call(square(relu(sim))), cv); // (B, 1, e)
      outs.push(S ? add(quad, matmul(at(p.lq), S)) : quad);
      if (c === G - 1) {
        const kv = mul(matmul(linK.transpose(-2, -1), cv), 1 / G); // (B, s, e): the completed chunk
        S = S ? add(S, kv) : kv;
        quadK = linK = cv = null;
      }
      pos++;
    }
    const att = outs.length === 1 ? outs[0] : cat(outs, 1); // (B, T, e)
    return { out: add(this.to_out.call(mul(p.u, att)), x), state: { owner, position: pos, S, quadK, linK, v: cv } };
  }
}
