/**
 * The Mamba block (Gu and Dao 2023, Section 3.4 and Figure 3), with the parameter names of HuggingFace's
 * `MambaMixer` and mamba_ssm's `Mamba` (mamba_simple.py): in_proj, conv1d, x_proj, dt_proj, A_log, D, out_proj.
 *
 *   [x, z] = in_proj(h)                              (B, L, 2 E)     E = expand * dModel
 *   x = SiLU(causal depthwise conv1d(x))             (B, E, L)       kernel dConv, left padding dConv - 1
 *   [dt, B, C] = x_proj(x)                           dtRank, N, N
 *   delta = softplus(dt_proj(dt))                    (B, E, L)       dt_proj's bias is the delta bias
 *   y = selective_scan(x, delta, A = -exp(A_log), B, C, D) * SiLU(z)
 *   out = out_proj(y)                                (B, L, dModel)
 */
import { Conv1d, Linear, noGrad, Module, defaultGenerator, init, narrow, softplus, tensor, zeros, cat, type FactoryOptions, type Tensor } from '@formers/tensor-core';
import { selectiveScan, selectiveStateUpdate, type SelectiveScanMode } from './selective-scan.js';

export interface MambaOptions extends FactoryOptions {
  /** State size N per channel; default 16. */
  readonly dState?: number;
  /** Depthwise convolution width; default 4. */
  readonly dConv?: number;
  /** Inner width E = expand * dModel; default 2. */
  readonly expand?: number;
  /** Rank of the delta projection; default 'auto' = ceil(dModel / 16). */
  readonly dtRank?: number | 'auto';
  /** dt at init is log-uniform in [dtMin, dtMax] (defaults 0.001, 0.1), clamped below at dtInitFloor (1e-4). */
  readonly dtMin?: number;
  readonly dtMax?: number;
  readonly dtInitFloor?: number;
  /** dt_proj.weight ~ U(-s, s) with s = dtScale / sqrt(dtRank) ('random', default) or = s ('constant'). */
  readonly dtScale?: number;
  readonly dtInit?: 'random' | 'constant';
  /** Bias in conv1d (default true) and in in_proj/out_proj (default false). */
  readonly convBias?: boolean;
  readonly bias?: boolean;
  /**
   * How `forward` runs the selective scan: 'auto' (default), 'parallel', 'associative', 'sequential' or 'fused'.
   * 'auto' picks, per call, 'fused' when the input lives on a synchronous backend (reference, wasm) and 'parallel'
   * on an asynchronous one; see `MambaScanMode`.
   */
  readonly scanMode?: MambaScanMode;
  /** Chunk length of the 'parallel' scan; default 256. */
  readonly chunkSize?: number;
}

/**
 * A selective-scan mode, or 'auto': the fused host loop where it applies (a synchronous backend, where it reads its
 * inputs with dataSync), else the 'parallel' scan. This mirrors mamba_ssm and HF's `MambaMixer`, whose forward uses
 * the fused kernel by default whenever it can run and falls back to the composed path otherwise. The fused op's
 * backward is a hand-written reverse scan that is not itself recorded: pass 'parallel' explicitly for
 * double-backward (createGraph).
 */
export type MambaScanMode = SelectiveScanMode | 'auto';

/** The inference cache of one Mamba block: the last dConv inputs of the convolution and the SSM state. */
export interface MambaState {
  /** (B, E, dConv). */
  readonly convState: Tensor;
  /** (B, E, N). */
  readonly ssmState: Tensor;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function checkInt(name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`Mamba: expected ${name} to be an integer >= ${min}; got ${JSON.stringify(v)}`);
  return v;
}

/** The Mamba mixer block; see the file comment. Cite: Gu and Dao 2023, arXiv:2312.00752. */
export class Mamba extends Module {
  readonly inProj: Linear;
  readonly conv1d: Conv1d;
  readonly xProj: Linear;
  readonly dtProj: Linear;
  readonly ALog: Tensor;
  readonly D: Tensor;
  readonly outProj: Linear;
  readonly dModel: number;
  readonly dInner: number;
  readonly dState: number;
  readonly dConv: number;
  readonly dtRank: number;
  scanMode: MambaScanMode;
  readonly chunkSize: number | undefined;

  constructor(dModel: number, opts: MambaOptions = {}) {
    super();
    this.dModel = checkInt('dModel', dModel);
    this.dState = checkInt('opts.dState', opts.dState ?? 16);
    this.dConv = checkInt('opts.dConv', opts.dConv ?? 4);
    const expand = opts.expand ?? 2;
    this.dInner = checkInt('expand * dModel', expand * dModel);
    const rank = opts.dtRank ?? 'auto';
    this.dtRank = rank === 'auto' ? Math.ceil(dModel / 16) : checkInt('opts.dtRank', rank);
    this.scanMode = opts.scanMode ?? 'auto';
    if (!['auto', 'parallel', 'sequential', 'associative', 'fused'].includes(this.scanMode)) {
      throw new Error(`Mamba: expected opts.scanMode 'auto', 'parallel', 'associative', 'sequential' or 'fused'; got ${JSON.stringify(this.scanMode)}`);
    }
    this.chunkSize = opts.chunkSize;
    const dtMin = opts.dtMin ?? 0.001;
    const dtMax = opts.dtMax ?? 0.1;
    const floor = opts.dtInitFloor ?? 1e-4;
    if (!(dtMin > 0 && dtMax >= dtMin && Number.isFinite(dtMax) && floor > 0)) {
      throw new Error(`Mamba: expected 0 < opts.dtMin <= opts.dtMax and opts.dtInitFloor > 0; got dtMin ${dtMin}, dtMax ${dtMax}, dtInitFloor ${floor}`);
    }
    const dtInit = opts.dtInit ?? 'random';
    if (dtInit !== 'random' && dtInit !== 'constant') throw new Error(`Mamba: expected opts.dtInit 'random' or 'constant'; got ${JSON.stringify(dtInit)}`);
    const gen = opts.generator ?? defaultGenerator();
    const f = { dtype: opts.dtype, backend: opts.backend, generator: gen };
    const E = this.dInner;
    const N = this.dState;
    // Registration order of the submodules follows the reference; torch lists A_log and D (own parameters) first.
    this.inProj = this.registerModule('in_proj', new Linear(dModel, 2 * E, { ...f, bias: opts.bias ?? false }));
    this.conv1d = this.registerModule('conv1d', new Conv1d(E, E, this.dConv, { ...f, groups: E, padding: this.dConv - 1, bias: opts.convBias ?? true }));
    this.xProj = this.registerModule('x_proj', new Linear(E, this.dtRank + 2 * N, { ...f, bias: false }));
    this.dtProj = this.registerModule('dt_proj', new Linear(this.dtRank, E, { ...f, bias: true }));
    const std = (opts.dtScale ?? 1) / Math.sqrt(this.dtRank);
    if (dtInit === 'random') init.uniform_(this.dtProj.weight, { a: -std, b: std, generator: gen });
    else init.constant_(this.dtProj.weight, std);
    // dt ~ exp(U(log dtMin, log dtMax)) clamped at the floor, stored through the inverse softplus
    // (dt + log(-expm1(-dt))) so that softplus(dt_proj.bias) = dt at init.
    const invDt = Array.from({ length: E }, () => {
      const dt = Math.max(Math.exp(gen.nextDouble() * (Math.log(dtMax) - Math.log(dtMin)) + Math.log(dtMin)), floor);
      return dt + Math.log(-Math.expm1(-dt));
    });
    noGrad(() => this.dtProj.bias!.copy_(tensor(invDt, { dtype: this.dtProj.bias!.dtype, backend: opts.backend })));
    // S4D-Real initialization A_n = -(n+1), stored as A_log = log(1..N) (E, N).
    const aLog = Array.from({ length: E }, () => Array.from({ length: N }, (_, n) => Math.log(n + 1)));
    this.ALog = this.registerParameter('A_log', tensor(aLog, { dtype: opts.dtype ?? 'float32', backend: opts.backend }));
    this.D = this.registerParameter('D', tensor(new Array<number>(E).fill(1), { dtype: opts.dtype ?? 'float32', backend: opts.backend }));
    this.outProj = this.registerModule('out_proj', new Linear(E, dModel, { ...f, bias: opts.bias ?? false }));
  }

  /** A = -exp(A_log), (E, N). */
  A(): Tensor {
    return this.ALog.exp().neg();
  }

  /** hidden (B, L, dModel) -> (B, L, dModel). */
  forward(hidden: Tensor): Tensor {
    if (hidden.ndim !== 3 || hidden.shape[2] !== this.dModel) {
      throw new Error(`Mamba.forward: expected hidden of shape [B, L, dModel=${this.dModel}]; got ${fmt(hidden.shape)}`);
    }
    const L = hidden.shape[1];
    const xz = this.inProj.call(hidden).transpose(1, 2); // (B, 2E, L)
    const [x0, z] = xz.chunk(2, 1); // (B, E, L) each
    const x = narrow(this.conv1d.call(x0), -1, 0, L).silu(); // (B, E, L): keep the causal part of the padded conv
    const [dt, B, C] = this.xProj.call(x.transpose(1, 2)).split([this.dtRank, this.dState, this.dState], -1); // (B, L, R), (B, L, N) x2
    const delta = this.dtProj.call(dt).transpose(1, 2); // (B, E, L), bias included
    // 'auto': the fused host loop reads its inputs with dataSync, so it runs only where the backend is synchronous.
    const mode = this.scanMode === 'auto' ? (x.backend.sync ? 'fused' : 'parallel') : this.scanMode;
    const y = selectiveScan(x, delta, this.A(), B.transpose(1, 2), C.transpose(1, 2), {
      D: this.D,
      z,
      deltaSoftplus: true,
      mode,
      chunkSize: this.chunkSize,
    }).y; // (B, E, L)
    return this.outProj.call(y.transpose(1, 2)); // (B, L, dModel)
  }

  /** A zero inference cache for `batch` sequences. */
  initialState(batch: number): MambaState {
    checkInt('batch', batch);
    const o = { dtype: this.D.dtype, backend: this.D.backend };
    return { convState: zeros([batch, this.dInner, this.dConv], o), ssmState: zeros([batch, this.dInner, this.dState], o) };
  }

  /** One token: hidden (B, dModel) and the cache -> out (B, dModel) and the next cache (inputs are not modified). */
  step(hidden: Tensor, state: MambaState): { out: Tensor; state: MambaState } {
    if (hidden.ndim !== 2 || hidden.shape[1] !== this.dModel) {
      throw new Error(`Mamba.step: expected hidden of shape [B, dModel=${this.dModel}]; got ${fmt(hidden.shape)}`);
    }
    const b = hidden.shape[0];
    const wantConv = [b, this.dInner, this.dConv];
    const wantSsm = [b, this.dInner, this.dState];
    const badShape = (t: Tensor | undefined, want: number[]) => !t || t.ndim !== 3 || t.shape.some((s, i) => s !== want[i]);
    if (!state || badShape(state.convState, wantConv) || badShape(state.ssmState, wantSsm)) {
      throw new Error(
        `Mamba.step: expected a state from this block's initialState(${b}): convState ${fmt(wantConv)}, ssmState ${fmt(wantSsm)}; ` +
          `got convState ${state?.convState ? fmt(state.convState.shape) : 'none'}, ssmState ${state?.ssmState ? fmt(state.ssmState.shape) : 'none'}`,
      );
    }
    const [x0, z] = this.inProj.call(hidden).chunk(2, -1); // (B, E) each
    // Shift the window left by one and append the new input: the last dConv inputs of the causal conv.
    const convState = cat([narrow(state.convState, -1, 1, this.dConv - 1), x0.unsqueeze(-1)], -1); // (B, E, dConv)
    let x = convState.mul(this.conv1d.weight.squeeze(1)).sum(-1); // (B, E)
    if (this.conv1d.bias) x = x.add(this.conv1d.bias);
    x = x.silu();
    const [dt, B, C] = this.xProj.call(x).split([this.dtRank, this.dState, this.dState], -1); // (B, R), (B, N), (B, N)
    const delta = softplus(this.dtProj.call(dt)); // (B, E)
    const r = selectiveStateUpdate(state.ssmState, x, delta, this.A(), B, C, { D: this.D, z }); // (B, E)
    return { out: this.outProj.call(r.y), state: { convState, ssmState: r.state } };
  }
}

