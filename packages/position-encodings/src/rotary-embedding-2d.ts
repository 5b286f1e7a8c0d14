/**
 * `RotaryEmbedding2d`: RoPE for image patches (Heo, Park, Han and Yun 2024, "Rotary Position Embedding for Vision
 * Transformer", ECCV 2024, arXiv 2403.13298), in its two forms:
 *
 * - `'axial'` (RoPE-Axial, eq. 10-12 of the paper): the Dh/2 rotation pairs of a head are split in two. The first
 *   Dh/4 pairs rotate by the column index x times theta_j, the last Dh/4 by the row index y times theta_j, with
 *   theta_j = base^(-4j/Dh), j = 0 .. Dh/4 - 1. No parameters. Default base 100, as the paper's released models.
 * - `'mixed'` (RoPE-Mixed, eq. 13-15): every pair j of head h rotates by x * fx[h, j] + y * fy[h, j], with the
 *   frequencies learned (the parameter `freqs`, shape (2, heads, Dh/2): freqs[0] = fx, freqs[1] = fy). They start
 *   at magnitude base^(-4j/Dh) (j over Dh/4) in a direction a_h (random per head with `rotate`), the first Dh/4 pairs
 *   along a_h and the next Dh/4 along a_h + pi/2, as the paper's init_random_2d_freqs. Default base 10.
 *
 * Positions are the integer patch coordinates of an H x W grid in row-major order (token t is at x = t mod W,
 * y = floor(t / W)), computed for whatever grid a call passes, so a new resolution needs no table to resize.
 * The first `numPrefixTokens` tokens (class, register tokens) pass unrotated, as in the paper's code.
 *
 * `layout` chooses which features form pair j, as for 1-D RoPE (rotary.ts): 'interleaved' (x[2j], x[2j+1]), the
 * paper's complex-number form and our default; 'rotate-half' (x[j], x[j + Dh/2]).
 */
import { cat, keep, Module, stack, tensor, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { rotateHalf, rotateInterleaved, type RotaryLayout } from './rotary.js';
import { resolveGrid, type GridSize } from './sincos-2d.js';
import { checkInt, checkOneOf, checkPositive } from './validate.js';

export type Rotary2dMode = 'axial' | 'mixed';

export interface RotaryEmbedding2dOptions extends FactoryOptions {
  /** The head dim Dh of the queries and keys; divisible by 4 (two axes, pairs of features). */
  readonly dim: number;
  /** 'axial' (fixed frequencies, default) or 'mixed' (learned per-head frequencies). */
  readonly mode?: Rotary2dMode;
  /** Number of heads; required for 'mixed' (one set of frequencies per head), checked against q when given. */
  readonly numHeads?: number;
  /** Frequency base: default 100 for 'axial' and 10 for 'mixed' (the paper's RoPE-Axial / RoPE-Mixed models). */
  readonly base?: number;
  /** Which features form a rotation pair (default 'interleaved', the paper's). */
  readonly layout?: RotaryLayout;
  /** 'mixed' only: start each head's frequencies in a random direction (default true, as the paper). */
  readonly rotate?: boolean;
}

export interface RotaryEmbedding2dForwardOptions {
  /** The patch grid [H, W] (or H for a square grid) of the tokens after the prefix. */
  readonly gridSize: GridSize;
  /** Tokens before the patches that pass unrotated (default 0; 1 for a class token). */
  readonly numPrefixTokens?: number;
}

const MODES: readonly Rotary2dMode[] = ['axial', 'mixed'];
const LAYOUTS: readonly RotaryLayout[] = ['interleaved', 'rotate-half'];

export class RotaryEmbedding2d extends Module {
  readonly dim: number;
  readonly mode: Rotary2dMode;
  readonly base: number;
  readonly layout: RotaryLayout;
  readonly numHeads: number | undefined;
  /** 'mixed' only: the learned frequencies (2, heads, Dh/2); null for 'axial'. */
  readonly freqs: Tensor | null;
  private readonly magnitudes: Float64Array;
  private axialCache: { h: number; w: number; cos: Tensor; sin: Tensor } | null = null;
  private readonly tableOpts: { dtype: 'float32' | 'float64'; backend?: FactoryOptions['backend'] };

  constructor(opts: RotaryEmbedding2dOptions) {
    super();
    const op = 'RotaryEmbedding2d';
    this.dim = checkInt(op, 'opts.dim', opts?.dim);
    if (this.dim % 4 !== 0) {
      throw new Error(`${op}: expected opts.dim (the head dim) to be divisible by 4 (pairs of features, split between two axes); got ${this.dim}`);
    }
    this.mode = checkOneOf(op, 'opts.mode', opts.mode ?? 'axial', MODES);
    this.layout = checkOneOf(op, 'opts.layout', opts.layout ?? 'interleaved', LAYOUTS);
    this.base = checkPositive(op, 'opts.base', opts.base ?? (this.mode === 'axial' ? 100 : 10));
    const dtype = opts.dtype ?? 'float32';
    if (dtype !== 'float32' && dtype !== 'float64') {
      throw new Error(`${op}: expected opts.dtype 'float32' or 'float64'; got ${JSON.stringify(dtype)}`);
    }
    this.tableOpts = { dtype, backend: opts.backend };
    const quarter = this.dim / 4;
    this.magnitudes = Float64Array.from({ length: quarter }, (_, j) => this.base ** (-(4 * j) / this.dim));
    if (opts.numHeads !== undefined) this.numHeads = checkInt(op, 'opts.numHeads', opts.numHeads);
    if (this.mode === 'axial') {
      this.freqs = null;
      return;
    }
    if (this.numHeads === undefined) {
      throw new Error(`${op}: expected opts.numHeads (an integer >= 1) for mode 'mixed', which learns frequencies per head; got undefined`);
    }
    const heads = this.numHeads;
    const half = this.dim / 2;
    const init = new Float64Array(2 * heads * half);
    for (let h = 0; h < heads; h++) {
      const a = opts.rotate === false ? 0 : 2 * Math.PI * (opts.generator ? opts.generator.nextFloat() : Math.random());
      for (let j = 0; j < quarter; j++) {
        const m = this.magnitudes[j];
        // Pairs j and j + Dh/4 start in perpendicular directions a and a + pi/2 (the paper's init_random_2d_freqs).
        init[h * half + j] = m * Math.cos(a);
        init[h * half + quarter + j] = m * Math.cos(Math.PI / 2 + a);
        init[(heads + h) * half + j] = m * Math.sin(a);
        init[(heads + h) * half + quarter + j] = m * Math.sin(Math.PI / 2 + a);
      }
    }
    this.freqs = this.registerParameter('freqs', this.table(init, [2, heads, half])); // (2, heads, Dh/2)
  }

  private table(data: Float64Array, shape: number[]): Tensor {
    const { dtype, backend } = this.tableOpts;
    return tensor(dtype === 'float64' ? data : Float32Array.from(data), { shape, dtype, backend });
  }

  /** Column (x) and row (y) index of each of the H W patches, row-major. */
  private coordinates(h: number, w: number): { x: Float64Array; y: Float64Array } {
    const x = Float64Array.from({ length: h * w }, (_, t) => t % w);
    const y = Float64Array.from({ length: h * w }, (_, t) => Math.floor(t / w));
    return { x, y };
  }

  /** Angles (N, Dh/2) or (heads, N, Dh/2) repeated onto the features of each pair: (..., N, Dh). */
  private spread(angles: Tensor): Tensor {
    const last = angles.ndim - 1;
    return this.layout === 'rotate-half'
      ? cat([angles, angles], last) // (..., N, Dh): [a | a]
      : stack([angles, angles], last + 1).flatten(last); // (..., N, Dh): [a0, a0, a1, a1, ...]
  }

  /**
   * cos and sin of the rotation angles for an H x W grid, laid out for `layout`: (H W, Dh) for 'axial',
   * (heads, H W, Dh) for 'mixed' (differentiable w.r.t. `freqs`).
   */
  cosSin(gridSize: GridSize): { cos: Tensor; sin: Tensor } {
    const [h, w] = resolveGrid('RotaryEmbedding2d.cosSin', 'gridSize', gridSize);
    const { x, y } = this.coordinates(h, w);
    const n = h * w;
    if (this.freqs === null) {
      const c = this.axialCache;
      if (c && c.h === h && c.w === w) return { cos: c.cos, sin: c.sin };
      const quarter = this.dim / 4;
      const angles = new Float64Array(n * (this.dim / 2));
      for (let t = 0; t < n; t++) {
        for (let j = 0; j < quarter; j++) {
          angles[t * 2 * quarter + j] = x[t] * this.magnitudes[j]; // first Dh/4 pairs: columns
          angles[t * 2 * quarter + quarter + j] = y[t] * this.magnitudes[j]; // last Dh/4 pairs: rows
        }
      }
      const spread = this.spread(this.table(angles, [n, this.dim / 2])); // (N, Dh)
      const cos = keep(spread.cos());
      const sin = keep(spread.sin());
      c?.cos.dispose();
      c?.sin.dispose();
      this.axialCache = { h, w, cos, sin };
      return { cos, sin };
    }
    const heads = this.freqs.shape[1];
    const half = this.dim / 2;
    const tx = this.table(x, [1, n, 1]); // (1, N, 1)
    const ty = this.table(y, [1, n, 1]); // (1, N, 1)
    const fx = this.freqs.select(0, 0).reshape([heads, 1, half]); // (heads, 1, Dh/2)
    const fy = this.freqs.select(0, 1).reshape([heads, 1, half]); // (heads, 1, Dh/2)
    const spread = this.spread(tx.mul(fx).add(ty.mul(fy))); // (heads, N, Dh)
    return { cos: spread.cos(), sin: spread.sin() };
  }

  /** Rotate one tensor x (B, heads, prefix + H W, Dh); the prefix tokens pass unrotated. */
  rotate(x: Tensor, opts: RotaryEmbedding2dForwardOptions): Tensor {
    const op = 'RotaryEmbedding2d';
    const [h, w] = resolveGrid(op, 'opts.gridSize', opts?.gridSize);
    const prefix = checkInt(op, 'opts.numPrefixTokens', opts.numPrefixTokens ?? 0, 0);
    const n = prefix + h * w;
    const heads = this.freqs?.shape[1] ?? this.numHeads;
    if (x.ndim !== 4 || x.shape[2] !== n || x.shape[3] !== this.dim || (heads !== undefined && x.shape[1] !== heads)) {
      throw new Error(
        `${op}: expected q and k of shape (B, heads${heads === undefined ? '' : ` = ${heads}`}, numPrefixTokens + H*W = ${prefix} + ${h}*${w} = ${n}, Dh = ${this.dim}); got [${x.shape.join(', ')}]`,
      );
    }
    const { cos, sin } = this.cosSin([h, w]);
    // The tables follow the activations (backend, then dtype), like a buffer moved with them.
    const c = cos.to(x.backend).to(x.dtype);
    const s = sin.to(x.backend).to(x.dtype);
    const patches = prefix === 0 ? x : x.narrow(2, prefix, h * w); // (B, heads, H W, Dh)
    const turned = this.layout === 'rotate-half' ? rotateHalf(patches) : rotateInterleaved(patches); // (B, heads, H W, Dh)
    const out = patches.mul(c).add(turned.mul(s)); // (B, heads, H W, Dh)
    return prefix === 0 ? out : cat([x.narrow(2, 0, prefix), out], 2); // (B, heads, N, Dh)
  }

  /**
   * A q/k transform for one grid, in the structural form attention cores take (attention-linear's `QKTransform`,
   * `(q, k, { offset }) => [q, k]`); `offset` is ignored, since image tokens have no decoding offset.
   */
  qkTransformFor(opts: RotaryEmbedding2dForwardOptions): (q: Tensor, k: Tensor, o?: { offset?: number }) => [Tensor, Tensor] {
    resolveGrid('RotaryEmbedding2d.qkTransformFor', 'opts.gridSize', opts?.gridSize);
    return (q, k) => this.forward(q, k, opts);
  }

  /** Rotate queries and keys (B, heads, prefix + H W, Dh) on the same grid; returns [q, k]. */
  forward(q: Tensor, k: Tensor, opts: RotaryEmbedding2dForwardOptions): [Tensor, Tensor] {
    return [this.rotate(q, opts), this.rotate(k, opts)];
  }
}
