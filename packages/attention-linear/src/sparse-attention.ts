/**
 * Block-sparse attention (Child et al. 2019; Longformer windows, Beltagy et al. 2020): softmax attention restricted
 * to a sparse pattern (`sparse-patterns.ts`), computed block by block so that the cost scales with the number of
 * allowed (query block, key block) pairs and not with N^2: query blocks are grouped by how many key blocks they
 * need, and each group gathers its key blocks in one batched op, scores them and masks at element level inside
 * those blocks (backward: one scatter-add per group, not a full-size gradient per block). Equal to dense softmax
 * attention under the equivalent mask (tested). A query with no allowed key (possible with padding) returns zeros.
 *
 * Positions are absolute: with a key cache (Nk > Nq), query i sits at position i + Nk - Nq.
 */
import { Module, Tensor, add, amax, cat, dropout, expand, gt, indexSelect, keep, matmul, maximum, mul, ne, noGrad, pad, reshape, softmax, tensor, where, zeros, type Generator } from '@formers/tensor-core';
import type { AttentionCallOptions, AttentionCore } from './attention-core.js';
import type { SparsePattern } from './attention-config.js';
import { MASKED_SCORE, MASKED_THRESHOLD } from './masks.js';
import { sparsePattern, type AllowedFn } from './sparse-patterns.js';
import { applyQK, checkDropout, checkInt, checkPositive, checkQKV, fmt } from './validate.js';

export interface SparseAttentionOptions {
  readonly pattern: SparsePattern;
  /** Block size; default 32. A ragged last block is allowed. */
  readonly blockSize?: number;
  /** Leading global tokens; default 0. */
  readonly globalTokens?: number;
  readonly scale?: number;
  readonly dropout?: number;
  readonly generator?: Generator;
}

/**
 * The block plan for one (Nq, Nk, causal): query blocks grouped into buckets by how many key blocks they need, so
 * each bucket runs as one batched gather + matmul (its gradient is one scatter-add, never a full-size tensor per
 * block). A query block needing every key block (a global token's block) is its own dense bucket.
 */
interface Bucket {
  /** Query block ids. */
  readonly rows: number[];
  /** Key blocks per row. */
  readonly c: number;
  /** rows.length x c key block ids, row-major. */
  readonly keyBlocks: number[];
  /** rows.length x b x (c b) element mask, 1 = allowed (padding and the pattern). */
  readonly mask: number[];
}

/** The device tensors of a plan's buckets, per backend and dtype. */
interface PlanTensors {
  readonly rows: Tensor[];
  readonly keys: Tensor[];
  /** (1, 1, nr, b, c b) 0/1 masks (1 = allowed). */
  readonly masks: Tensor[];
  /** The same as additive masks, 0 or MASKED_SCORE: s + bias equals where(mask, s, MASKED_SCORE) exactly. */
  readonly biases: Tensor[];
  readonly inverse: Tensor;
}

interface BlockPlan {
  readonly nqb: number;
  readonly nkb: number;
  readonly buckets: Bucket[];
  /** For each query block, its index in the concatenation of the buckets' rows. */
  readonly inverse: number[];
  /** Whether every real query (i < Nq) has an allowed key under the pattern alone (no padding mask or bias). */
  readonly everyRowHasKey: boolean;
  /** Device copies of the index and mask tensors, per backend and dtype (kept across tidy scopes). */
  readonly tensors: Map<string, PlanTensors>;
}

/** Sparse attention decoding state: the key/value cache. */
export interface SparseAttentionState {
  readonly owner: string;
  readonly position: number;
  readonly k: Tensor;
  readonly v: Tensor;
}

export class SparseAttention extends Module implements AttentionCore {
  readonly pattern: SparsePattern;
  readonly blockSize: number;
  readonly globalTokens: number;
  readonly scale: number | undefined;
  readonly dropoutP: number;
  private readonly generator: Generator | undefined;
  private readonly planCache = new Map<string, BlockPlan>();

  constructor(opts: SparseAttentionOptions) {
    super();
    const op = 'SparseAttention';
    if (opts === null || typeof opts !== 'object') throw new Error(`${op}: expected options { pattern, ... }; got ${String(opts)}`);
    this.blockSize = checkInt(op, 'opts.blockSize', opts.blockSize ?? 32);
    this.globalTokens = checkInt(op, 'opts.globalTokens', opts.globalTokens ?? 0, 0);
    sparsePattern(op, opts.pattern, { globalTokens: this.globalTokens }); // validate now
    this.pattern = opts.pattern;
    this.scale = opts.scale === undefined ? undefined : checkPositive(op, 'opts.scale', opts.scale);
    this.dropoutP = checkDropout(op, 'opts.dropout', opts.dropout ?? 0);
    this.generator = opts.generator;
  }

  /** Fraction of (query block, key block) pairs computed for a length-N self-attention. */
  blockDensity(N: number, causal = false): number {
    const plan = this.plan(N, N, causal);
    return plan.buckets.reduce((acc, bk) => acc + bk.rows.length * bk.c, 0) / (plan.nqb * plan.nkb);
  }

  private plan(Nq: number, Nk: number, causal: boolean): BlockPlan {
    const key = `${Nq},${Nk},${causal}`;
    const hit = this.planCache.get(key);
    if (hit) return hit;
    const allowed: AllowedFn = sparsePattern('SparseAttention', this.pattern, { globalTokens: this.globalTokens, causal });
    const shift = Nk - Nq;
    const b = this.blockSize;
    const nqb = Math.ceil(Nq / b);
    const nkb = Math.ceil(Nk / b);
    const ok = (i: number, j: number) => i < Nq && j < Nk && allowed(i + shift, j); // padded rows/keys masked
    const byCount = new Map<number, Bucket>();
    const hasKey = new Uint8Array(nqb * b); // per query row: any allowed key in its blocks
    for (let r = 0; r < nqb; r++) {
      const blocks: number[] = [];
      for (let jb = 0; jb < nkb; jb++) {
        let any = false;
        for (let i = r * b; i < (r + 1) * b && !any; i++) for (let j = jb * b; j < (jb + 1) * b && !any; j++) any = ok(i, j);
        if (any) blocks.push(jb);
      }
      let bk = byCount.get(blocks.length);
      if (!bk) byCount.set(blocks.length, (bk = { rows: [], c: blocks.length, keyBlocks: [], mask: [] }));
      bk.rows.push(r);
      bk.keyBlocks.push(...blocks);
      for (let i = r * b; i < (r + 1) * b; i++) {
        for (const jb of blocks) {
          for (let j = jb * b; j < (jb + 1) * b; j++) {
            const allowedHere = ok(i, j);
            bk.mask.push(allowedHere ? 1 : 0);
            if (allowedHere) hasKey[i] = 1;
          }
        }
      }
    }
    // Key blocks without an allowed pair are never gathered, so a row's keys all lie in its blocks.
    let everyRowHasKey = true;
    for (let i = 0; i < Nq && everyRowHasKey; i++) everyRowHasKey = hasKey[i] === 1;
    const buckets = [...byCount.values()];
    const order = buckets.flatMap((bk) => bk.rows);
    const inverse = new Array<number>(nqb);
    order.forEach((r, pos) => (inverse[r] = pos));
    const plan: BlockPlan = { nqb, nkb, buckets, inverse, everyRowHasKey, tensors: new Map() };
    if (this.planCache.size > 16) {
      for (const old of this.planCache.values()) for (const t of old.tensors.values()) [...t.rows, ...t.keys, ...t.masks, ...t.biases, t.inverse].forEach((x) => x.dispose());
      this.planCache.clear();
    }
    this.planCache.set(key, plan);
    return plan;
  }

  private deviceTensors(plan: BlockPlan, like: Tensor): PlanTensors {
    const cacheKey = `${like.backend.name}|${like.dtype}`;
    let dev = plan.tensors.get(cacheKey);
    if (!dev) {
      const b = this.blockSize;
      const int = (xs: number[]) => keep(tensor(xs, { dtype: 'int32', backend: like.backend }));
      const float = (bk: Bucket, xs: number[]) =>
        keep(tensor(xs.length ? xs : [0], { shape: bk.c ? [1, 1, bk.rows.length, b, bk.c * b] : [1], dtype: like.dtype, backend: like.backend })); // (1, 1, nr, b, c b)
      dev = {
        rows: plan.buckets.map((bk) => int(bk.rows)),
        keys: plan.buckets.map((bk) => int(bk.keyBlocks.length ? bk.keyBlocks : [0])),
        masks: plan.buckets.map((bk) => float(bk, bk.mask)),
        biases: plan.buckets.map((bk) => float(bk, bk.mask.map((m) => (m ? 0 : MASKED_SCORE)))),
        inverse: int(plan.inverse),
      };
      plan.tensors.set(cacheKey, dev);
    }
    return dev;
  }

  forward(q: Tensor, k: Tensor, v: Tensor, opts: AttentionCallOptions = {}): Tensor {
    const d = checkQKV('SparseAttention', q, k, v, opts);
    [q, k] = applyQK(q, k, opts);
    const { B, H, Nq, Nk, Dh } = d;
    const scale = this.scale ?? 1 / Math.sqrt(Dh);
    const b = this.blockSize;
    const plan = this.plan(Nq, Nk, opts.causal ?? false);
    const dev = this.deviceTensors(plan, q);
    const { nqb, nkb } = plan;
    const blocks = (x: Tensor, n: number) => {
      const padN = n * b - x.shape[2];
      return reshape(padN ? pad(x, [0, 0, 0, padN]) : x, [B, H, n, b, Dh]); // (B, H, nblocks, b, Dh)
    };
    const qB = blocks(mul(q, scale), nqb);
    const kB = blocks(k, nkb);
    const vB = blocks(v, nkb);
    let keepB: Tensor | null = null;
    if (opts.keyPaddingMask) {
      const m = ne(opts.keyPaddingMask, 0); // (B, Nk)
      keepB = reshape(nkb * b > Nk ? pad(m, [0, nkb * b - Nk]) : m, [B, nkb, b]); // (B, nkb, b)
    }
    let biasPairs: Tensor | null = null;
    if (opts.bias) {
      const full = expand(opts.bias, [B, H, Nq, Nk]); // a view
      const padded = pad(full, [0, nkb * b - Nk, 0, nqb * b - Nq]); // (B, H, nqb b, nkb b)
      const six = reshape(padded, [B, H, nqb, b, nkb, b]).permute(0, 1, 2, 4, 3, 5); // (B, H, nqb, nkb, b, b)
      biasPairs = reshape(six, [B, H, nqb * nkb, b, b]); // (B, H, pairs, b, b)
    }
    const outs: Tensor[] = plan.buckets.map((bk, n) => {
      const nr = bk.rows.length;
      if (bk.c === 0) return zeros([B, H, nr, b, Dh], { dtype: q.dtype, backend: q.backend }); // no allowed key
      const cb = bk.c * b;
      const qb = indexSelect(qB, 2, dev.rows[n]); // (B, H, nr, b, Dh)
      const kg = reshape(indexSelect(kB, 2, dev.keys[n]), [B, H, nr, cb, Dh]); // (B, H, nr, c b, Dh)
      const vg = reshape(indexSelect(vB, 2, dev.keys[n]), [B, H, nr, cb, Dh]);
      let s = matmul(qb, kg.transpose(-2, -1)); // (B, H, nr, b, c b)
      if (biasPairs) {
        const pairs = tensor(bk.rows.flatMap((r, i) => bk.keyBlocks.slice(i * bk.c, (i + 1) * bk.c).map((jb) => r * nkb + jb)), { dtype: 'int32', backend: q.backend });
        const bg = reshape(indexSelect(biasPairs, 2, pairs), [B, H, nr, bk.c, b, b]).permute(0, 1, 2, 4, 3, 5); // (B, H, nr, b, c, b)
        s = maximum(add(s, reshape(bg, [B, H, nr, b, cb])), MASKED_SCORE); // (B, H, nr, b, c b)
      }
      if (keepB) {
        const allow = mul(dev.masks[n], reshape(indexSelect(keepB, 1, dev.keys[n]), [B, 1, nr, 1, cb])); // (B, 1, nr, 1, c b)
        s = where(allow, s, MASKED_SCORE);
      } else if (biasPairs) {
        s = where(dev.masks[n], s, MASKED_SCORE);
      } else {
        // A static pattern: adding the 0 / MASKED_SCORE matrix gives the same scores as the select (|s| is far
        // below half an ulp of 1e30) in one broadcast add.
        s = add(s, dev.biases[n]); // (B, H, nr, b, c b)
      }
      let pr = softmax(s, -1);
      pr = dropout(pr, { p: this.dropoutP, training: this.training, generator: this.generator });
      const out = matmul(pr, vg); // (B, H, nr, b, Dh)
      // Only a padding mask or a bias can leave a real query without keys; padded query rows are cut off below.
      if (!keepB && !biasPairs && plan.everyRowHasKey) return out;
      const rowHasKey = noGrad(() => gt(amax(s, -1, true), MASKED_THRESHOLD)); // (B, H, nr, b, 1)
      return where(rowHasKey, out, 0); // (B, H, nr, b, Dh)
    });
    const all = outs.length === 1 ? outs[0] : cat(outs, 2); // (B, H, nqb, b, Dh), bucket order
    const ordered = plan.buckets.length === 1 ? all : indexSelect(all, 2, dev.inverse); // (B, H, nqb, b, Dh)
    const out = reshape(ordered, [B, H, nqb * b, Dh]); // (B, H, nqb b, Dh)
    return nqb * b > Nq ? out.narrow(2, 0, Nq) : out;
  }

  /** Causal decoding with a key/value cache: T new tokens (B, H, T, Dh); equal to the causal forward. */
  step(q: Tensor, k: Tensor, v: Tensor, state: SparseAttentionState | null = null, opts: Pick<AttentionCallOptions, 'qkTransform'> = {}): { out: Tensor; state: SparseAttentionState } {
    const op = 'SparseAttention.step';
    const d = checkQKV(op, q, k, v, opts);
    const owner = `SparseAttention(${JSON.stringify(this.pattern)}, globalTokens=${this.globalTokens})`;
    if (state !== null) {
      if (typeof state !== 'object' || state.owner !== owner) throw new Error(`${op}: expected a state from ${owner}; got one from ${String(state?.owner)}`);
      if (state.k.shape[0] !== d.B || state.k.shape[1] !== d.H || state.k.shape[3] !== d.Dh) {
        throw new Error(`${op}: expected a state for (B, H, Dh) = (${d.B}, ${d.H}, ${d.Dh}); got k ${fmt(state.k.shape)}`);
      }
    }
    const pos = state?.position ?? 0;
    let [qt, kt] = [q, k];
    if (opts.qkTransform) {
      [qt, kt] = applyQK(q, k, { qkTransform: opts.qkTransform, offset: pos });
    }
    const ck = state ? cat([state.k, kt], 2) : kt; // (B, H, pos + T, Dh), keys already transformed
    const cv = state ? cat([state.v, v], 2) : v;
    const out = this.forward(qt, ck, cv, { causal: true });
    return { out, state: { owner, position: pos + d.Nq, k: ck, v: cv } };
  }

  protected override extraRepr(): string {
    return `pattern=${JSON.stringify(this.pattern)}, blockSize=${this.blockSize}, globalTokens=${this.globalTokens}`;
  }
}
