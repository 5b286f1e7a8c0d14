/**
 * The shared engine of every kernelised ("linear") attention: given feature maps fq = phi(q) (B, H, Nq, M) and
 * fk = phi(k) (B, H, Nk, M), compute A = (fq fk^T) v without forming the (Nq x Nk) matrix (Katharopoulos et al.
 * 2020, eq. 5-6): non-causally as fq (fk^T v) in O(N M Dh), causally through the running state
 * S_i = S_0 + sum_{j <= i} fk_j v_j^T (eq. 9-10), in three forms that agree to rounding:
 *
 * - 'parallel': the prefix sum (cumsum) of the outer products fk_j v_j^T over the sequence; O(N M Dh) memory.
 * - 'chunkwise': quadratic (masked) inside chunks of C tokens, and the state carried across chunks by an
 *   exclusive cumsum over chunk sums (the chunkwise-parallel form used by FLASH, Hua et al. 2022, sec. 3.3, and
 *   GLA/RetNet); O(N C + (N / C) M Dh). The sequence is zero-padded to a multiple of C (zero features add nothing).
 * - 'recurrent': the RNN view, one token at a time (eq. 18-20); used by `step()` for decoding.
 *
 * `S0` is an initial state (decoding with a cache); causal with Nk > Nq treats the first Nk - Nq keys as the cache.
 */
import { add, cat, cumsum, matmul, mul, ones, onesLike, pad, reshape, sub, tensor, type Tensor } from '@formers/tensor-core';

export type CausalForm = 'parallel' | 'chunkwise' | 'recurrent';

export interface LinearKernelOptions {
  readonly causal: boolean;
  readonly form?: CausalForm;
  readonly chunkSize?: number;
  /** Initial state (B, H, M, Dv), summed keys from earlier tokens. */
  readonly S0?: Tensor | null;
}

/** A = fq (S0 + causal-prefix of fk^T v) (B, H, Nq, Dv) and the final state S (B, H, M, Dv). */
export function linearKernel(fq: Tensor, fk: Tensor, v: Tensor, o: LinearKernelOptions): { out: Tensor; state: Tensor } {
  const Nq = fq.shape[2];
  const Nk = fk.shape[2];
  let S0 = o.S0 ?? null;
  if (!o.causal) {
    const kv = matmul(fk.transpose(-2, -1), v); // (B, H, M, Dv)
    const S = S0 ? add(S0, kv) : kv;
    return { out: matmul(fq, S), state: S }; // (B, H, Nq, Dv)
  }
  if (Nk > Nq) {
    // The first Nk - Nq keys precede every query: fold them into the initial state.
    const shift = Nk - Nq;
    const pre = matmul(fk.narrow(2, 0, shift).transpose(-2, -1), v.narrow(2, 0, shift)); // (B, H, M, Dv)
    S0 = S0 ? add(S0, pre) : pre;
    fk = fk.narrow(2, shift, Nq);
    v = v.narrow(2, shift, Nq);
  }
  const form = o.form ?? 'chunkwise';
  if (form === 'parallel') return parallel(fq, fk, v, S0);
  if (form === 'recurrent') return recurrent(fq, fk, v, S0);
  return chunkwise(fq, fk, v, S0, o.chunkSize ?? 64, null);
}

export interface LinearKernelDenominatorOptions extends LinearKernelOptions {
  /** Initial key sum (B, H, M, 1), with `S0`. */
  readonly z0?: Tensor | null;
}

/**
 * `linearKernel` together with the denominator fq . (z0 + causal prefix of sum_j fk_j) (B, H, Nq, 1) and the final
 * key sum z (B, H, M, 1). The causal chunkwise form gets it from the masked chunk scores it already has (their row
 * sums) and a prefix sum over per-chunk key sums, so v is not widened by a copy; the other forms append a column
 * of ones to v, as (fq fk^T) 1 = fq . sum fk.
 */
export function linearKernelWithDenominator(fq: Tensor, fk: Tensor, v: Tensor, o: LinearKernelDenominatorOptions): { out: Tensor; den: Tensor; state: Tensor; z: Tensor } {
  if (!o.causal || (o.form ?? 'chunkwise') !== 'chunkwise') {
    const Dv = v.shape[3];
    const v1 = cat([v, onesLike(v.narrow(3, 0, 1))], 3); // (B, H, Nk, Dv + 1)
    const S0 = o.S0 ? cat([o.S0, o.z0!], 3) : null; // (B, H, M, Dv + 1)
    const r = linearKernel(fq, fk, v1, { ...o, S0 });
    // (B, H, Nq, Dv), (B, H, Nq, 1), (B, H, M, Dv), (B, H, M, 1)
    return { out: r.out.narrow(3, 0, Dv), den: r.out.narrow(3, Dv, 1), state: r.state.narrow(3, 0, Dv), z: r.state.narrow(3, Dv, 1) };
  }
  const Nq = fq.shape[2];
  const Nk = fk.shape[2];
  let S0 = o.S0 ?? null;
  let z0 = o.z0 ?? null;
  if (Nk > Nq) {
    // The first Nk - Nq keys precede every query: fold them into the initial state and key sum.
    const shift = Nk - Nq;
    const fkPre = fk.narrow(2, 0, shift); // (B, H, shift, M)
    const pre = matmul(fkPre.transpose(-2, -1), v.narrow(2, 0, shift)); // (B, H, M, Dv)
    const zPre = matmul(onesRow(shift, fk), fkPre).transpose(-2, -1); // (B, H, 1, M) -> (B, H, M, 1)
    S0 = S0 ? add(S0, pre) : pre;
    z0 = z0 ? add(z0, zPre) : zPre;
    fk = fk.narrow(2, shift, Nq);
    v = v.narrow(2, shift, Nq);
  }
  const r = chunkwise(fq, fk, v, S0, o.chunkSize ?? 64, { z0 });
  return { out: r.out, den: r.den!, state: r.state, z: r.z! };
}

function parallel(fq: Tensor, fk: Tensor, v: Tensor, S0: Tensor | null): { out: Tensor; state: Tensor } {
  const [B, H, N, M] = fk.shape;
  const Dv = v.shape[3];
  const kv = mul(fk.unsqueeze(-1), v.unsqueeze(-2)); // (B, H, N, M, Dv): fk_j v_j^T
  let S = cumsum(kv, 2); // (B, H, N, M, Dv): S_i = sum_{j <= i}
  if (S0) S = add(S, S0.unsqueeze(2));
  const out = reshape(matmul(fq.unsqueeze(-2), S), [B, H, N, Dv]); // (B, H, N, 1, Dv) -> (B, H, N, Dv)
  const state = reshape(S.narrow(2, N - 1, 1), [B, H, M, Dv]); // (B, H, M, Dv)
  return { out, state };
}

function recurrent(fq: Tensor, fk: Tensor, v: Tensor, S0: Tensor | null): { out: Tensor; state: Tensor } {
  const N = fk.shape[2];
  let S = S0;
  const outs: Tensor[] = [];
  for (let t = 0; t < N; t++) {
    const kv = matmul(fk.narrow(2, t, 1).transpose(-2, -1), v.narrow(2, t, 1)); // (B, H, M, Dv)
    S = S ? add(S, kv) : kv;
    outs.push(matmul(fq.narrow(2, t, 1), S)); // (B, H, 1, Dv)
  }
  return { out: outs.length === 1 ? outs[0] : cat(outs, 2), state: S! };
}

function chunkwise(
  fq: Tensor,
  fk: Tensor,
  v: Tensor,
  S0: Tensor | null,
  C: number,
  withDen: { z0: Tensor | null } | null,
): { out: Tensor; state: Tensor; den?: Tensor; z?: Tensor } {
  const [B, H, N, M] = fk.shape;
  const Dv = v.shape[3];
  const c = Math.min(C, N);
  const padN = (c - (N % c)) % c;
  const padSeq = (x: Tensor): Tensor => (padN ? pad(x, [0, 0, 0, padN]) : x); // (B, H, N + pad, .)
  const nc = (N + padN) / c;
  const qc = reshape(padSeq(fq), [B, H, nc, c, M]); // (B, H, nc, C, M)
  const kc = reshape(padSeq(fk), [B, H, nc, c, M]); // (B, H, nc, C, M)
  const vc = reshape(padSeq(v), [B, H, nc, c, Dv]); // (B, H, nc, C, Dv)
  // Causal inside a chunk: the (C, C) scores times a constant lower-triangular 0/1 matrix, a broadcast multiply
  // (the same values as tril for finite scores) instead of a select against a mask rebuilt on every call.
  const scores = matmul(qc, kc.transpose(-2, -1)); // (B, H, nc, C, C)
  const masked = mul(scores, lowerTriangle(c, scores)); // (B, H, nc, C, C)
  const intra = matmul(masked, vc); // (B, H, nc, C, Dv)
  const kvChunk = matmul(kc.transpose(-2, -1), vc); // (B, H, nc, M, Dv)
  const incl = cumsum(kvChunk, 2); // (B, H, nc, M, Dv)
  let prev = sub(incl, kvChunk); // exclusive cumsum: the state before each chunk
  if (S0) prev = add(prev, S0.unsqueeze(2));
  const inter = matmul(qc, prev); // (B, H, nc, C, Dv)
  let out = reshape(add(intra, inter), [B, H, nc * c, Dv]); // (B, H, N + pad, Dv)
  if (padN) out = out.narrow(2, 0, N);
  // The final state is the last inclusive prefix sum (a view), not a second reduction over the chunks.
  let state = reshape(incl.narrow(2, nc - 1, 1), [B, H, M, Dv]); // (B, H, 1, M, Dv) -> (B, H, M, Dv)
  if (S0) state = add(state, S0);
  if (!withDen) return { out, state };
  // The denominator as rows (one-row GEMMs): within a chunk the masked scores' row sums 1^T masked^T, across
  // chunks the exclusive prefix of the chunk key sums 1^T kc times qc^T.
  const one = onesRow(c, fk); // (1, C)
  const denIntra = matmul(one, masked.transpose(-2, -1)); // (B, H, nc, 1, C)
  const zChunk = matmul(one, kc); // (B, H, nc, 1, M)
  const zIncl = cumsum(zChunk, 2); // (B, H, nc, 1, M)
  let zPrev = sub(zIncl, zChunk); // (B, H, nc, 1, M): the key sum before each chunk
  if (withDen.z0) zPrev = add(zPrev, withDen.z0.transpose(-2, -1).unsqueeze(2)); // + (B, H, 1, 1, M)
  const denInter = matmul(zPrev, qc.transpose(-2, -1)); // (B, H, nc, 1, C)
  let den = reshape(add(denIntra, denInter), [B, H, nc * c, 1]); // (B, H, nc, 1, C) -> (B, H, N + pad, 1)
  if (padN) den = den.narrow(2, 0, N);
  let z = reshape(zIncl.narrow(2, nc - 1, 1), [B, H, M, 1]); // (B, H, 1, 1, M) -> (B, H, M, 1)
  if (withDen.z0) z = add(z, withDen.z0);
  return { out, state, den, z };
}

/** A (1, n) row of ones with x's dtype and backend (a constant: no gradient). */
function onesRow(n: number, x: Tensor): Tensor {
  return ones([1, n], { dtype: x.dtype, backend: x.backend }); // (1, n)
}

/** The (C, C) lower-triangular 0/1 matrix (j <= i), in x's dtype and backend; a constant without gradient. */
function lowerTriangle(c: number, x: Tensor): Tensor {
  const m = new Float64Array(c * c);
  for (let i = 0; i < c; i++) m.fill(1, i * c, i * c + i + 1);
  return tensor(m, { shape: [c, c], dtype: x.dtype, backend: x.backend }); // (C, C)
}
