/**
 * Memory-efficient softmax attention: the online softmax over key blocks (Milakov & Gimelshein 2018, "Online
 * normalizer calculation for softmax"; Rabe & Staats 2021, "Self-attention Does Not Need O(n^2) Memory"; the
 * same recurrence as FlashAttention, Dao et al. 2022).
 *
 * For each query block, key blocks are visited in order keeping a running row max m, normaliser l and output
 * accumulator: m' = max(m, rowmax(S)), l' = l e^(m - m') + rowsum(e^(S - m')), acc' = acc e^(m - m') + e^(S - m') V.
 * Only one (Bq x Bk) score block exists at a time, forward and backward: the backward pass is a custom autograd node
 * that keeps just the output and the row log-sum-exp L = m + log l, and recomputes each probability block as
 * exp(S - L) (FlashAttention's backward, Dao et al. 2022, alg. 2). Dropout masks are replayed from the generator
 * state saved at forward time. Causal key blocks entirely above the diagonal are skipped.
 */
import {
  Generator,
  Module,
  add,
  amax,
  cat,
  defaultGenerator,
  div,
  exp,
  expand,
  gt,
  log,
  lt,
  matmul,
  maximum,
  mul,
  noGrad,
  rand,
  record,
  sub,
  sum,
  sumToShape,
  tidy,
  where,
  full,
  zeros,
  type Tensor,
} from '@formers/tensor-core';
import type { AttentionCallOptions, AttentionCore } from './attention-core.js';
import { MASKED_SCORE, MASKED_THRESHOLD, allowedMask } from './masks.js';
import { applyQK, checkDropout, checkInt, checkPositive, checkQKV, type HeadDims } from './validate.js';

export interface ChunkedSoftmaxAttentionOptions {
  /** Score scale; default 1 / sqrt(Dh). */
  readonly scale?: number;
  /** Dropout on the probabilities (training only); default 0. */
  readonly dropout?: number;
  /** Keys per block; default 256. A ragged last block is allowed (no divisibility needed). */
  readonly keyChunkSize?: number;
  /** Queries per block; default 256. A ragged last block is allowed. */
  readonly queryChunkSize?: number;
  readonly generator?: Generator;
}

interface Blocking {
  readonly d: HeadDims;
  readonly scale: number;
  readonly bq: number;
  readonly bk: number;
  readonly opts: AttentionCallOptions;
  readonly bias: Tensor | null;
  readonly dropP: number;
}

/** Key blocks that query block [i0, i1) can see (all of them unless causal). */
function keyBlocks(b: Blocking, i0: number, i1: number): [number, number][] {
  const { Nq, Nk } = b.d;
  const last = b.opts.causal ? Math.min(Nk, i1 - 1 + (Nk - Nq) + 1) : Nk; // keys beyond the last query's reach
  const out: [number, number][] = [];
  for (let j0 = 0; j0 < last; j0 += b.bk) out.push([j0, Math.min(j0 + b.bk, Nk)]);
  return out;
}

/** The masked, biased score block S[i0:i1, j0:j1] (B, H, Bq, Bk). */
function scoreBlock(b: Blocking, qc: Tensor, k: Tensor, i0: number, i1: number, j0: number, j1: number): Tensor {
  const kb = k.narrow(2, j0, j1 - j0); // (B, H, Bk, Dh)
  let s = matmul(mul(qc, b.scale), kb.transpose(-2, -1)); // (B, H, Bq, Bk)
  if (b.bias) s = maximum(add(s, b.bias.narrow(2, i0, i1 - i0).narrow(3, j0, j1 - j0)), MASKED_SCORE);
  const allowed = allowedMask(b.opts, qc, b.d, { queryStart: i0, queryLen: i1 - i0, keyStart: j0, keyLen: j1 - j0 });
  if (allowed) s = where(allowed, s, MASKED_SCORE); // (B, H, Bq, Bk)
  return s;
}

function dropMask(b: Blocking, shape: readonly number[], like: Tensor, gen: Generator): Tensor | null {
  if (b.dropP === 0) return null;
  const u = rand(shape, { dtype: like.dtype, backend: like.backend, generator: gen });
  return div(lt(u, 1 - b.dropP), 1 - b.dropP); // keep / (1 - p)
}

/**
 * Softmax attention computed block by block; equal to `SoftmaxAttention` (to rounding) on every input, including
 * masks, biases and fully masked rows (zeros), with O(Nq Bk) working memory instead of O(Nq Nk).
 */
export class ChunkedSoftmaxAttention extends Module implements AttentionCore {
  readonly scale: number | undefined;
  readonly dropoutP: number;
  readonly keyChunkSize: number;
  readonly queryChunkSize: number;
  private readonly generator: Generator | undefined;

  constructor(opts: ChunkedSoftmaxAttentionOptions = {}) {
    super();
    const op = 'ChunkedSoftmaxAttention';
    this.scale = opts.scale === undefined ? undefined : checkPositive(op, 'opts.scale', opts.scale);
    this.dropoutP = checkDropout(op, 'opts.dropout', opts.dropout ?? 0);
    this.keyChunkSize = checkInt(op, 'opts.keyChunkSize', opts.keyChunkSize ?? 256);
    this.queryChunkSize = checkInt(op, 'opts.queryChunkSize', opts.queryChunkSize ?? 256);
    this.generator = opts.generator;
  }

  forward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const d = checkQKV('ChunkedSoftmaxAttention', q, k, v, opts);
    [q, k] = applyQK(q, k, opts);
    const bias = opts.bias ? expand(opts.bias, [d.B, d.H, d.Nq, d.Nk]) : null; // a view, never materialised
    const b: Blocking = {
      d,
      scale: this.scale ?? 1 / Math.sqrt(d.Dh),
      bq: Math.min(this.queryChunkSize, d.Nq),
      bk: Math.min(this.keyChunkSize, d.Nk),
      opts,
      bias,
      dropP: this.training ? this.dropoutP : 0,
    };
    const gen = this.generator ?? defaultGenerator();
    const genState = gen.getState();
    const { out, lse } = noGrad(() => this.forwardBlocks(b, q, k, v, gen));
    const inputs = opts.bias ? [q, k, v, opts.bias] : [q, k, v];
    return record(
      'ChunkedSoftmaxAttentionBackward',
      inputs,
      [out],
      (gs, needs) => this.backwardBlocks(b, q, k, v, out, lse, gs[0], new Generator(0).setState(genState), opts.bias ?? null, needs),
      [q, k, v, out, lse, ...(opts.bias ? [opts.bias] : [])],
    );
  }

  private forwardBlocks(b: Blocking, q: Tensor, k: Tensor, v: Tensor, gen: Generator): { out: Tensor; lse: Tensor } {
    const { B, H, Nq, Dh } = b.d;
    const outs: Tensor[] = [];
    const lses: Tensor[] = [];
    for (let i0 = 0; i0 < Nq; i0 += b.bq) {
      const i1 = Math.min(i0 + b.bq, Nq);
      const res = tidy(() => {
        const qc = q.narrow(2, i0, i1 - i0); // (B, H, Bq, Dh)
        let m = full([B, H, i1 - i0, 1], -Infinity, { dtype: q.dtype, backend: q.backend }); // running row max
        let l = zeros([B, H, i1 - i0, 1], { dtype: q.dtype, backend: q.backend }); // running normaliser
        let acc = zeros([B, H, i1 - i0, Dh], { dtype: q.dtype, backend: q.backend }); // running output
        for (const [j0, j1] of keyBlocks(b, i0, i1)) {
          const s = scoreBlock(b, qc, k, i0, i1, j0, j1); // (B, H, Bq, Bk)
          const mNew = maximum(m, amax(s, -1, true)); // (B, H, Bq, 1)
          const alpha = exp(sub(m, mNew));
          let p = exp(sub(s, mNew)); // (B, H, Bq, Bk)
          l = add(mul(l, alpha), sum(p, -1, true));
          const mask = dropMask(b, p.shape, p, gen);
          if (mask) p = mul(p, mask);
          acc = add(mul(acc, alpha), matmul(p, v.narrow(2, j0, j1 - j0))); // (B, H, Bq, Dh)
          m = mNew;
        }
        // A row whose keys are all masked has m = MASKED_SCORE: output 0 and L = +inf so that exp(S - L) = 0.
        const valid = gt(m, MASKED_THRESHOLD); // (B, H, Bq, 1)
        const o = where(valid, div(acc, l), 0); // (B, H, Bq, Dh)
        const lse = where(valid, add(m, log(l)), Infinity); // (B, H, Bq, 1)
        return [o, lse];
      });
      outs.push(res[0]);
      lses.push(res[1]);
    }
    return { out: outs.length === 1 ? outs[0] : cat(outs, 2), lse: lses.length === 1 ? lses[0] : cat(lses, 2) };
  }

  private backwardBlocks(
    b: Blocking,
    q: Tensor,
    k: Tensor,
    v: Tensor,
    out: Tensor,
    lse: Tensor,
    g: Tensor,
    gen: Generator,
    bias: Tensor | null,
    needs: readonly boolean[],
  ): (Tensor | null)[] {
    const { Nq, Nk } = b.d;
    const D = sum(mul(g, out), -1, true); // (B, H, Nq, 1): rowsum(dO * O) = rowsum(P * dP)
    // Per key block accumulators, concatenated at the end (no full-size zero padding per block).
    const nKB = Math.ceil(Nk / b.bk);
    const dkB: (Tensor | null)[] = new Array<Tensor | null>(nKB).fill(null);
    const dvB: (Tensor | null)[] = new Array<Tensor | null>(nKB).fill(null);
    const dqs: Tensor[] = [];
    const dsRows: Tensor[] = [];
    for (let i0 = 0; i0 < Nq; i0 += b.bq) {
      const i1 = Math.min(i0 + b.bq, Nq);
      const qc = q.narrow(2, i0, i1 - i0); // (B, H, Bq, Dh)
      const gc = g.narrow(2, i0, i1 - i0); // (B, H, Bq, Dh)
      const Lc = lse.narrow(2, i0, i1 - i0); // (B, H, Bq, 1)
      const Dc = D.narrow(2, i0, i1 - i0); // (B, H, Bq, 1)
      let dq = zeros(qc.shape, { dtype: q.dtype, backend: q.backend });
      const dsBlocks: Tensor[] = [];
      const blocks = keyBlocks(b, i0, i1);
      for (const [j0, j1] of blocks) {
        const r = tidy(() => {
          const s = scoreBlock(b, qc, k, i0, i1, j0, j1); // (B, H, Bq, Bk)
          const p = exp(sub(s, Lc)); // (B, H, Bq, Bk), the softmax probabilities
          const mask = dropMask(b, p.shape, p, gen);
          const pd = mask ? mul(p, mask) : p;
          const dvb = matmul(pd.transpose(-2, -1), gc); // (B, H, Bk, Dh)
          let dp = matmul(gc, v.narrow(2, j0, j1 - j0).transpose(-2, -1)); // (B, H, Bq, Bk)
          if (mask) dp = mul(dp, mask);
          const ds = mul(p, sub(dp, Dc)); // (B, H, Bq, Bk): dL/dS
          const dqb = mul(matmul(ds, k.narrow(2, j0, j1 - j0)), b.scale); // (B, H, Bq, Dh)
          const dkb = mul(matmul(ds.transpose(-2, -1), qc), b.scale); // (B, H, Bk, Dh)
          return [dqb, dkb, dvb, bias ? ds : ds.narrow(3, 0, 0)];
        });
        dq = add(dq, r[0]);
        const jb = j0 / b.bk;
        dkB[jb] = dkB[jb] ? add(dkB[jb]!, r[1]) : r[1];
        dvB[jb] = dvB[jb] ? add(dvB[jb]!, r[2]) : r[2];
        if (bias && needs[3]) dsBlocks.push(r[3]);
      }
      dqs.push(dq);
      if (bias && needs[3]) {
        const covered = blocks.length ? blocks[blocks.length - 1][1] : 0;
        let row = dsBlocks.length ? cat(dsBlocks, 3) : zeros([b.d.B, b.d.H, i1 - i0, 0], { dtype: q.dtype, backend: q.backend });
        if (covered < Nk) row = cat([row, zeros([b.d.B, b.d.H, i1 - i0, Nk - covered], { dtype: q.dtype, backend: q.backend })], 3); // skipped causal blocks
        dsRows.push(row);
      }
    }
    const dq = dqs.length === 1 ? dqs[0] : cat(dqs, 2);
    // Causal key blocks no query reached get zero gradients.
    const fill = (xs: (Tensor | null)[]): Tensor[] =>
      xs.map((x, jb) => x ?? zeros([b.d.B, b.d.H, Math.min(b.bk, Nk - jb * b.bk), b.d.Dh], { dtype: k.dtype, backend: k.backend }));
    const dk = nKB === 1 ? fill(dkB)[0] : cat(fill(dkB), 2); // (B, H, Nk, Dh)
    const dv = nKB === 1 ? fill(dvB)[0] : cat(fill(dvB), 2); // (B, H, Nk, Dh)
    const grads: (Tensor | null)[] = [needs[0] ? dq : null, needs[1] ? dk : null, needs[2] ? dv : null];
    if (bias) grads.push(needs[3] ? sumToShape(cat(dsRows, 2), bias.shape) : null);
    return grads;
  }

  protected override extraRepr(): string {
    return `scale=${this.scale ?? '1/sqrt(Dh)'}, dropout=${this.dropoutP}, keyChunkSize=${this.keyChunkSize}, queryChunkSize=${this.queryChunkSize}`;
  }
}
