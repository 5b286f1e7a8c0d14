/**
 * The selective scan of Mamba (Gu and Dao 2023, "Mamba: Linear-Time Sequence Modeling with Selective State
 * Spaces", Algorithm 2). With input-dependent step delta, B and C, per channel d and state n:
 *
 *   dA_t = exp(delta_t A)            (ZOH for A)
 *   dBu_t = delta_t B_t u_t          (the simplified Euler step for B, as the reference kernels)
 *   h_t = dA_t h_{t-1} + dBu_t,      y_t = C_t . h_t + D u_t,      y_t <- y_t * SiLU(z_t)
 *
 * Arguments and layouts follow mamba_ssm's `selective_scan_fn`: u, delta, z (B, D, L); A (D, N); B, C (B, N, L);
 * D, delta_bias (D). Four ways compute the same thing: 'sequential' (one step at a time in tensor ops, the
 * reference), 'parallel' (all channels and states at once through the `linearRecurrence` scan primitive, in chunks
 * of `chunkSize` steps so that the (B, D, L, N) state never has to exist whole), 'associative' (a log-depth
 * Hillis-Steele scan composed from elementwise tensor ops, Blelloch 1990 / Martin and Cundy 2018, the form a GPU
 * runs in parallel), 'fused' (one host loop over plain arrays with a hand-written backward, fused-scan.ts: the fast
 * CPU path, synchronous backends only), and `selectiveStateUpdate` for one step at inference.
 */
import { fusedSelectiveRecurrence } from './fused-scan.js';
import { cat, linearRecurrence, narrow, needsGrad, ones, softplus, stack, tidy, zeros, type Tensor } from '@formers/tensor-core';

export interface SelectiveScanOptions {
  /** Skip connection D, (D). */
  readonly D?: Tensor | null;
  /** Gate z (B, D, L): y is multiplied by SiLU(z). */
  readonly z?: Tensor | null;
  /** Added to delta before the softplus, (D). */
  readonly deltaBias?: Tensor | null;
  /** Apply softplus to delta (+ deltaBias); default false, as mamba_ssm. */
  readonly deltaSoftplus?: boolean;
  /** 'parallel' (default), 'associative', 'sequential' or 'fused' (synchronous backends). */
  readonly mode?: SelectiveScanMode;
  /** Steps per chunk in 'parallel' mode (bounds the memory of the materialised state); default 256. */
  readonly chunkSize?: number;
  /** Initial state (B, D, N); zeros when omitted. */
  readonly h0?: Tensor | null;
}

/** How `selectiveScan` runs the recurrence; every mode gives the same result. */
export type SelectiveScanMode = 'parallel' | 'associative' | 'sequential' | 'fused';

export interface SelectiveScanResult {
  /** (B, D, L). */
  readonly y: Tensor;
  /** The state after the last step, (B, D, N). */
  readonly lastState: Tensor;
}

function fmt(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}

function expectShape(op: string, name: string, t: Tensor | null | undefined, want: readonly number[], legend: string): void {
  if (!t) throw new Error(`${op}: expected ${name} of shape ${fmt(want)} ${legend}; got ${String(t)}`);
  if (t.ndim !== want.length || t.shape.some((s, i) => s !== want[i])) {
    throw new Error(`${op}: expected ${name} of shape ${fmt(want)} ${legend}; got ${fmt(t.shape)}`);
  }
}

/** Validate the scan's arguments; returns (batch, channels, length, state). */
function checkScan(op: string, u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, o: SelectiveScanOptions): [number, number, number, number] {
  if (u.ndim !== 3) throw new Error(`${op}: expected u of shape [B, D, L]; got ${fmt(u.shape)}`);
  const [b, d, l] = u.shape;
  if (A.ndim !== 2 || A.shape[0] !== d) throw new Error(`${op}: expected A of shape [D=${d}, N]; got ${fmt(A.shape)}`);
  const n = A.shape[1];
  expectShape(op, 'delta', delta, [b, d, l], '(B, D, L), as u');
  expectShape(op, 'B', B, [b, n, l], '(B, N, L)');
  expectShape(op, 'C', C, [b, n, l], '(B, N, L)');
  if (o.D) expectShape(op, 'opts.D', o.D, [d], '(D)');
  if (o.z) expectShape(op, 'opts.z', o.z, [b, d, l], '(B, D, L), as u');
  if (o.deltaBias) expectShape(op, 'opts.deltaBias', o.deltaBias, [d], '(D)');
  if (o.h0) expectShape(op, 'opts.h0', o.h0, [b, d, n], '(B, D, N)');
  if (o.mode !== undefined && !['parallel', 'sequential', 'associative', 'fused'].includes(o.mode)) {
    throw new Error(`${op}: expected opts.mode 'parallel', 'associative', 'sequential' or 'fused'; got ${JSON.stringify(o.mode)}`);
  }
  if (o.chunkSize !== undefined && !(Number.isInteger(o.chunkSize) && o.chunkSize >= 1)) {
    throw new Error(`${op}: expected opts.chunkSize to be an integer >= 1; got ${JSON.stringify(o.chunkSize)}`);
  }
  return [b, d, l, n];
}

function effectiveDelta(delta: Tensor, o: SelectiveScanOptions, biasShape: number[]): Tensor {
  let dt = o.deltaBias ? delta.add(o.deltaBias.reshape(biasShape)) : delta;
  if (o.deltaSoftplus) dt = softplus(dt);
  return dt;
}

function finish(y: Tensor, u: Tensor, o: SelectiveScanOptions, dShape: number[], z: Tensor | null | undefined): Tensor {
  let out = o.D ? y.add(u.mul(o.D.reshape(dShape))) : y;
  if (z) out = out.mul(z.silu());
  return out;
}

/** The selective scan; see the file comment. Differentiable in every tensor argument. */
export function selectiveScan(u: Tensor, delta: Tensor, A: Tensor, B: Tensor, C: Tensor, opts: SelectiveScanOptions = {}): SelectiveScanResult {
  const [, , L] = checkScan('selectiveScan', u, delta, A, B, C, opts);
  if (opts.mode === 'fused') {
    // The delta bias and softplus are folded into the host loop (see fused-scan.ts).
    const r = fusedSelectiveRecurrence(u, delta, A, B, C, opts.h0 ?? null, opts); // (B, D, L), (B, D, N)
    return { y: finish(r.y, u, opts, [1, -1, 1], opts.z), lastState: r.lastState };
  }
  const dt = effectiveDelta(delta, opts, [1, -1, 1]); // (B, D, L)
  if ((opts.mode ?? 'parallel') === 'sequential') {
    let h = opts.h0 ?? u.select(-1, 0).unsqueeze(-1).mul(A.unsqueeze(0)).mul(0); // (B, D, N)
    const ys: Tensor[] = [];
    // Step-major copies, so that step t's slices are contiguous rows: selecting step t of a (B, D, L) tensor
    // directly gathers elements L apart, and those gathers miss the caches more the longer the sequence.
    const dtS = dt.transpose(1, 2).contiguous(); // (B, L, D)
    const uS = u.transpose(1, 2).contiguous(); // (B, L, D)
    const BS = B.transpose(1, 2).contiguous(); // (B, L, N)
    const CS = C.transpose(1, 2).contiguous(); // (B, L, N)
    const step = (t: number, prev: Tensor): [Tensor, Tensor] => {
      const dtT = dtS.select(1, t).unsqueeze(-1); // (B, D, 1)
      const dA = dtT.mul(A).exp(); // (B, D, N)
      const dBu = dtT.mul(BS.select(1, t).unsqueeze(1)).mul(uS.select(1, t).unsqueeze(-1)); // (B, D, N)
      const next = dA.mul(prev).add(dBu); // (B, D, N)
      return [next, next.mul(CS.select(1, t).unsqueeze(1)).sum(-1)]; // (B, D, N), (B, D)
    };
    // Without autograd each step's intermediates are released at once (else L steps' worth, gigabytes at
    // L = 16384, stay alive until the caller's scope ends and the time grows faster than L).
    const recording = needsGrad(opts.h0 ? [u, dt, A, B, C, opts.h0] : [u, dt, A, B, C]);
    for (let t = 0; t < L; t++) {
      if (recording) {
        const [next, yT] = step(t, h);
        h = next;
        ys.push(yT);
      } else {
        const prev = h;
        const [next, yT] = tidy(() => step(t, prev));
        if (prev !== opts.h0 && t > 0) prev.dispose();
        h = next;
        ys.push(yT);
      }
    }
    const y = stack(ys, -1); // (B, D, L)
    return { y: finish(y, u, opts, [1, -1, 1], opts.z), lastState: h };
  }
  if (opts.mode === 'associative') {
    const Bt = B.transpose(1, 2).unsqueeze(1); // (B, 1, L, N)
    const Ct = C.transpose(1, 2).unsqueeze(1); // (B, 1, L, N)
    const dtE = dt.unsqueeze(-1); // (B, D, L, 1)
    const dA = dtE.mul(A.unsqueeze(1)).exp(); // (B, D, L, N)
    const dBu = dt.mul(u).unsqueeze(-1).mul(Bt); // (B, D, L, N): delta u first, on the small (B, D, L) tensor
    const h = associativeScan(dA, dBu, opts.h0 ?? null); // (B, D, L, N)
    const y = h.mul(Ct).sum(-1); // (B, D, L)
    return { y: finish(y, u, opts, [1, -1, 1], opts.z), lastState: h.select(2, L - 1) };
  }
  return parallelScan(u, dt, A, B, C, opts, L);
}

/** Default steps per chunk of the 'parallel' scan; see `parallelScan` for why this size. */
const DEFAULT_CHUNK_SIZE = 256;

/**
 * The 'parallel' mode: chunks of T steps, each chunk's states from one `linearRecurrence` call started at the
 * previous chunk's last state. Per chunk it materialises five (B, D, T, N) tensors (delta A, its exp, delta B u,
 * the states, and the C-weighted states that the sum over N reduces), and nothing of length L beyond
 * (B, D, L) and (B, L, N). Choices, measured at the bench's size (E = 512, N = 16, L = 16384):
 * - without autograd recording, every chunk runs in its own `tidy`, so that its intermediates are released before
 *   the next chunk (otherwise all L / T chunks' tensors, about 2.5 GB here, stay alive until the caller's scope
 *   ends, and the first runs spent most of their time faulting in fresh memory);
 * - delta, delta u, B and C are copied once into chunk-major layouts, so that every chunk reads contiguous
 *   blocks: B and C's transposed views would make every broadcast product walk N with a stride of L, and a
 *   kernel that stages a strided view's whole span would copy O(L) per chunk;
 * - delta A is a batched outer product (B, D, T, 1) @ (D, 1, N) through `matmul` rather than a broadcast `mul`:
 *   the same single rounded product per element, on the backend's matrix kernel instead of its broadcast loop;
 * - T = 256 by default: 32, 64, 128 and 256 took the same time there within the noise of a shared machine, and
 *   longer chunks mean fewer op calls, which matter most when D N is small.
 */
function parallelScan(u: Tensor, dt: Tensor, A: Tensor, B: Tensor, C: Tensor, opts: SelectiveScanOptions, L: number): SelectiveScanResult {
  const [b, d] = u.shape;
  const N = A.shape[1];
  const T = Math.min(opts.chunkSize ?? DEFAULT_CHUNK_SIZE, L);
  const full = Math.floor(L / T); // chunks of exactly T steps; a shorter tail chunk follows when T does not divide L
  const du = dt.mul(u); // (B, D, L): delta u on the small tensor, so delta B u is one broadcast product
  // Chunk-major copies, made once: chunk c of each is then a contiguous block, where a narrow of the (B, D, L)
  // originals is a view whose rows lie L apart, which kernels that stage a view's whole span copy L / T times over.
  const byChunk = (x: Tensor, inner: number[], order: number[]) => narrow(x, 2, 0, full * T).reshape([b, ...inner, full, T]).permute(order).contiguous();
  const dtC = byChunk(dt, [d], [2, 0, 1, 3]); // (B, D, L) -> (B, D, nc, T) -> (nc, B, D, T)
  const duC = byChunk(du, [d], [2, 0, 1, 3]); // (B, D, L) -> (B, D, nc, T) -> (nc, B, D, T)
  const BC = byChunk(B, [N], [2, 0, 3, 1]); // (B, N, L) -> (B, N, nc, T) -> (nc, B, T, N)
  const CC = byChunk(C, [N], [2, 0, 3, 1]); // (B, N, L) -> (B, N, nc, T) -> (nc, B, T, N)
  // Chunk c's delta (B, D, T), delta u (B, D, T), B and C (B, T, N); the tail chunk straight from the originals.
  const part = (c: number, s: number, n: number): [Tensor, Tensor, Tensor, Tensor] =>
    c < full
      ? [dtC.select(0, c), duC.select(0, c), BC.select(0, c), CC.select(0, c)]
      : [narrow(dt, 2, s, n), narrow(du, 2, s, n), narrow(B, 2, s, n).transpose(1, 2), narrow(C, 2, s, n).transpose(1, 2)];
  const Ar = A.unsqueeze(1); // (D, 1, N): one row per channel for the batched outer product
  // One chunk: its outputs (B, D, T) and its last state (B, D, N), from the state before it.
  const chunk = (c: number, s: number, n: number, prev: Tensor | null): [Tensor, Tensor] => {
    const [dtP, duP, BP, CP] = part(c, s, n);
    const dA = dtP.unsqueeze(-1).matmul(Ar).exp(); // (B, D, T, 1) @ (D, 1, N) -> (B, D, T, N)
    const dBu = duP.unsqueeze(-1).mul(BP.unsqueeze(1)); // (B, D, T, 1) * (B, 1, T, N) -> (B, D, T, N)
    const h = linearRecurrence(dA, dBu, { dim: 2, h0: prev }); // (B, D, T, N)
    // The last state as its own copy, so that the chunk's (B, D, T, N) states are not kept alive through a view.
    return [h.mul(CP.unsqueeze(1)).sum(-1), h.select(2, n - 1).contiguous()]; // (B, D, T), (B, D, N)
  };
  // When recording, backward needs every chunk's tensors anyway, and tidy would walk the growing graph each chunk.
  const recording = needsGrad(opts.h0 ? [u, dt, A, B, C, opts.h0] : [u, dt, A, B, C]);
  const ys: Tensor[] = [];
  let h0: Tensor | null = opts.h0 ?? null;
  for (let s = 0; s < L; s += T) {
    const n = Math.min(T, L - s);
    const prev = h0;
    const [y, last] = recording ? chunk(s / T, s, n, prev) : tidy(() => chunk(s / T, s, n, prev));
    ys.push(y);
    h0 = last;
  }
  const y = ys.length === 1 ? ys[0] : cat(ys, -1); // (B, D, L)
  return { y: finish(y, u, opts, [1, -1, 1], opts.z), lastState: h0! };
}

/**
 * h_t = a_t h_{t-1} + b_t along dim 2 of (B, D, L, N) by the Hillis-Steele scan: ceil(log2 L) rounds of the
 * associative combine (a, b) o (a', b') = (a a', a' b + b'), each round a shifted elementwise update. O(L log L)
 * work, log L depth; composed from tensor ops, so it is differentiable and runs on every backend.
 */
export function associativeScan(a: Tensor, b: Tensor, h0: Tensor | null = null): Tensor {
  if (a.ndim !== 4 || b.ndim !== 4 || a.shape.some((s, i) => s !== b.shape[i])) {
    throw new Error(`associativeScan: expected a and b of one shape (B, D, L, N); got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  }
  const [bs, d, L, n] = a.shape;
  const like = { dtype: a.dtype, backend: a.backend };
  // Fold h0 into the first step: b_0 <- a_0 h0 + b_0.
  let bb = h0 ? cat([narrow(a, 2, 0, 1).mul(h0.unsqueeze(2)).add(narrow(b, 2, 0, 1)), narrow(b, 2, 1, L - 1)], 2) : b; // (B, D, L, N)
  let aa = a;
  for (let k = 1; k < L; k *= 2) {
    const bPrev = cat([zeros([bs, d, k, n], like), narrow(bb, 2, 0, L - k)], 2); // (B, D, L, N): b_{t-k}, 0 before the start
    const aPrev = cat([ones([bs, d, k, n], like), narrow(aa, 2, 0, L - k)], 2); // (B, D, L, N): a_{t-k}, 1 before the start
    bb = aa.mul(bPrev).add(bb);
    if (2 * k < L) aa = aa.mul(aPrev);
  }
  return bb;
}

export interface SelectiveStateUpdateOptions {
  readonly D?: Tensor | null;
  /** Gate z (B, D). */
  readonly z?: Tensor | null;
  readonly dtBias?: Tensor | null;
  readonly dtSoftplus?: boolean;
}

/**
 * One recurrent step of the selective scan (mamba_ssm's `selective_state_update`): state (B, D, N), x and dt
 * (B, D), A (D, N), B and C (B, N). Returns y (B, D) and the new state; the caller's state is not modified.
 */
export function selectiveStateUpdate(
  state: Tensor,
  x: Tensor,
  dt: Tensor,
  A: Tensor,
  B: Tensor,
  C: Tensor,
  opts: SelectiveStateUpdateOptions = {},
): { y: Tensor; state: Tensor } {
  const op = 'selectiveStateUpdate';
  if (x.ndim !== 2) throw new Error(`${op}: expected x of shape [B, D]; got ${fmt(x.shape)}`);
  const [b, d] = x.shape;
  if (A.ndim !== 2 || A.shape[0] !== d) throw new Error(`${op}: expected A of shape [D=${d}, N]; got ${fmt(A.shape)}`);
  const n = A.shape[1];
  expectShape(op, 'state', state, [b, d, n], '(B, D, N) for this batch and A');
  expectShape(op, 'dt', dt, [b, d], '(B, D), as x');
  expectShape(op, 'B', B, [b, n], '(B, N)');
  expectShape(op, 'C', C, [b, n], '(B, N)');
  if (opts.D) expectShape(op, 'opts.D', opts.D, [d], '(D)');
  if (opts.z) expectShape(op, 'opts.z', opts.z, [b, d], '(B, D)');
  if (opts.dtBias) expectShape(op, 'opts.dtBias', opts.dtBias, [d], '(D)');
  const delta = effectiveDelta(dt, { deltaBias: opts.dtBias, deltaSoftplus: opts.dtSoftplus }, [1, -1]).unsqueeze(-1); // (B, D, 1)
  const next = delta.mul(A).exp().mul(state).add(delta.mul(B.unsqueeze(1)).mul(x.unsqueeze(-1))); // (B, D, N)
  const y = next.mul(C.unsqueeze(1)).sum(-1); // (B, D)
  return { y: finish(y, x, opts, [1, -1], opts.z), state: next };
}
