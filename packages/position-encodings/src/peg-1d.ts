/**
 * A 1-D Position Encoding Generator for sequences: the PEG of CPVT (Chu et al. 2023) with a depthwise conv1d over
 * the tokens, added back as a residual. Symmetric zero padding (k - 1)/2 (odd k) for encoders; `causal: true` pads
 * k - 1 zeros on the left only, so token t sees tokens t - k + 1 .. t, as a decoder needs. Prefix tokens pass
 * through. Names: `proj.0.weight` (C, 1, k), `proj.0.bias` (C).
 */
import { cat, Conv1d, Module, pad, Sequential, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { checkInt } from './validate.js';

export interface PositionEncodingGenerator1dOptions extends FactoryOptions {
  readonly dim: number;
  /** Kernel size k (default 3); odd unless causal. */
  readonly kernelSize?: number;
  /** Left-only padding, so no token sees the future (default false). */
  readonly causal?: boolean;
  /** Tokens before the sequence that bypass the conv (default 0). */
  readonly numPrefixTokens?: number;
}

export class PositionEncodingGenerator1d extends Module {
  readonly dim: number;
  readonly kernelSize: number;
  readonly causal: boolean;
  readonly numPrefixTokens: number;
  readonly proj: Sequential;

  constructor(opts: PositionEncodingGenerator1dOptions) {
    super();
    const op = 'PositionEncodingGenerator1d';
    this.dim = checkInt(op, 'opts.dim', opts?.dim);
    this.causal = opts.causal ?? false;
    this.kernelSize = checkInt(op, 'opts.kernelSize', opts.kernelSize ?? 3, this.causal ? 2 : 3);
    if (!this.causal && this.kernelSize % 2 !== 1) {
      throw new Error(`${op}: expected an odd opts.kernelSize for symmetric padding (or causal: true); got ${this.kernelSize}`);
    }
    this.numPrefixTokens = checkInt(op, 'opts.numPrefixTokens', opts.numPrefixTokens ?? 0, 0);
    const conv = new Conv1d(this.dim, this.dim, this.kernelSize, {
      padding: this.causal ? 0 : (this.kernelSize - 1) / 2,
      groups: this.dim,
      bias: true,
      dtype: opts.dtype,
      backend: opts.backend,
      generator: opts.generator,
    });
    this.proj = this.registerModule('proj', new Sequential(conv));
  }

  /** x (B, prefix + T, C) -> same shape. */
  forward(x: Tensor): Tensor {
    const op = 'PositionEncodingGenerator1d';
    if (x.ndim !== 3 || x.shape[1] <= this.numPrefixTokens || x.shape[2] !== this.dim) {
      throw new Error(
        `${op}: expected x of shape (B, numPrefixTokens (=${this.numPrefixTokens}) + T with T >= 1, C = ${this.dim}); got [${x.shape.join(', ')}]`,
      );
    }
    const t = x.shape[1] - this.numPrefixTokens;
    const seq = this.numPrefixTokens === 0 ? x : x.narrow(1, this.numPrefixTokens, t); // (B, T, C)
    const channels = seq.transpose(1, 2); // (B, C, T)
    const input = this.causal ? pad(channels, [this.kernelSize - 1, 0]) : channels; // (B, C, T + k - 1) when causal
    const out = this.proj.call(input).add(channels).transpose(1, 2); // (B, T, C)
    return this.numPrefixTokens === 0 ? out : cat([x.narrow(1, 0, this.numPrefixTokens), out], 1); // (B, N, C)
  }
}
