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
import { add, cat, cumsum, matmul, mul, pad, reshape, sub, sum, tril, type Tensor } from '@formers/tensor-core';

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
  return chunkwise(fq, fk, v, S0, o.chunkSize ?? 64);
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

function chunkwise(fq: Tensor, fk: Tensor, v: Tensor, S0: Tensor | null, C: number): { out: Tensor; state: Tensor } {
  const [B, H, N, M] = fk.shape;
  const Dv = v.shape[3];
  const c = Math.min(C, N);
  const padN = (c - (N % c)) % c;
  const padSeq = (x: Tensor): Tensor => (padN ? pad(x, [0, 0, 0, padN]) : x); // (B, H, N + pad, .)
  const nc = (N + padN) / c;
  const qc = reshape(padSeq(fq), [B, H, nc, c, M]); // (B, H, nc, C, M)
  const kc = reshape(padSeq(fk), [B, H, nc, c, M]); // (B, H, nc, C, M)
  const vc = reshape(padSeq(v), [B, H, nc, c, Dv]); // (B, H, nc, C, Dv)
  const intra = matmul(tril(matmul(qc, kc.transpose(-2, -1))), vc); // (B, H, nc, C, Dv): causal inside a chunk
  const kvChunk = matmul(kc.transpose(-2, -1), vc); // (B, H, nc, M, Dv)
  const incl = cumsum(kvChunk, 2); // (B, H, nc, M, Dv)
  let prev = sub(incl, kvChunk); // exclusive cumsum: the state before each chunk
  if (S0) prev = add(prev, S0.unsqueeze(2));
  const inter = matmul(qc, prev); // (B, H, nc, C, Dv)
  let out = reshape(add(intra, inter), [B, H, nc * c, Dv]); // (B, H, N + pad, Dv)
  if (padN) out = out.narrow(2, 0, N);
  let state = reshape(sum(kvChunk, 2), [B, H, M, Dv]); // (B, H, M, Dv)
  if (S0) state = add(state, S0);
  return { out, state };
}
