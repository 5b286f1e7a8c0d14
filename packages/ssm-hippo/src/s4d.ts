/**
 * S4D: diagonal state spaces (Gu, Gupta, Goel, Ré 2022, "On the Parameterization and Initialization of Diagonal
 * State Space Models", NeurIPS). Per channel h (H of them), N/2 complex modes A_n with B = 1 folded into C; the
 * conjugate modes are implied, which is why every output takes 2 Re(.):
 *
 *   kernel   K_l = 2 Re( sum_n C_n Bd_n Ad_n^l ),      l = 0..L-1   (a Vandermonde product, eq. (4))
 *   conv     y = K * u + D u                            (FFT convolution, zero-padded to 2L, so it is causal)
 *   step     x_k = Ad x_{k-1} + Bd u_k,  y_k = 2 Re(C x_k) + D u_k
 *
 * Parameters and state_dict names follow the paper's minimal reference layer (s4d.py of state-spaces): `D`,
 * `kernel.log_dt`, `kernel.C` (view_as_real, (H, N/2, 2)), `kernel.log_A_real`, `kernel.A_imag`, then the
 * position-wise GELU and `output_linear` (Conv1d(H, 2H, 1) followed by GLU over channels).
 */
import {
  ComplexTensor,
  Conv1d,
  Module,
  Sequential,
  arange,
  cat,
  complex,
  needsGrad,
  tidy,

  irfft,
  mul,
  narrow,
  rfft,
  sigmoid,
  tensor,
  type FactoryOptions,
  type Tensor,
  uniform,
  randn,
  zeros,
} from '@formers/tensor-core';

/** How the continuous diagonal system is discretized. */
export type S4DDiscretization = 'zoh' | 'bilinear';

/** Initialization of the diagonal A (S4D Section 4). */
export type S4DInit = 'lin' | 'inv' | 'real';

function checkInt(op: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${op}: expected ${name} to be an integer >= ${min}; got ${JSON.stringify(v)}`);
  return v;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

/**
 * The initial diagonal A for N/2 modes, as (real, imag) arrays:
 * - 'lin' (S4D-Lin):  A_n = -1/2 + i pi n
 * - 'inv' (S4D-Inv):  A_n = -1/2 + i (N/pi) (N/(2n+1) - 1)
 * - 'real' (S4D-Real): A_n = -(n+1), imag 0 (the diagonal of HiPPO-LegS)
 */
export function s4dInitA(N: number, init: S4DInit): { real: number[]; imag: number[] } {
  checkInt('s4dInitA', 'N', N, 2);
  if (N % 2 !== 0) throw new Error(`s4dInitA: expected N (the state size, conjugate pairs included) to be even; got ${N}`);
  const half = N / 2;
  const n = Array.from({ length: half }, (_, i) => i);
  switch (init) {
    case 'lin':
      return { real: n.map(() => -0.5), imag: n.map((i) => Math.PI * i) };
    case 'inv':
      return { real: n.map(() => -0.5), imag: n.map((i) => (N / Math.PI) * (N / (2 * i + 1) - 1)) };
    case 'real':
      return { real: n.map((i) => -(i + 1)), imag: n.map(() => 0) };
    default:
      throw new Error(`s4dInitA: expected init 'lin', 'inv' or 'real'; got ${JSON.stringify(init)}`);
  }
}

/** The parameters the S4D kernel is computed from. Shapes: H channels, M = N/2 complex modes. */
export interface S4DKernelParams {
  /** log step size, (H). */
  readonly logDt: Tensor;
  /** C as (re, im) in the last dim, (H, M, 2). */
  readonly C: Tensor;
  /** log(-Re A), (H, M); Re A = -exp(logAReal) keeps the system stable. */
  readonly logAReal: Tensor;
  /** Im A, (H, M). */
  readonly AImag: Tensor;
}

function checkKernelParams(op: string, p: S4DKernelParams): { H: number; M: number } {
  if (p.logDt.ndim !== 1) throw new Error(`${op}: expected logDt of shape [H]; got ${fmt(p.logDt.shape)}`);
  const H = p.logDt.shape[0];
  if (p.logAReal.ndim !== 2 || p.logAReal.shape[0] !== H) throw new Error(`${op}: expected logAReal of shape [H=${H}, M]; got ${fmt(p.logAReal.shape)}`);
  const M = p.logAReal.shape[1];
  if (p.AImag.ndim !== 2 || p.AImag.shape[0] !== H || p.AImag.shape[1] !== M) throw new Error(`${op}: expected AImag of shape [${H},${M}] (as logAReal); got ${fmt(p.AImag.shape)}`);
  if (p.C.ndim !== 3 || p.C.shape[0] !== H || p.C.shape[1] !== M || p.C.shape[2] !== 2) throw new Error(`${op}: expected C of shape [${H},${M},2] (H, M, re/im); got ${fmt(p.C.shape)}`);
  return { H, M };
}

/** Discretized diagonal system: dA (H, M), dB (H, M), C (H, M), all complex. */
export function s4dDiscretize(p: S4DKernelParams, method: S4DDiscretization = 'zoh'): { dA: ComplexTensor; dB: ComplexTensor; C: ComplexTensor } {
  checkKernelParams('s4dDiscretize', p);
  const dt = p.logDt.exp().unsqueeze(-1); // (H, 1)
  const A = complex(p.logAReal.exp().neg(), p.AImag); // (H, M)
  const dtA = A.scale(dt); // (H, M)
  const C = complex(p.C.select(-1, 0), p.C.select(-1, 1)); // (H, M)
  if (method === 'zoh') {
    // ZOH (S4D eq. (5)): dA = exp(dt A), dB = (exp(dt A) - 1) / A  (B = 1).
    const dA = dtA.exp();
    return { dA, dB: dA.sub(1).div(A), C };
  }
  if (method === 'bilinear') {
    // Bilinear (S4 eq. (3)): dA = (1 + dt A / 2) / (1 - dt A / 2), dB = dt / (1 - dt A / 2).
    const den = dtA.scale(-0.5).add(1);
    return { dA: dtA.scale(0.5).add(1).div(den), dB: complex(dt.expand(den.shape as number[])).div(den), C };
  }
  throw new Error(`s4dDiscretize: expected method 'zoh' or 'bilinear'; got ${JSON.stringify(method)}`);
}

/**
 * The S4D convolution kernel K (H, L), K_l = 2 Re(sum_n C_n dB_n dA_n^l), by the Vandermonde product. The powers
 * are exp(l log dA) with the principal complex log (for ZOH, log dA = dt A exactly), so every entry is computed
 * directly rather than by repeated multiplication, and gradients reach every parameter.
 */
export function s4dKernel(p: S4DKernelParams, L: number, opts: { method?: S4DDiscretization } = {}): Tensor {
  checkInt('s4dKernel', 'L', L);
  const method = opts.method ?? 'zoh';
  const { dA, dB, C } = s4dDiscretize(p, method);
  const logDA =
    method === 'zoh'
      ? complex(p.logAReal.exp().neg(), p.AImag).scale(p.logDt.exp().unsqueeze(-1)) // (H, M)
      : new ComplexTensor(dA.abs().log(), dA.angle()); // (H, M)
  const CB = C.mul(dB).map((t) => t.unsqueeze(1)); // (H, 1, M)
  // Positions l0 .. l0 + n - 1 of the kernel: Re(sum_n CB_n V_nl) as two batched matmuls over the modes; the factor
  // 2 accounts for the implied conjugates.
  const range = (l0: number, n: number): Tensor => {
    const l = arange(l0, l0 + n, 1, { dtype: p.logDt.dtype, backend: p.logDt.backend }); // (n)
    const V = logDA.map((t) => mul(t.unsqueeze(-1), l)).exp(); // (H, M, n)
    return CB.re.matmul(V.re).sub(CB.im.matmul(V.im)).squeeze(1).mul(2); // (H, n)
  };
  if (L <= KERNEL_CHUNK) return range(0, L);
  // In chunks of positions, so the (H, M, chunk) powers stay small (at L = 16384, H = 256, M = 32 the whole
  // Vandermonde matrix is 1 GB per part and time grew 9x per 4x of L); without autograd each chunk's
  // intermediates are released before the next.
  const recording = needsGrad([p.logDt, p.C, p.logAReal, p.AImag]);
  const parts: Tensor[] = [];
  for (let l0 = 0; l0 < L; l0 += KERNEL_CHUNK) {
    const n = Math.min(KERNEL_CHUNK, L - l0);
    parts.push(recording ? range(l0, n) : tidy(() => range(l0, n)));
  }
  return cat(parts, 1); // (H, L)
}

/** Kernel positions computed at once by `s4dKernel`. */
const KERNEL_CHUNK = 2048;

/**
 * Causal convolution of u (B, H, L) with a per-channel kernel K (H, L') for L' >= L, through FFTs of length 2L
 * (the zero padding turns the circular convolution into a linear, causal one).
 */
export function fftConv(u: Tensor, K: Tensor): Tensor {
  if (u.ndim !== 3) throw new Error(`fftConv: expected u of shape [B, H, L]; got ${fmt(u.shape)}`);
  const [, H, L] = u.shape;
  if (K.ndim !== 2 || K.shape[0] !== H) throw new Error(`fftConv: expected K of shape [H=${H}, L'] ; got ${fmt(K.shape)}`);
  if (K.shape[1] < L) throw new Error(`fftConv: the kernel has length ${K.shape[1]} but the sequence has length ${L}; recompute the kernel for L >= ${L}`);
  const k = K.shape[1] === L ? K : narrow(K, 1, 0, L); // (H, L)
  const uf = rfft(u, { n: 2 * L }); // (B, H, L+1)
  const kf = rfft(k, { n: 2 * L }); // (H, L+1)
  return narrow(irfft(uf.mul(kf), { n: 2 * L }), -1, 0, L); // (B, H, L)
}

/** torch.nn.GLU over dim -2 (channels of a (B, 2C, L) tensor): first half times sigmoid of the second. */
export class ChannelGLU extends Module {
  forward(x: Tensor): Tensor {
    const [a, b] = x.chunk(2, -2); // (B, C, L) each
    return a.mul(sigmoid(b));
  }
}

export interface S4DOptions extends FactoryOptions {
  /** State size N, conjugate pairs included (N/2 complex modes); default 64. */
  readonly dState?: number;
  /** Initialization of A; default 'lin' (S4D-Lin). */
  readonly init?: S4DInit;
  /** Discretization; default 'zoh'. */
  readonly discretization?: S4DDiscretization;
  /** log dt ~ U(log dtMin, log dtMax); defaults 0.001 and 0.1. */
  readonly dtMin?: number;
  readonly dtMax?: number;
}

/** The recurrent state of an S4D layer: x (B, H, N/2) complex, tagged with the layer's sizes. */
export interface S4DState {
  readonly re: Tensor;
  readonly im: Tensor;
}

/**
 * The S4D layer of Gu et al. 2022 (the paper's minimal reference layer), on u (B, H, L):
 * y = output_linear(GELU(K * u + D u)), with output_linear = Conv1d(H, 2H, 1) then GLU over channels.
 * Train with `forward` (FFT convolution); run step by step with `initialState` and `step`.
 * Following the paper, `ssmParameters()` lists the SSM parameters (log_dt, log_A_real, A_imag) that are usually
 * given a smaller learning rate (0.001) and no weight decay.
 */
export class S4D extends Module {
  readonly D: Tensor;
  /** Holds log_dt, C, log_A_real and A_imag under the state_dict prefix `kernel.`. */
  readonly ssmKernel: S4DKernelModule;
  readonly outputLinear: Sequential;
  readonly dModel: number;
  readonly dState: number;
  readonly discretization: S4DDiscretization;

  constructor(dModel: number, opts: S4DOptions = {}) {
    super();
    this.dModel = checkInt('S4D', 'dModel', dModel);
    this.dState = checkInt('S4D', 'opts.dState', opts.dState ?? 64, 2);
    if (this.dState % 2 !== 0) throw new Error(`S4D: expected opts.dState to be even (N/2 conjugate pairs); got ${this.dState}`);
    this.discretization = opts.discretization ?? 'zoh';
    if (this.discretization !== 'zoh' && this.discretization !== 'bilinear') {
      throw new Error(`S4D: expected opts.discretization 'zoh' or 'bilinear'; got ${JSON.stringify(this.discretization)}`);
    }
    const dtMin = opts.dtMin ?? 0.001;
    const dtMax = opts.dtMax ?? 0.1;
    if (!(dtMin > 0 && dtMax >= dtMin && Number.isFinite(dtMax))) {
      throw new Error(`S4D: expected 0 < opts.dtMin <= opts.dtMax; got dtMin ${dtMin}, dtMax ${dtMax}`);
    }
    const H = this.dModel;
    const M = this.dState / 2;
    const dtype = opts.dtype ?? 'float32';
    const t = { dtype, backend: opts.backend, generator: opts.generator };
    const A = s4dInitA(this.dState, opts.init ?? 'lin');
    // Registration order follows s4d.py's state_dict: D, kernel.*, output_linear.*.
    this.D = this.registerParameter('D', randn([H], t));
    this.ssmKernel = this.registerModule(
      'kernel',
      new S4DKernelModule(
        uniform([H], Math.log(dtMin), Math.log(dtMax), t),
        // torch.randn(cfloat) has variance 1 split evenly between real and imaginary parts.
        randn([H, M, 2], t).mul(Math.SQRT1_2).detach(),
        tensor(Array.from({ length: H }, () => A.real.map((r) => Math.log(-r))), { dtype, backend: opts.backend }),
        tensor(Array.from({ length: H }, () => A.imag), { dtype, backend: opts.backend }),
      ),
    );
    this.outputLinear = this.registerModule('output_linear', new Sequential(new Conv1d(H, 2 * H, 1, { ...t }), new ChannelGLU()));
  }

  /** The SSM parameters that take a smaller learning rate and no weight decay (S4 and S4D training recipe). */
  ssmParameters(): Tensor[] {
    return [this.ssmKernel.logDt, this.ssmKernel.logAReal, this.ssmKernel.AImag];
  }

  private params(): S4DKernelParams {
    const k = this.ssmKernel;
    return { logDt: k.logDt, C: k.C, logAReal: k.logAReal, AImag: k.AImag };
  }

  /** The convolution kernel (H, L). */
  kernel(L: number): Tensor {
    return s4dKernel(this.params(), L, { method: this.discretization });
  }

  private checkInput(op: string, u: Tensor, rank: number): void {
    if (u.ndim !== rank || u.shape[1] !== this.dModel) {
      throw new Error(`S4D.${op}: expected u of shape ${rank === 3 ? '[B, H, L]' : '[B, H]'} with H = ${this.dModel}; got ${fmt(u.shape)}`);
    }
  }

  /** u (B, H, L) -> y (B, H, L), by FFT convolution. Pass a precomputed `kernel` (H, L' >= L) to reuse it. */
  forward(u: Tensor, opts: { kernel?: Tensor } = {}): Tensor {
    this.checkInput('forward', u, 3);
    const L = u.shape[2];
    const K = opts.kernel ?? this.kernel(L); // (H, L)
    const y = fftConv(u, K).add(u.mul(this.D.unsqueeze(-1))); // (B, H, L)
    return this.outputLinear.call(y.gelu()) as Tensor; // (B, H, L)
  }

  /** A zero state for `batch` sequences. */
  initialState(batch: number): S4DState {
    checkInt('S4D.initialState', 'batch', batch);
    const z = zeros([batch, this.dModel, this.dState / 2], { dtype: this.D.dtype, backend: this.D.backend });
    return { re: z, im: z };
  }

  /** One recurrent step: u (B, H) and the state after u_{k-1} -> y_k (B, H) and the new state. */
  step(u: Tensor, state: S4DState): { y: Tensor; state: S4DState } {
    this.checkInput('step', u, 2);
    const want = [u.shape[0], this.dModel, this.dState / 2];
    for (const [name, t] of [['re', state?.re], ['im', state?.im]] as const) {
      if (!t || t.ndim !== 3 || t.shape.some((s, i) => s !== want[i])) {
        throw new Error(`S4D.step: expected state.${name} of shape ${fmt(want)} (batch, dModel, dState/2) for this layer; got ${t ? fmt(t.shape) : String(t)}`);
      }
    }
    const { dA, dB, C } = s4dDiscretize(this.params(), this.discretization);
    const x = dA.mul(new ComplexTensor(state.re, state.im)).add(dB.mul(u.unsqueeze(-1))); // (B, H, M)
    const yc = C.mul(x).sum(-1).re.mul(2).add(u.mul(this.D)); // (B, H)
    const y = (this.outputLinear.call(yc.gelu().unsqueeze(-1)) as Tensor).squeeze(-1); // (B, H)
    return { y, state: { re: x.re, im: x.im } };
  }
}

/** Holds the kernel parameters under the `kernel.` prefix of the state_dict (s4d.py's S4DKernel). */
export class S4DKernelModule extends Module {
  readonly logDt: Tensor;
  readonly C: Tensor;
  readonly logAReal: Tensor;
  readonly AImag: Tensor;

  constructor(logDt: Tensor, C: Tensor, logAReal: Tensor, AImag: Tensor) {
    super();
    this.logDt = this.registerParameter('log_dt', logDt);
    this.C = this.registerParameter('C', C);
    this.logAReal = this.registerParameter('log_A_real', logAReal);
    this.AImag = this.registerParameter('A_imag', AImag);
  }

  forward(): never {
    throw new Error('S4DKernelModule: call S4D.kernel(L) instead');
  }
}

