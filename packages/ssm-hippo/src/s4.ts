/**
 * S4: structured state spaces (Gu, Goel, Ré 2021, "Efficiently Modeling Long Sequences with Structured State
 * Spaces", ICLR 2022). HiPPO-LegS is normal plus low rank (NPLR, Theorem 1): A = V (Lambda - P~ P~^*) V^* with V
 * unitary, so in the eigenbasis A is diagonal plus low rank (DPLR). With the bilinear discretization the length-L
 * convolution kernel K_l = C Ad^l Bd is computed without ever forming Ad^l (Algorithm 1):
 *
 *   1. truncated generating function at the L roots of unity w_k = exp(-2 pi i k / L):
 *        K^(w) = sum_{l<L} C Ad^l Bd w^l = C~ (I - Ad w)^-1 Bd,   C~ = C (I - Ad^L)   (w^L = 1)
 *      and (I - Ad w)^-1 Bd = 2/(1+w) (g(w) I - A)^-1 B with g(w) = (2/dt)(1-w)/(1+w);
 *   2. Woodbury: (g - Lambda + P Q^*)^-1 = R - R P (1 + Q^* R P)^-1 Q^* R, R = (g - Lambda)^-1 diagonal, Q = P;
 *   3. the four Cauchy sums k_ij(w) = sum_n a_in b_jn / (g(w) - lambda_n) (a = C~, Q; b = B, P);
 *   4. K = inverse FFT of K^.
 *
 * As in the paper's code, C~ (not C) is the trainable parameter: it is tied to the kernel length `lMax`, which is
 * why a longer sequence needs `setLMax` (it rewrites C~ for the new length) and why the recurrent mode converts C~
 * back to C = C~ (I - Ad^L)^-1 once (`setupStep`). Only N/2 modes are stored; the conjugate modes are implied, so
 * every Cauchy sum adds each term and its conjugate (state-spaces' `cauchy_conj`), and the kernel is real.
 */
import {
  ComplexTensor,
  Conv1d,
  Module,
  Sequential,
  complex,
  irfft,
  cat,
  narrow,
  needsGrad,
  noGrad,
  stack,
  tidy,
  randn,
  tensor,
  uniform,
  zeros,
  type FactoryOptions,
  type Tensor,
} from '@formers/tensor-core';
import { hippoLegS, legsLowRank } from './hippo.js';
import { caxpby, ceye, cmatmul, cpow, csolve, czeros, hermitianEig, type CMatrix } from './complex-linalg.js';
import { ChannelGLU, fftConv } from './s4d.js';

function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function checkInt(op: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${op}: expected ${name} to be an integer >= ${min}; got ${JSON.stringify(v)}`);
  return v;
}

/** The DPLR form of HiPPO-LegS for N/2 modes (the other half are their conjugates). */
export interface LegSNplr {
  /** Eigenvalues Lambda_n = -1/2 + i Im (M = N/2, Im > 0, ascending). */
  readonly lambdaRe: Float64Array;
  readonly lambdaIm: Float64Array;
  /** P~ = V^* P and B~ = V^* B in the eigenbasis, (M) complex each. */
  readonly P: { re: Float64Array; im: Float64Array };
  readonly B: { re: Float64Array; im: Float64Array };
  /** The kept eigenvectors V (N, M); the full unitary basis is [V, conj(V)]. */
  readonly V: CMatrix;
}

/**
 * The NPLR/DPLR form of HiPPO-LegS (S4 Theorem 1 and Appendix C.1): A + P P^T = -I/2 + S with P_n = sqrt(n + 1/2)
 * and S skew-symmetric; S is diagonalised through the Hermitian matrix i S (complex Jacobi), so Lambda = -1/2 + i
 * omega with real omega, and V is unitary. N must be even (the eigenvalues then come in conjugate pairs).
 */
export function legsNplr(N: number): LegSNplr {
  checkInt('legsNplr', 'N', N, 2);
  if (N % 2 !== 0) throw new Error(`legsNplr: expected an even N (conjugate pairs); got ${N}`);
  const { A, B } = hippoLegS(N);
  const P = legsLowRank(N);
  // i S with S = A + P P^T + I/2: real part 0, imaginary part S.
  const H = czeros(N, N);
  for (let i = 0; i < N; i++) for (let j = 0; j < N; j++) H.im[i * N + j] = A.data[i * N + j] + P.data[i] * P.data[j] + (i === j ? 0.5 : 0);
  const { w, V } = hermitianEig(H);
  // i S v = mu v  =>  S v = -i mu v, so lambda = -1/2 - i mu; keep Im lambda > 0 (mu < 0).
  const keep = Array.from(w.keys()).filter((i) => w[i] < 0).sort((a, b) => w[b] - w[a]);
  if (keep.length !== N / 2) throw new Error(`legsNplr: expected ${N / 2} eigenvalues with positive imaginary part; got ${keep.length}`);
  const M = N / 2;
  const Vh = czeros(N, M);
  const out = { P: { re: new Float64Array(M), im: new Float64Array(M) }, B: { re: new Float64Array(M), im: new Float64Array(M) } };
  keep.forEach((col, m) => {
    for (let i = 0; i < N; i++) {
      const vr = V.re[i * N + col];
      const vi = V.im[i * N + col];
      Vh.re[i * M + m] = vr;
      Vh.im[i * M + m] = vi;
      // (V^* x)_m = sum_i conj(v_i) x_i for real x.
      out.P.re[m] += vr * P.data[i];
      out.P.im[m] -= vi * P.data[i];
      out.B.re[m] += vr * B.data[i];
      out.B.im[m] -= vi * B.data[i];
    }
  });
  return {
    lambdaRe: Float64Array.from(keep, () => -0.5),
    lambdaIm: Float64Array.from(keep, (i) => -w[i]),
    P: out.P,
    B: out.B,
    V: Vh,
  };
}

/** The parameters the S4 kernel is computed from (H channels, M = N/2 modes; complex as a trailing (re, im)). */
export interface S4KernelParams {
  /** log step size, (H). */
  readonly logDt: Tensor;
  /** log(-Re Lambda), (H, M). */
  readonly logAReal: Tensor;
  /** Im Lambda, (H, M). */
  readonly AImag: Tensor;
  /** Low-rank term P~, (H, M, 2). */
  readonly P: Tensor;
  /** B~, (H, M, 2). */
  readonly B: Tensor;
  /** C~ = C (I - Ad^L) for the kernel length L, (H, M, 2). */
  readonly C: Tensor;
}

function checkParams(op: string, p: S4KernelParams): { H: number; M: number } {
  if (!p || !p.logDt || p.logDt.ndim !== 1) throw new Error(`${op}: expected logDt of shape [H]; got ${p?.logDt ? fmt(p.logDt.shape) : 'none'}`);
  const H = p.logDt.shape[0];
  if (!p.logAReal || p.logAReal.ndim !== 2 || p.logAReal.shape[0] !== H) throw new Error(`${op}: expected logAReal of shape [H=${H}, M]; got ${p.logAReal ? fmt(p.logAReal.shape) : 'none'}`);
  const M = p.logAReal.shape[1];
  const want2 = [H, M];
  if (!p.AImag || p.AImag.ndim !== 2 || p.AImag.shape.some((s, i) => s !== want2[i])) throw new Error(`${op}: expected AImag of shape ${fmt(want2)} (as logAReal); got ${p.AImag ? fmt(p.AImag.shape) : 'none'}`);
  const want3 = [H, M, 2];
  for (const name of ['P', 'B', 'C'] as const) {
    const t = p[name];
    if (!t || t.ndim !== 3 || t.shape.some((s, i) => s !== want3[i])) {
      throw new Error(`${op}: expected ${name} of shape ${fmt(want3)} (H, M, re/im) to match logAReal ${fmt(want2)}; got ${t ? fmt(t.shape) : 'none'}`);
    }
  }
  return { H, M };
}

const cx = (t: Tensor): ComplexTensor => complex(t.select(-1, 0), t.select(-1, 1));
const complexStack = (xs: ComplexTensor[], dim: number): ComplexTensor => new ComplexTensor(stack(xs.map((x) => x.re), dim), stack(xs.map((x) => x.im), dim));

/**
 * The S4 kernel K (H, L) for the kernel length L that C~ was set up for, by Algorithm 1 (see the file comment).
 * On the unit circle the bilinear map is purely imaginary: for w_k = exp(-i theta_k), theta_k = 2 pi k / L,
 *   g(w_k) = (2/dt)(1 - w)/(1 + w) = (2 i / dt) tan(theta_k / 2),   2/(1 + w_k) = exp(i theta_k / 2) / cos(theta_k / 2),
 * so g - lambda = -Re(lambda) + i (2 tan(theta_k/2) / dt - Im(lambda)) costs one broadcast subtraction, and the
 * four Cauchy sums share their denominators: r (H, 4, F) = V (H, 4, M) @ (1 / (g - lambda)) (H, M, F) as one batched
 * complex matmul (plus the same for the implied conjugate modes). For even L the Nyquist frequency w = -1 has g
 * infinite; there K^ is its limit dt Re(sum_n C~_n B~_n) (the Woodbury term vanishes as 1/g). Differentiable in
 * every parameter. The frequencies are taken in chunks of KERNEL_CHUNK, so time grows linearly in L.
 */
export function s4Kernel(p: S4KernelParams, L: number): Tensor {
  return s4KernelChunked(p, L);
}

/** Frequency points whose Cauchy sums `s4Kernel` evaluates at once. */
const KERNEL_CHUNK = 2048;

/**
 * `s4Kernel` with the frequency chunk size as an option (internal: for tests; the package index does not export
 * it). Every frequency is computed independently of the others, so the chunk size changes only how much is held in
 * memory at once, not the math.
 */
export function s4KernelChunked(p: S4KernelParams, L: number, opts: { chunk?: number } = {}): Tensor {
  checkParams('s4Kernel', p);
  checkInt('s4Kernel', 'L', L);
  const chunk = checkInt('s4Kernel', 'opts.chunk', opts.chunk ?? KERNEL_CHUNK);
  const like = { dtype: p.logDt.dtype, backend: p.logDt.backend };
  const F = Math.floor((L - 1) / 2) + 1; // frequencies 0..F-1 with finite g; the Nyquist one (even L) is added below
  const dt = p.logDt.exp().reshape([-1, 1, 1]); // (H, 1, 1)
  const negRe = p.logAReal.exp().unsqueeze(-1); // -Re lambda > 0, (H, M, 1)
  const lamIm = p.AImag.unsqueeze(-1); // (H, M, 1)
  const P = cx(p.P);
  const B = cx(p.B);
  const C = cx(p.C);
  const CB = C.mul(B); // (H, M)
  const V = complexStack([CB, C.mul(P), P.conj().mul(B), P.conj().mul(P)], 1); // (H, 4, M): a_i b_j for r00, r01, r10, r11
  const Vc = V.conj(); // (H, 4, M), for the implied conjugate modes
  // 1 / (a + i b) = (a - i b) / (a^2 + b^2), for the modes (b = Im g - Im lambda) and their conjugates (+ Im lambda).
  const inverse = (b: Tensor) => {
    const q = negRe.square().add(b.square()).reciprocal(); // (H, M, n)
    return new ComplexTensor(negRe.mul(q), b.neg().mul(q)); // (H, M, n)
  };
  // K^ at the frequencies k0 .. k0 + n - 1: the Cauchy sums and the Woodbury correction, (H, n).
  const range = (k0: number, n: number): ComplexTensor => {
    const theta = Array.from({ length: n }, (_, k) => (2 * Math.PI * (k0 + k)) / L);
    const twoTan = tensor(theta.map((t) => 2 * Math.tan(t / 2)), { ...like, shape: [1, 1, n] }); // (1, 1, n)
    // 2 / (1 + w) = exp(i theta/2) / cos(theta/2) = 1 + i tan(theta/2), (1, n)
    const f = new ComplexTensor(tensor(theta.map(() => 1), { ...like, shape: [1, n] }), tensor(theta.map((t) => Math.tan(t / 2)), { ...like, shape: [1, n] }));
    const gIm = twoTan.div(dt); // Im g, (H, 1, n)
    const invDen = inverse(gIm.sub(lamIm)); // (H, M, n)
    const invDenConj = inverse(gIm.add(lamIm)); // (H, M, n)
    const r = V.matmul(invDen).add(Vc.matmul(invDenConj)); // (H, 4, n)
    const [r00, r01, r10, r11] = [0, 1, 2, 3].map((i) => r.map((t) => t.select(1, i))); // (H, n) each
    return r00.sub(r01.mul(r10).div(r11.add(1))).mul(f); // (H, n)
  };
  let Khat: ComplexTensor; // (H, F)
  if (F <= chunk) Khat = range(0, F);
  else {
    // In chunks of frequencies, so the (H, M, chunk) denominators stay small (at L = 16384, H = 256, M = 32 the
    // whole (H, M, F) tensors are 268 MB each in float32 and time grew ~6-8x per 4x of L); without autograd each
    // chunk's intermediates are released before the next (with it, backward needs them all anyway).
    const recording = needsGrad([p.logDt, p.logAReal, p.AImag, p.P, p.B, p.C]);
    const parts: ComplexTensor[] = [];
    for (let k0 = 0; k0 < F; k0 += chunk) {
      const n = Math.min(chunk, F - k0);
      parts.push(recording ? range(k0, n) : tidy(() => range(k0, n)));
    }
    Khat = new ComplexTensor(cat(parts.map((z) => z.re), -1), cat(parts.map((z) => z.im), -1)); // (H, F)
  }
  if (L % 2 === 0) {
    const nyquist = CB.re.sum(-1, true).mul(p.logDt.exp().unsqueeze(-1)); // (H, 1)
    Khat = new ComplexTensor(cat([Khat.re, nyquist], -1), cat([Khat.im, nyquist.mul(0)], -1)); // (H, L/2 + 1)
  }
  return irfft(Khat, { n: L }); // (H, L)
}

/** Dense recurrent-mode matrices of one channel in the full (conjugate-completed) eigenbasis, float64 on the host. */
interface ChannelSystem {
  dA: CMatrix; // (N, N)
  dB: CMatrix; // (N, 1)
}

function host(t: Tensor): Float64Array {
  return Float64Array.from(t.detach().dataSync());
}

/** Bilinear Ad, Bd for each channel, in the full basis [modes, conjugate modes]. */
function channelSystems(p: S4KernelParams): ChannelSystem[] {
  const { H, M } = checkParams('S4', p);
  const N = 2 * M;
  const logDt = host(p.logDt);
  const lar = host(p.logAReal);
  const ai = host(p.AImag);
  const P = host(p.P);
  const B = host(p.B);
  const out: ChannelSystem[] = [];
  for (let h = 0; h < H; h++) {
    const dt = Math.exp(logDt[h]);
    const full = (arr: Float64Array) => {
      const v = czeros(N, 1);
      for (let m = 0; m < M; m++) {
        v.re[m] = arr[(h * M + m) * 2];
        v.im[m] = arr[(h * M + m) * 2 + 1];
        v.re[M + m] = v.re[m];
        v.im[M + m] = -v.im[m];
      }
      return v;
    };
    const Pf = full(P);
    const Bf = full(B);
    // A = diag(Lambda) - P P^*.
    const A = czeros(N, N);
    for (let i = 0; i < N; i++) {
      for (let j = 0; j < N; j++) {
        A.re[i * N + j] = -(Pf.re[i] * Pf.re[j] + Pf.im[i] * Pf.im[j]);
        A.im[i * N + j] = -(Pf.im[i] * Pf.re[j] - Pf.re[i] * Pf.im[j]);
      }
    }
    for (let m = 0; m < M; m++) {
      const re = -Math.exp(lar[h * M + m]);
      const im = ai[h * M + m];
      A.re[m * N + m] += re;
      A.im[m * N + m] += im;
      A.re[(M + m) * N + M + m] += re;
      A.im[(M + m) * N + M + m] -= im;
    }
    const I = ceye(N);
    const left = caxpby(1, I, -dt / 2, A);
    const dA = csolve(left, caxpby(1, I, dt / 2, A));
    const dB = csolve(left, caxpby(dt, Bf, 0, Bf));
    out.push({ dA, dB });
  }
  return out;
}

/** row * M for a complex row vector (1, N). */
function rowTimes(row: CMatrix, m: CMatrix): CMatrix {
  return cmatmul(row, m);
}

/** row * M^-1 = (M^T \ row^T)^T. */
function rowSolve(row: CMatrix, m: CMatrix): CMatrix {
  const n = m.rows;
  const mt = czeros(n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
    mt.re[j * n + i] = m.re[i * n + j];
    mt.im[j * n + i] = m.im[i * n + j];
  }
  const x = csolve(mt, { rows: n, cols: 1, re: row.re, im: row.im });
  return { rows: 1, cols: n, re: x.re, im: x.im };
}

function rowFromC(C: Float64Array, h: number, M: number): CMatrix {
  const row = czeros(1, 2 * M);
  for (let m = 0; m < M; m++) {
    row.re[m] = C[(h * M + m) * 2];
    row.im[m] = C[(h * M + m) * 2 + 1];
    row.re[M + m] = row.re[m];
    row.im[M + m] = -row.im[m];
  }
  return row;
}

/**
 * C~ for kernel length L from C (in the eigenbasis, (H, M, 2) as a flat array): C~ = C (I - Ad^L). Host float64.
 * Used to set up a layer from a known C (tests, `setLMax`).
 */
export function s4CTilde(p: Omit<S4KernelParams, 'C'>, C: ArrayLike<number>, L: number): Float64Array {
  checkInt('s4CTilde', 'L', L);
  const full = { ...p, C: p.P } as S4KernelParams;
  const { H, M } = checkParams('s4CTilde', full);
  if (C.length !== H * M * 2) throw new Error(`s4CTilde: expected C with ${H * M * 2} values (H, M, 2); got ${C.length}`);
  const Cv = Float64Array.from(C);
  const out = new Float64Array(H * M * 2);
  channelSystems(full).forEach((sys, h) => {
    const I = ceye(2 * M);
    const ct = rowTimes(rowFromC(Cv, h, M), caxpby(1, I, -1, cpow(sys.dA, L)));
    for (let m = 0; m < M; m++) {
      out[(h * M + m) * 2] = ct.re[m];
      out[(h * M + m) * 2 + 1] = ct.im[m];
    }
  });
  return out;
}

export interface S4Options extends FactoryOptions {
  /** State size N (conjugate pairs included, N/2 stored modes); default 64. */
  readonly dState?: number;
  /** The kernel length C~ is set up for, the longest sequence `forward` takes without `setLMax`; default 1024. */
  readonly lMax?: number;
  /** log dt ~ U(log dtMin, log dtMax); defaults 0.001 and 0.1. */
  readonly dtMin?: number;
  readonly dtMax?: number;
}

/** The recurrent state of an S4 layer: x (B, H, N) complex in the full eigenbasis. */
export interface S4State {
  readonly re: Tensor;
  readonly im: Tensor;
}

/** The recurrent-mode system, computed once by `setupStep`: Ad (H, N, N), Bd (H, N), C (H, N), complex. */
interface StepSystem {
  readonly dA: ComplexTensor;
  readonly dB: ComplexTensor;
  readonly C: ComplexTensor;
  readonly lMax: number;
  /** The parameter tensors and versions it was computed from, to notice an optimizer step or a load. */
  readonly from: readonly (readonly [Tensor, number])[];
}

/**
 * The S4 layer (Gu et al. 2021) on u (B, H, L): y = output_linear(GELU(K * u + D u)), the same block around the
 * kernel as S4D (Conv1d(H, 2H, 1) then GLU over channels). A, P, B start from HiPPO-LegS's DPLR form in every
 * channel, log dt ~ U(log 0.001, log 0.1), C~ ~ complex normal. Train with `forward` (FFT convolution); run step
 * by step with `initialState` and `step`. The recurrent system is computed on the host once and recomputed when a
 * kernel parameter changes (an optimizer step or a state_dict load bumps its version).
 */
export class S4 extends Module {
  readonly D: Tensor;
  readonly ssmKernel: S4KernelModule;
  readonly outputLinear: Sequential;
  readonly dModel: number;
  readonly dState: number;
  private lMaxValue: number;
  private stepSystem: StepSystem | null = null;

  constructor(dModel: number, opts: S4Options = {}) {
    super();
    this.dModel = checkInt('S4', 'dModel', dModel);
    this.dState = checkInt('S4', 'opts.dState', opts.dState ?? 64, 2);
    if (this.dState % 2 !== 0) throw new Error(`S4: expected opts.dState to be even (N/2 conjugate pairs); got ${this.dState}`);
    this.lMaxValue = checkInt('S4', 'opts.lMax', opts.lMax ?? 1024);
    const dtMin = opts.dtMin ?? 0.001;
    const dtMax = opts.dtMax ?? 0.1;
    if (!(dtMin > 0 && dtMax >= dtMin && Number.isFinite(dtMax))) {
      throw new Error(`S4: expected 0 < opts.dtMin <= opts.dtMax; got dtMin ${dtMin}, dtMax ${dtMax}`);
    }
    const H = this.dModel;
    const M = this.dState / 2;
    const dtype = opts.dtype ?? 'float32';
    const t = { dtype, backend: opts.backend, generator: opts.generator };
    const nplr = legsNplr(this.dState);
    const perChannel = (f: (m: number) => number) => tensor(Array.from({ length: H }, () => Array.from({ length: M }, (_, m) => f(m))), { dtype, backend: opts.backend });
    const complexPerChannel = (v: { re: Float64Array; im: Float64Array }) =>
      tensor(Array.from({ length: H }, () => Array.from({ length: M }, (_, m) => [v.re[m], v.im[m]])), { dtype, backend: opts.backend });
    this.D = this.registerParameter('D', randn([H], t));
    this.ssmKernel = this.registerModule(
      'kernel',
      new S4KernelModule({
        logDt: uniform([H], Math.log(dtMin), Math.log(dtMax), t),
        logAReal: perChannel((m) => Math.log(-nplr.lambdaRe[m])),
        AImag: perChannel((m) => nplr.lambdaIm[m]),
        P: complexPerChannel(nplr.P),
        B: complexPerChannel(nplr.B),
        C: randn([H, M, 2], t).mul(Math.SQRT1_2).detach(),
      }),
    );
    this.outputLinear = this.registerModule('output_linear', new Sequential(new Conv1d(H, 2 * H, 1, { ...t }), new ChannelGLU()));
  }

  /** The kernel length C~ is set up for. */
  get lMax(): number {
    return this.lMaxValue;
  }

  /** The SSM parameters that take a smaller learning rate and no weight decay (S4's training recipe). */
  ssmParameters(): Tensor[] {
    const k = this.ssmKernel;
    return [k.logDt, k.logAReal, k.AImag, k.P, k.B];
  }

  params(): S4KernelParams {
    const k = this.ssmKernel;
    return { logDt: k.logDt, logAReal: k.logAReal, AImag: k.AImag, P: k.P, B: k.B, C: k.C };
  }

  /** The convolution kernel (H, L) for L <= lMax (the length-lMax kernel, truncated). */
  kernel(L: number = this.lMaxValue): Tensor {
    checkInt('S4.kernel', 'L', L);
    if (L > this.lMaxValue) throw new Error(`S4.kernel: L = ${L} exceeds lMax = ${this.lMaxValue}; call setLMax(${L}) first (it recomputes C~ for the longer kernel)`);
    const K = s4Kernel(this.params(), this.lMaxValue); // (H, lMax)
    return L === this.lMaxValue ? K : narrow(K, 1, 0, L); // (H, L)
  }

  /**
   * Re-target C~ to a new kernel length (S4's C~ depends on L): C~' = C~ (I - Ad^L)^-1 (I - Ad^L'). The kernel of
   * the first min(L, L') steps is unchanged.
   */
  setLMax(L: number): void {
    checkInt('S4.setLMax', 'L', L);
    const p = this.params();
    const { H, M } = checkParams('S4.setLMax', p);
    const C = host(p.C);
    const next = new Float64Array(H * M * 2);
    channelSystems(p).forEach((sys, h) => {
      const I = ceye(2 * M);
      const c = rowSolve(rowFromC(C, h, M), caxpby(1, I, -1, cpow(sys.dA, this.lMaxValue)));
      const ct = rowTimes(c, caxpby(1, I, -1, cpow(sys.dA, L)));
      for (let m = 0; m < M; m++) {
        next[(h * M + m) * 2] = ct.re[m];
        next[(h * M + m) * 2 + 1] = ct.im[m];
      }
    });
    noGrad(() => p.C.copy_(tensor(Array.from(next), { shape: [H, M, 2], dtype: p.C.dtype, backend: p.C.backend })));
    this.lMaxValue = L;
    this.stepSystem = null;
  }

  private checkInput(op: string, u: Tensor, rank: number): void {
    if (!u || u.ndim !== rank || u.shape[1] !== this.dModel) {
      throw new Error(`S4.${op}: expected u of shape ${rank === 3 ? '[B, H, L]' : '[B, H]'} with H = ${this.dModel}; got ${u ? fmt(u.shape) : String(u)}`);
    }
  }

  /** u (B, H, L) -> y (B, H, L) by FFT convolution, L <= lMax. Pass a precomputed `kernel` (H, L' >= L) to reuse it. */
  forward(u: Tensor, opts: { kernel?: Tensor } = {}): Tensor {
    this.checkInput('forward', u, 3);
    const L = u.shape[2];
    if (!opts.kernel && L > this.lMaxValue) throw new Error(`S4.forward: the sequence has length ${L} > lMax = ${this.lMaxValue}; call setLMax(${L}) first (it recomputes C~)`);
    const K = opts.kernel ?? this.kernel(L); // (H, L)
    const y = fftConv(u, K).add(u.mul(this.D.unsqueeze(-1))); // (B, H, L)
    return this.outputLinear.call(y.gelu()) as Tensor; // (B, H, L)
  }

  /** Compute the recurrent-mode system (Ad, Bd, C = C~ (I - Ad^lMax)^-1) from the current parameters (no gradient). */
  setupStep(): void {
    const p = this.params();
    const { H, M } = checkParams('S4.setupStep', p);
    const N = 2 * M;
    const C = host(p.C);
    const arr = { aRe: [] as number[], aIm: [] as number[], bRe: [] as number[], bIm: [] as number[], cRe: [] as number[], cIm: [] as number[] };
    channelSystems(p).forEach((sys, h) => {
      const c = rowSolve(rowFromC(C, h, M), caxpby(1, ceye(N), -1, cpow(sys.dA, this.lMaxValue)));
      arr.aRe.push(...sys.dA.re);
      arr.aIm.push(...sys.dA.im);
      arr.bRe.push(...sys.dB.re);
      arr.bIm.push(...sys.dB.im);
      arr.cRe.push(...c.re);
      arr.cIm.push(...c.im);
    });
    const o = { dtype: p.C.dtype, backend: p.C.backend };
    const mk = (re: number[], im: number[], shape: number[]) => new ComplexTensor(tensor(re, { ...o, shape }), tensor(im, { ...o, shape }));
    this.stepSystem = {
      dA: mk(arr.aRe, arr.aIm, [H, N, N]),
      dB: mk(arr.bRe, arr.bIm, [H, N]),
      C: mk(arr.cRe, arr.cIm, [H, N]),
      lMax: this.lMaxValue,
      from: this.kernelTensors().map((t) => [t, t.version] as const),
    };
  }

  private kernelTensors(): Tensor[] {
    const p = this.params();
    return [p.logDt, p.logAReal, p.AImag, p.P, p.B, p.C];
  }

  /** Whether the recurrent system is missing or was computed from other parameter values. */
  private stepSystemStale(): boolean {
    const sys = this.stepSystem;
    if (!sys || sys.lMax !== this.lMaxValue) return true;
    const now = this.kernelTensors();
    return sys.from.some(([t, v], i) => t !== now[i] || t.version !== v);
  }

  /** A zero state for `batch` sequences (sets up the recurrent system if needed). */
  initialState(batch: number): S4State {
    checkInt('S4.initialState', 'batch', batch);
    if (this.stepSystemStale()) this.setupStep();
    const z = zeros([batch, this.dModel, this.dState], { dtype: this.D.dtype, backend: this.D.backend });
    return { re: z, im: z };
  }

  /** One recurrent step: u (B, H) and the state after u_{k-1} -> y_k (B, H) and the new state. */
  step(u: Tensor, state: S4State): { y: Tensor; state: S4State } {
    this.checkInput('step', u, 2);
    const want = [u.shape[0], this.dModel, this.dState];
    for (const [name, t] of [['re', state?.re], ['im', state?.im]] as const) {
      if (!t || t.ndim !== 3 || t.shape.some((s, i) => s !== want[i])) {
        throw new Error(`S4.step: expected state.${name} of shape ${fmt(want)} (batch, dModel, dState) from this layer's initialState; got ${t ? fmt(t.shape) : String(t)}`);
      }
    }
    if (this.stepSystemStale()) this.setupStep();
    const sys = this.stepSystem!;
    const x0 = new ComplexTensor(state.re, state.im).map((t) => t.unsqueeze(-1)); // (B, H, N, 1)
    const x = sys.dA.matmul(x0).map((t) => t.squeeze(-1)).add(sys.dB.mul(u.unsqueeze(-1))); // (B, H, N)
    // The full basis holds each mode and its conjugate, so C x is real up to rounding.
    const yc = sys.C.mul(x).sum(-1).re.add(u.mul(this.D)); // (B, H)
    const y = (this.outputLinear.call(yc.gelu().unsqueeze(-1)) as Tensor).squeeze(-1); // (B, H)
    return { y, state: { re: x.re, im: x.im } };
  }
}

/** Holds the S4 kernel parameters under the state_dict prefix `kernel.`. */
export class S4KernelModule extends Module {
  readonly logDt: Tensor;
  readonly C: Tensor;
  readonly B: Tensor;
  readonly P: Tensor;
  readonly logAReal: Tensor;
  readonly AImag: Tensor;

  constructor(p: S4KernelParams) {
    super();
    this.logDt = this.registerParameter('log_dt', p.logDt);
    this.C = this.registerParameter('C', p.C);
    this.B = this.registerParameter('B', p.B);
    this.P = this.registerParameter('P', p.P);
    this.logAReal = this.registerParameter('log_A_real', p.logAReal);
    this.AImag = this.registerParameter('A_imag', p.AImag);
  }

  forward(): never {
    throw new Error('S4KernelModule: call S4.kernel(L) instead');
  }
}
