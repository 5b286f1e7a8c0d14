/**
 * The gated attention unit (GAU) and FLASH-Quad (Hua, Dai, Liu & Le 2022, "Transformer Quality in Linear Time",
 * ICML, sec. 2 and Code 1). One pre-norm block (B, N, D) -> (B, N, D) replacing attention + FFN:
 *
 *   x' = LayerNorm(x); V, U = split(silu(x' W_h)) (each (B, N, e), e = expansionFactor D);
 *   Z = silu(x' W_z) (B, N, s), shared by queries and keys; Q = Z gamma_0 + beta_0, K = Z gamma_1 + beta_1
 *   (the per-dim offset-scale); A = relu(Q K^T / N + b_rel)^2 (squared-ReLU scores, T5 relative bias);
 *   out = (U * A V) W_o + x.
 *
 * Defaults as the paper and FLASH-pytorch: s = 128, expansion 2, gamma ~ N(0, 0.02), beta = 0. Parameter names
 * follow FLASH-pytorch with flat linears: norm, to_hidden (D -> 2e, V first then U), to_qk, offsetscale.gamma/beta
 * (2, s), rel_pos_bias.relative_attention_bias.weight, to_out. Causal masking zeroes A above the diagonal; the
 * score scale stays 1/N as in the paper's pseudocode, so GAU has no `step()` (FLASH's chunked scale does).
 */
import { Dropout, LayerNorm, Linear, Module, ModuleList, add, matmul, mul, ne, reshape, relu, silu, square, tril, zeros, nn, type BackendLike, type DType, type Generator, type Tensor } from '@formers/tensor-core';
import { T5RelativeBias } from './t5-relative-bias.js';
import { checkDropout, checkInt, checkPositive, fmt } from './validate.js';

export interface GAUOptions {
  /** Query/key width s; default 128. */
  readonly queryKeyDim?: number;
  /** e = expansionFactor * D; default 2. */
  readonly expansionFactor?: number;
  readonly causal?: boolean;
  /** Dropout on A and on the output; default 0. */
  readonly dropout?: number;
  /** Add the input back (default true). */
  readonly addResidual?: boolean;
  /** Learn the T5 relative position bias (default true). */
  readonly relPosBias?: boolean;
  readonly dtype?: DType;
  readonly backend?: BackendLike;
  readonly generator?: Generator;
}

/** Per-dim offset and scale of the shared Z into `heads` projections (Q, K, ...). */
export class OffsetScale extends Module {
  readonly gamma: Tensor;
  readonly beta: Tensor;
  constructor(dim: number, heads: number, opts: { dtype?: DType; backend?: BackendLike; generator?: Generator } = {}) {
    super();
    const t = { dtype: opts.dtype ?? 'float32', backend: opts.backend };
    this.gamma = this.registerParameter('gamma', nn.init.normal_(zeros([heads, dim], t), { std: 0.02, generator: opts.generator }));
    this.beta = this.registerParameter('beta', zeros([heads, dim], t));
  }
  /** z (B, N, s) -> heads tensors (B, N, s). */
  forward(z: Tensor): Tensor[] {
    const H = this.gamma.shape[0];
    return Array.from({ length: H }, (_, h) => add(mul(z, this.gamma.select(0, h)), this.beta.select(0, h)));
  }
}

/** Check x (B, N, D) and an optional key padding mask (B, N). @internal */
export function checkBlockInput(op: string, x: unknown, D: number, mask?: Tensor): void {
  const t = x as Tensor;
  if (!t || typeof t !== 'object' || !('shape' in t) || t.ndim !== 3 || t.shape[2] !== D) {
    throw new Error(`${op}: expected x of shape (B, N, ${D}); got ${t && 'shape' in t ? fmt(t.shape) : String(x)}`);
  }
  if (mask && (mask.ndim !== 2 || mask.shape[0] !== t.shape[0] || mask.shape[1] !== t.shape[1])) {
    throw new Error(`${op}: expected opts.keyPaddingMask of shape [${t.shape[0]}, ${t.shape[1]}] (B, N); got ${fmt(mask.shape)}`);
  }
}

export class GAU extends Module {
  readonly dim: number;
  readonly queryKeyDim: number;
  readonly hiddenDim: number;
  readonly causal: boolean;
  readonly addResidual: boolean;
  readonly norm: LayerNorm;
  readonly to_hidden: Linear;
  readonly to_qk: Linear;
  readonly offsetscale: OffsetScale;
  readonly rel_pos_bias: T5RelativeBias | null;
  readonly to_out: Linear;
  readonly attnDropout: Dropout;
  readonly outDropout: Dropout;

  constructor(dim: number, opts: GAUOptions = {}) {
    super();
    const op = 'GAU';
    this.dim = checkInt(op, 'dim', dim);
    this.queryKeyDim = checkInt(op, 'opts.queryKeyDim', opts.queryKeyDim ?? 128);
    this.hiddenDim = checkInt(op, 'expansionFactor * dim', Math.floor(checkPositive(op, 'opts.expansionFactor', opts.expansionFactor ?? 2) * dim));
    this.causal = opts.causal ?? false;
    this.addResidual = opts.addResidual ?? true;
    const p = checkDropout(op, 'opts.dropout', opts.dropout ?? 0);
    const f = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    this.norm = this.registerModule('norm', new LayerNorm(dim, { dtype: opts.dtype, backend: opts.backend }));
    this.to_hidden = this.registerModule('to_hidden', new Linear(dim, 2 * this.hiddenDim, f));
    this.to_qk = this.registerModule('to_qk', new Linear(dim, this.queryKeyDim, f));
    this.offsetscale = this.registerModule('offsetscale', new OffsetScale(this.queryKeyDim, 2, f));
    this.rel_pos_bias = this.registerModule('rel_pos_bias', opts.relPosBias === false ? null : new T5RelativeBias({ causal: this.causal, scale: Math.sqrt(this.queryKeyDim), ...f }));
    this.to_out = this.registerModule('to_out', new Linear(this.hiddenDim, dim, f));
    this.attnDropout = this.registerModule('attn_drop', new Dropout(p, { generator: opts.generator }));
    this.outDropout = this.registerModule('out_drop', new Dropout(p, { generator: opts.generator }));
  }

  /** x (B, N, D) -> (B, N, D); `keyPaddingMask` (B, N), nonzero = keep. */
  forward(x: Tensor, opts: { keyPaddingMask?: Tensor } = {}): Tensor {
    checkBlockInput('GAU', x, this.dim, opts.keyPaddingMask);
    const [B, N] = x.shape;
    const xn = this.norm.call(x); // (B, N, D)
    const hid = silu(this.to_hidden.call(xn)); // (B, N, 2e)
    const v = hid.narrow(2, 0, this.hiddenDim); // (B, N, e)
    const u = hid.narrow(2, this.hiddenDim, this.hiddenDim); // (B, N, e)
    const z = silu(this.to_qk.call(xn)); // (B, N, s)
    const [q, k] = this.offsetscale.call(z); // (B, N, s) each
    let sim = mul(matmul(q, k.transpose(-2, -1)), 1 / N); // (B, N, N): Q K^T / N
    if (this.rel_pos_bias) sim = add(sim, this.rel_pos_bias.call(N, N)); // + b_rel (N, N)
    let a = square(relu(sim)); // (B, N, N)
    a = this.attnDropout.call(a);
    if (opts.keyPaddingMask) a = mul(a, reshape(ne(opts.keyPaddingMask, 0), [B, 1, N])); // padded keys get 0
    if (this.causal) a = tril(a);
    let out = this.to_out.call(mul(u, matmul(a, v))); // (B, N, D): (U * A V) W_o
    out = this.outDropout.call(out);
    return this.addResidual ? add(out, x) : out;
  }
}

/** FLASH-Quad (Hua et al. 2022, sec. 2.3): a stack of GAUs (the paper uses 2x the layers of a Transformer). */
export class FLASHQuad extends Module {
  readonly layers: ModuleList<GAU>;
  constructor(dim: number, opts: GAUOptions & { depth: number }) {
    super();
    const depth = checkInt('FLASHQuad', 'opts.depth', opts?.depth);
    this.layers = this.registerModule('layers', new ModuleList(Array.from({ length: depth }, () => new GAU(dim, opts))));
  }
  forward(x: Tensor, opts: { keyPaddingMask?: Tensor } = {}): Tensor {
    for (const layer of this.layers) x = layer.call(x, opts);
    return x;
  }
}
