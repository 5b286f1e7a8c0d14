/**
 * FLOATER (Liu, Yu, Dhillon and Hsieh 2020, "Learning to Encode Position for Transformer with Continuous Dynamical
 * Model", ICML 2020): position embeddings p(t) produced by a continuous dynamical system,
 *
 *   dp/dt = h(t, p(t); theta),   p(0) = p0,   the embedding of position i is p(i * interval)   (eq. 5-6),
 *
 * with h a small MLP (Linear(D + 1, hidden), tanh, Linear(hidden, D)) of [p, t]. We integrate with a fixed-step
 * classical Runge-Kutta (RK4), `stepsPerPosition` steps per interval, written in tensor ops so gradients flow
 * through the integrator to the MLP and p0 (discretise-then-optimise, instead of the paper's adjoint method).
 * Nothing is tabulated, so any length works: a model trained on short sequences produces embeddings for longer
 * ones by integrating further.
 *
 * Names: `p0` (D), `net.0.weight` (hidden, D + 1), `net.0.bias`, `net.2.weight` (D, hidden), `net.2.bias`.
 *
 * On an H x W patch grid (`{ gridSize, numPrefixTokens }`), the same parameters give the 2-D form: the first D/2
 * channels follow the patch's column and the last D/2 its row, as MAE's 2-D sin-cos table (He et al. 2022) and
 * axial 2-D RoPE (Heo et al. 2024) split them; prefix tokens (class) get no position. See grid-2d.ts.
 */
import { cat, init, Linear, Module, Sequential, Tanh, tensor, zeros, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { axialTable, checkEvenChannels, resolveGridOptions, resolvePlacement, withPrefixRows, type GridOptions, type PlacementOptions } from './grid-2d.js';
import { checkInt, checkPositive } from './validate.js';

export interface FloaterOptions extends FactoryOptions {
  /** Embedding dim D. */
  readonly dim: number;
  /** Hidden width of the MLP h (default D). */
  readonly hiddenDim?: number;
  /** Time between consecutive positions (default 0.1). */
  readonly interval?: number;
  /** RK4 steps per interval (default 1). */
  readonly stepsPerPosition?: number;
}

export class FloaterPositionEncoding extends Module {
  readonly dim: number;
  readonly interval: number;
  readonly stepsPerPosition: number;
  /** Initial state p(0) (D); truncated-normal init, std 0.02. */
  readonly p0: Tensor;
  /** h(t, p): [p, t] (1, D + 1) -> dp/dt (1, D). */
  readonly net: Sequential;

  constructor(opts: FloaterOptions) {
    super();
    const op = 'FloaterPositionEncoding';
    this.dim = checkInt(op, 'opts.dim', opts?.dim);
    const hidden = checkInt(op, 'opts.hiddenDim', opts.hiddenDim ?? this.dim);
    this.interval = checkPositive(op, 'opts.interval', opts.interval ?? 0.1);
    this.stepsPerPosition = checkInt(op, 'opts.stepsPerPosition', opts.stepsPerPosition ?? 1);
    const factory = { dtype: opts.dtype, backend: opts.backend, generator: opts.generator };
    this.p0 = this.registerParameter('p0', zeros([this.dim], { dtype: opts.dtype, backend: opts.backend }));
    init.truncNormal_(this.p0, { std: 0.02, generator: opts.generator });
    this.net = this.registerModule('net', new Sequential(new Linear(this.dim + 1, hidden, factory), new Tanh(), new Linear(hidden, this.dim, factory)));
  }

  private f(t: number, p: Tensor): Tensor {
    const time = tensor([[t]], { dtype: p.dtype, backend: p.backend }); // (1, 1)
    return this.net.call(cat([p, time], 1)); // (1, D)
  }

  /** The embeddings of positions 0 .. length - 1: (length, D). */
  positions(length: number): Tensor {
    checkInt('FloaterPositionEncoding.positions', 'length', length);
    const h = this.interval / this.stepsPerPosition;
    let p = this.p0.reshape([1, this.dim]); // (1, D)
    const rows = [p];
    for (let i = 1; i < length; i++) {
      for (let s = 0; s < this.stepsPerPosition; s++) {
        const t = ((i - 1) * this.stepsPerPosition + s) * h;
        // Classical RK4: fourth-order accurate, and every stage is an ordinary differentiable op.
        const k1 = this.f(t, p);
        const k2 = this.f(t + h / 2, p.add(k1.mul(h / 2)));
        const k3 = this.f(t + h / 2, p.add(k2.mul(h / 2)));
        const k4 = this.f(t + h, p.add(k3.mul(h)));
        p = p.add(k1.add(k2.mul(2)).add(k3.mul(2)).add(k4).mul(h / 6)); // (1, D)
      }
      rows.push(p);
    }
    return cat(rows, 0); // (T, D)
  }

  /** x (..., T, D) -> x + p(offset .. offset + T - 1); with `opts.gridSize`, x (..., P + H W, D) -> x + gridTable(opts). */
  forward(x: Tensor, opts: PlacementOptions = {}): Tensor {
    const op = 'FloaterPositionEncoding';
    if (x.ndim < 2 || x.shape[x.ndim - 1] !== this.dim) {
      throw new Error(`${op}: expected x of shape (..., T, ${this.dim}); got [${x.shape.join(', ')}]`);
    }
    const t = x.shape[x.ndim - 2];
    const at = resolvePlacement(op, opts, t, 'x.shape[-2]');
    if ('grid' in at) return x.add(this.gridTable(opts as GridOptions)); // (..., N, D)
    const offset = at.offset;
    const table = this.positions(offset + t); // (offset + T, D)
    return x.add(offset === 0 ? table : table.narrow(0, offset, t)); // (..., T, D)
  }

  /**
   * Embeddings of an H x W patch grid (P + H W, D): the trajectory is integrated to max(H, W) - 1 intervals once,
   * then the first D/2 channels are read at the patch's column and the last D/2 at its row (the channel split of
   * sinCos2dPositionEncoding); zero for the P prefix tokens (no position). The same dynamical system and
   * parameters serve text and images, and any grid size works (integrate further).
   */
  gridTable(opts: GridOptions): Tensor {
    const op = 'FloaterPositionEncoding.gridTable';
    const g = resolveGridOptions(op, opts);
    checkEvenChannels(op, 'dim', this.dim);
    return withPrefixRows(axialTable(this.positions(Math.max(g.h, g.w)), g.h, g.w), g.prefix, 0); // (P + H W, D)
  }
}
