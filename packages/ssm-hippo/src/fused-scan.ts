/**
 * A fused selective-scan recurrence on the host: h_t = exp(delta_t A) h_{t-1} + delta_t B_t u_t, y_t = C_t . h_t,
 * for every (batch, channel) in one loop over plain arrays, with a hand-written backward (the reverse scan below).
 * Nothing of size (B, D, L, N) is materialised: the backward recomputes one channel's L x N states at a time.
 * This is the CPU fast path of `selectiveScan({ mode: 'fused' })`; it needs a synchronous backend (it reads its
 * inputs with dataSync), and its backward is not itself recorded (no createGraph).
 *
 * The step delta may arrive raw, with the delta bias and the softplus folded into the loop (delta = softplus(raw +
 * bias), linear above 20 as torch's softplus): on the reference kernels those two elementwise passes over (B, D, L)
 * cost about as much as a tenth of the whole Mamba block.
 *
 * Gradients (g_t = dL/dh_t, accumulated from the last step down; a_t = exp(delta_t A)):
 *   g_t = a_{t+1} g_{t+1} + dy_t C_t,   dC_t += dy_t h_t,   dB_t += g_t delta_t u_t,   du_t += g_t . B_t delta_t,
 *   ddelta_t += g_t . (a_t A h_{t-1} + B_t u_t),   dA += g_t a_t delta_t h_{t-1},   dh0 = a_0 g_0;
 * through the folded softplus, draw_t = ddelta_t sigmoid(raw_t + bias) (1 above the threshold), dbias = sum draw_t.
 */
import { Tensor, needsGrad, record, tensor } from '@formers/tensor-core';

/** The wasm backend's fused recurrence (gpu-kernels), when the backend has one. */
type SelectiveScanF32 = (
  u: Float32Array, delta: Float32Array, A: Float32Array, B: Float32Array, C: Float32Array, h0: Float32Array | null,
  nb: number, D: number, L: number, N: number,
) => { y: Float32Array; last: Float32Array } | null;

/** (nb, N, L) to (nb, L, N). */
function stepMajor(x: Float64Array, nb: number, N: number, L: number): Float64Array {
  const out = new Float64Array(x.length);
  for (let b = 0; b < nb; b++) {
    for (let n = 0; n < N; n++) {
      const from = (b * N + n) * L;
      for (let t = 0; t < L; t++) out[(b * L + t) * N + n] = x[from + t];
    }
  }
  return out;
}

function host(t: Tensor): Float64Array {
  return Float64Array.from(t.contiguous().dataSync());
}

/** How `fusedSelectiveRecurrence` turns its `delta` argument into the step: delta = softplus?(delta + deltaBias). */
export interface FusedDeltaOptions {
  /** (D), added to delta first. */
  readonly deltaBias?: Tensor | null;
  readonly deltaSoftplus?: boolean;
}

/** torch.nn.functional.softplus with beta 1 and threshold 20. */
const SOFTPLUS_THRESHOLD = 20;

/**
 * The step in place of the raw delta (rows of L per (batch, channel), channel = row mod D): delta + bias, through
 * softplus when `soft` (linear above the threshold, as torch's). Computed in float64 and stored once (rounded to
 * float32 for a Float32Array). `slope`, when given, receives d(step)/d(raw) for the backward.
 */
function foldStep(dt: Float64Array | Float32Array, bias: ArrayLike<number> | null, soft: boolean, D: number, L: number, slope: Float64Array | null): void {
  if (L === 0) return;
  for (let row = 0; row * L < dt.length; row++) {
    const shift = bias ? bias[row % D] : 0;
    for (let i = row * L; i < (row + 1) * L; i++) {
      const x = dt[i] + shift;
      const linear = !soft || x > SOFTPLUS_THRESHOLD;
      dt[i] = linear ? x : Math.log1p(Math.exp(x));
      if (slope) slope[i] = linear ? 1 : 1 / (1 + Math.exp(-x));
    }
  }
}

/**
 * y (B, D, L) and the last state (B, D, N) of the selective recurrence; u, delta (B, D, L), A (D, N), B, C (B, N, L),
 * h0 (B, D, N) or null. Shapes are checked by the caller (`selectiveScan`).
 */
export function fusedSelectiveRecurrence(
  u: Tensor,
  delta: Tensor,
  A: Tensor,
  B: Tensor,
  C: Tensor,
  h0: Tensor | null,
  deltaOpts: FusedDeltaOptions = {},
): { y: Tensor; lastState: Tensor } {
  const [nb, nd, L] = u.shape;
  const N = A.shape[1];
  const bias = deltaOpts.deltaBias ?? null;
  const inputs = [u, delta, A, B, C, ...(h0 ? [h0] : []), ...(bias ? [bias] : [])];
  const simd = u.dtype === 'float32' ? (u.backend as { selectiveScanF32?: SelectiveScanF32 }).selectiveScanF32 : undefined;
  if (simd && !needsGrad(inputs)) {
    const r = inferF32(simd, u, delta, A, B, C, h0, deltaOpts);
    if (r) return r;
  }
  const U = host(u);
  const soft = deltaOpts.deltaSoftplus ?? false;
  const DT = host(delta);
  // The step in place of the raw delta, and d(step)/d(raw) where the softplus is folded in.
  const SLOPE = soft ? new Float64Array(DT.length) : null;
  if (bias || soft) foldStep(DT, bias ? host(bias) : null, soft, nd, L, SLOPE);
  const AA = host(A);
  const BB = host(B);
  const CC = host(C);
  const H0 = h0 ? host(h0) : null;
  // B and C step-major, (b, L, N): each step's N values are adjacent, where (b, N, L) put them L apart and every
  // channel walked B and C with a stride of L.
  const BT = stepMajor(BB, nb, N, L);
  const CT = stepMajor(CC, nb, N, L);
  const o = { dtype: u.dtype, backend: u.backend };
  // float32 on a backend with the fused SIMD recurrence (gpu-kernels' wasm backend): the same recurrence with
  // float32 states, as mamba_ssm's kernels keep them, about 5x faster than the loop below. The backward below
  // always recomputes in float64 on the host.
  const fast = simd
    ? simd(Float32Array.from(U), Float32Array.from(DT), Float32Array.from(AA), Float32Array.from(BT), Float32Array.from(CT), H0 ? Float32Array.from(H0) : null, nb, nd, L, N)
    : null;
  let y: Tensor;
  let lastState: Tensor;
  if (fast) {
    y = Tensor.fromData(u.backend, 'float32', [nb, nd, L], fast.y); // the backend's own buffers, adopted
    lastState = Tensor.fromData(u.backend, 'float32', [nb, nd, N], fast.last);
  } else {
    const Y = new Float64Array(nb * nd * L);
    const last = new Float64Array(nb * nd * N);
    const h = new Float64Array(N);
    for (let b = 0; b < nb; b++) {
      for (let d = 0; d < nd; d++) {
        const bd = b * nd + d;
        for (let n = 0; n < N; n++) h[n] = H0 ? H0[bd * N + n] : 0;
        for (let t = 0; t < L; t++) {
          const dt = DT[bd * L + t];
          const du = dt * U[bd * L + t];
          const at = (b * L + t) * N;
          let acc = 0;
          for (let n = 0; n < N; n++) {
            const hn = Math.exp(dt * AA[d * N + n]) * h[n] + du * BT[at + n];
            h[n] = hn;
            acc += hn * CT[at + n];
          }
          Y[bd * L + t] = acc;
        }
        last.set(h, bd * N);
      }
    }
    y = tensor(u.dtype === 'float64' ? Y : Float32Array.from(Y), { ...o, shape: [nb, nd, L] });
    lastState = tensor(u.dtype === 'float64' ? last : Float32Array.from(last), { ...o, shape: [nb, nd, N] });
  }
  record('fusedSelectiveRecurrence', inputs, [y, lastState], (gs) => {
    const GY = gs[0] ? host(gs[0]) : null;
    const GL = gs[1] ? host(gs[1]) : null;
    const dU = new Float64Array(U.length);
    const dDT = new Float64Array(DT.length);
    const dA = new Float64Array(AA.length);
    const dB = new Float64Array(BB.length);
    const dC = new Float64Array(CC.length);
    const dH0 = new Float64Array(nb * nd * N);
    const states = new Float64Array((L + 1) * N); // states[t + 1] = h_t, states[0] = h0
    const g = new Float64Array(N);
    for (let b = 0; b < nb; b++) {
      for (let d = 0; d < nd; d++) {
        const bd = b * nd + d;
        for (let n = 0; n < N; n++) states[n] = H0 ? H0[bd * N + n] : 0;
        for (let t = 0; t < L; t++) {
          const dt = DT[bd * L + t];
          const du = dt * U[bd * L + t];
          for (let n = 0; n < N; n++) states[(t + 1) * N + n] = Math.exp(dt * AA[d * N + n]) * states[t * N + n] + du * BB[(b * N + n) * L + t];
        }
        for (let n = 0; n < N; n++) g[n] = GL ? GL[bd * N + n] : 0;
        for (let t = L - 1; t >= 0; t--) {
          const dt = DT[bd * L + t];
          const ut = U[bd * L + t];
          const gy = GY ? GY[bd * L + t] : 0;
          let gdt = 0;
          let gu = 0;
          for (let n = 0; n < N; n++) {
            const bnt = (b * N + n) * L + t;
            const an = AA[d * N + n];
            const a = Math.exp(dt * an);
            const hPrev = states[t * N + n];
            g[n] += gy * CC[bnt];
            dC[bnt] += gy * states[(t + 1) * N + n];
            const gn = g[n];
            dB[bnt] += gn * dt * ut;
            gu += gn * dt * BB[bnt];
            gdt += gn * (a * an * hPrev + BB[bnt] * ut);
            dA[d * N + n] += gn * a * dt * hPrev;
            g[n] = gn * a;
          }
          dDT[bd * L + t] = SLOPE ? gdt * SLOPE[bd * L + t] : gdt;
          dU[bd * L + t] = gu;
        }
        for (let n = 0; n < N; n++) dH0[bd * N + n] = g[n];
      }
    }
    const mk = (data: Float64Array, like: Tensor) => tensor(like.dtype === 'float64' ? data : Float32Array.from(data), { dtype: like.dtype, backend: like.backend, shape: [...like.shape] });
    const grads = [mk(dU, u), mk(dDT, delta), mk(dA, A), mk(dB, B), mk(dC, C)];
    if (h0) grads.push(mk(dH0, h0));
    if (bias) {
      // dbias[d] = sum over batch and time of d(raw delta).
      const dBias = new Float64Array(nd);
      for (let bd = 0; bd < nb * nd; bd++) for (let t = 0; t < L; t++) dBias[bd % nd] += dDT[bd * L + t];
      grads.push(mk(dBias, bias));
    }
    return grads;
  });
  return { y, lastState };
}

/** Call `fn` with the backend buffers of `ts` (temporary copies of strided views; see Tensor.withBuffer). */
function withBuffers<R>(ts: readonly Tensor[], fn: (buffers: unknown[]) => R, got: unknown[] = []): R {
  return ts.length === got.length ? fn(got) : ts[got.length].withBuffer((b) => withBuffers(ts, fn, [...got, b]));
}

/**
 * Inference (nothing records gradients) on a backend with the float32 SIMD recurrence: the inputs' own buffers go
 * to the kernel (B and C as step-major temporaries), and only the step is copied when the bias and softplus are
 * folded in, where the general path above keeps float64 host copies of everything for its backward (at L = 16384
 * those copies and their garbage collection took most of the time, and grew faster than L). Null when the backend
 * declines (N not a multiple of 4) or does not keep float32 tensors in Float32Arrays.
 */
function inferF32(
  simd: SelectiveScanF32, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, h0: Tensor | null, deltaOpts: FusedDeltaOptions,
): { y: Tensor; lastState: Tensor } | null {
  const [nb, nd, L] = u.shape;
  const N = A.shape[1];
  const bias = deltaOpts.deltaBias ? (deltaOpts.deltaBias.contiguous().dataSync() as Float32Array) : null;
  const soft = deltaOpts.deltaSoftplus ?? false;
  let step: Float32Array | null = null;
  if (bias || soft) {
    step = delta.contiguous().dataSync() as Float32Array; // a fresh copy: ours to overwrite with the step
    foldStep(step, bias, soft, nd, L, null);
  }
  // B, C (nb, N, L) -> (nb, L, N) step-major: transposed views, which withBuffer hands over as row-major copies.
  const ins = [u, step === null ? delta : null, A, B.transpose(1, 2), C.transpose(1, 2), h0].filter((t): t is Tensor => t !== null);
  const r = withBuffers(ins, (bufs) => {
    if (!bufs.every((b) => b instanceof Float32Array)) return null;
    const [bu, ...rest] = bufs as Float32Array[];
    const bdt = step ?? rest.shift()!;
    const [bA, bB, bC, bh0] = rest;
    return simd(bu, bdt, bA, bB, bC, h0 ? bh0 : null, nb, nd, L, N);
  });
  if (r === null) return null;
  // The results are the backend's own buffers (resident in its memory on wasm): adopted, not copied again.
  return { y: Tensor.fromData(u.backend, 'float32', [nb, nd, L], r.y), lastState: Tensor.fromData(u.backend, 'float32', [nb, nd, N], r.last) };
}
