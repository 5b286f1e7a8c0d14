import fc from 'fast-check';
import { Generator, gradcheck, matmul, noGrad, randn, softmax, zeros, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import {
  DebertaRelativeAttention,
  debertaLogBucketPosition,
  relShift,
  ShawRelativePosition,
  shawRelativeIndex,
  TransformerXLRelativePosition,
} from '../src/index.js';
import { expectClose, expectParamGradcheck, weightedSum } from './helpers.js';

const g = new Generator(31);
const f64 = (shape: number[], backend?: 'reference') => randn(shape, { generator: g, dtype: 'float64', backend });

describe('ShawRelativePosition (Shaw et al. 2018)', () => {
  it('clips distances at k: keys farther than k share one vector', () => {
    expect(Array.from(shawRelativeIndex(1, 8, 2, 0))).toEqual([2, 3, 4, 4, 4, 4, 4, 4]);
    expect(Array.from(shawRelativeIndex(2, 3, 1))).toEqual([0, 1, 2, 0, 0, 1]); // queries at 1, 2 (decoding offset)
  });

  it('with zero relative tables it is plain softmax attention; with values it adds sum_j alpha_ij a^V_ij', () => {
    const m = new ShawRelativePosition({ headDim: 4, maxRelativePosition: 2, dtype: 'float64' });
    const [q, k, v] = [f64([2, 2, 3, 4]), f64([2, 2, 5, 4]), f64([2, 2, 5, 4])];
    noGrad(() => {
      m.relativeKeys.zero_();
      m.relativeValues!.zero_();
    });
    const plain = matmul(softmax(matmul(q, k.transpose(2, 3)).mul(0.5), -1), v);
    expectClose(m.call(q, k, v).dataSync(), plain.dataSync(), { rtol: 1e-12, atol: 1e-12 });
  });

  it('scores are translation-invariant: shifting queries and keys together changes nothing', () => {
    const m = new ShawRelativePosition({ headDim: 4, maxRelativePosition: 3, dtype: 'float64', generator: new Generator(2) });
    const q = f64([1, 1, 2, 4]);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 6 }), (shift) => {
        // Query offset o against Tk keys is the same as offset o + shift against Tk + shift keys, read at the last Tk.
        const a = m.keyScores(q, 4, { queryOffset: 1 }).dataSync();
        const b = m.keyScores(q, 4 + shift, { queryOffset: 1 + shift }).narrow(3, shift, 4).contiguous().dataSync();
        expectClose(b, a, { rtol: 0, atol: 0 });
      }),
      { seed: 7, numRuns: 10 },
    );
  });

  it('gradcheck (float64) w.r.t. q, k, v and both tables', () => {
    const ref = new ShawRelativePosition({ headDim: 3, maxRelativePosition: 2, dtype: 'float64', backend: 'reference', generator: new Generator(4) });
    const [q, k, v] = [f64([1, 2, 3, 3]), f64([1, 2, 4, 3]), f64([1, 2, 4, 3])];
    expect(gradcheck((a: Tensor, b: Tensor, c: Tensor) => ref.call(a, b, c), [q, k, v]).failures).toEqual([]);
    const m = new ShawRelativePosition({ headDim: 3, maxRelativePosition: 2, dtype: 'float64', generator: new Generator(4) });
    expectParamGradcheck(m, m.relativeKeys, () => weightedSum(m.call(q, k, v)));
    expectParamGradcheck(m, m.relativeValues!, () => weightedSum(m.call(q, k, v)));
  });

  it('values: false drops a^V; bad shapes are named', () => {
    const m = new ShawRelativePosition({ headDim: 4, values: false });
    expect([...m.stateDict().keys()]).toEqual(['relative_keys']);
    expect(() => m.call(zeros([1, 1, 2, 3]), zeros([1, 1, 2, 4]), zeros([1, 1, 2, 4]))).toThrow(/expected q of shape \(B, H, T, Dh = 4\); got \[1, 1, 2, 3\]/);
    expect(() => m.call(zeros([1, 1, 2, 4]), zeros([1, 1, 3, 4]), zeros([1, 1, 2, 4]))).toThrow(/k and v \(B, H, Tk, Dh\)/);
    expect(() => new ShawRelativePosition({ headDim: 4, maxRelativePosition: 0 })).toThrow(/opts.maxRelativePosition to be an integer >= 1; got 0/);
  });
});

describe('TransformerXLRelativePosition (Dai et al. 2019) and relShift', () => {
  /** A_ij = (q_i + u) . k_j + (q_i + v) . W_r R(mlen + i - j), one entry at a time (the O(N^2) form). */
  function naive(m: TransformerXLRelativePosition, q: Tensor, k: Tensor): number[] {
    const [b, h, tq, dh] = q.shape;
    const tk = k.shape[2];
    const W = m.rNet.weight.dataSync();
    const [u, v] = [m.rWBias.dataSync(), m.rRBias.dataSync()];
    const [qs, ks] = [q.dataSync(), k.dataSync()];
    const d = m.dModel;
    const out: number[] = [];
    for (let bb = 0; bb < b; bb++) for (let hh = 0; hh < h; hh++) for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) {
      const dist = tk - tq + i - j;
      const R = Array.from({ length: d }, (_, f) => (f < d / 2 ? Math.sin(dist / 10000 ** ((2 * f) / d)) : Math.cos(dist / 10000 ** ((2 * (f - d / 2)) / d))));
      let s = 0;
      for (let e = 0; e < dh; e++) {
        const qi = qs[((bb * h + hh) * tq + i) * dh + e];
        const kj = ks[((bb * h + hh) * tk + j) * dh + e];
        let r = 0;
        for (let f = 0; f < d; f++) r += W[(hh * dh + e) * d + f] * R[f];
        s += (qi + u[hh * dh + e]) * kj + (qi + v[hh * dh + e]) * r;
      }
      out.push(s);
    }
    return out;
  }

  it('the relative-shift trick equals the naive O(N^2) form, with and without memory', () => {
    const m = new TransformerXLRelativePosition({ dModel: 6, numHeads: 2, headDim: 3, dtype: 'float64', generator: new Generator(5) });
    for (const [tq, tk] of [[4, 4], [2, 5], [1, 3]]) {
      const [q, k] = [f64([2, 2, tq, 3]), f64([2, 2, tk, 3])];
      expectClose(m.call(q, k).dataSync(), naive(m, q, k), { rtol: 1e-12, atol: 1e-12 }, `Tq ${tq}, Tk ${tk}`);
    }
  });

  it('relShift moves column Tq - i + j of row i to (i, j) for any sizes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 5 }), fc.integer({ min: 0, max: 4 }), (tq, mem) => {
        const tk = tq + mem;
        const l = tk + tq;
        const x = randn([2, tq, l], { generator: new Generator(tq * 10 + mem), dtype: 'float64' });
        const xs = x.dataSync();
        const y = relShift(x, tk).contiguous().dataSync();
        for (let b = 0; b < 2; b++) for (let i = 0; i < tq; i++) for (let j = 0; j < tk; j++) {
          expect(y[(b * tq + i) * tk + j]).toBe(xs[(b * tq + i) * l + (tq - i + j)]);
        }
      }),
      { seed: 3, numRuns: 20 },
    );
  });

  it('HF TransfoXL names; gradcheck (float64) w.r.t. q, k, u, v and W_r', () => {
    const m = new TransformerXLRelativePosition({ dModel: 4, numHeads: 2, headDim: 2, dtype: 'float64', generator: new Generator(6) });
    expect([...m.stateDict().keys()]).toEqual(['r_w_bias', 'r_r_bias', 'r_net.weight']);
    const ref = new TransformerXLRelativePosition({ dModel: 4, numHeads: 2, headDim: 2, dtype: 'float64', backend: 'reference', generator: new Generator(6) });
    const [q, k] = [f64([1, 2, 2, 2]), f64([1, 2, 3, 2])];
    expect(gradcheck((a: Tensor, b: Tensor) => ref.call(a, b), [q, k]).failures).toEqual([]);
    for (const p of m.parameters()) expectParamGradcheck(m, p, () => weightedSum(m.call(q, k)));
  });

  it('rejects wrong shapes and more queries than keys', () => {
    const m = new TransformerXLRelativePosition({ dModel: 4, numHeads: 2, headDim: 2 });
    expect(() => m.call(zeros([1, 2, 3, 2]), zeros([1, 2, 2, 2]))).toThrow(/expected Tq <= Tk .*got Tq 3, Tk 2/);
    expect(() => m.call(zeros([1, 3, 2, 2]), zeros([1, 3, 2, 2]))).toThrow(/expected q \(B, H = 2, Tq, Dh = 2\)/);
    expect(() => new TransformerXLRelativePosition({ dModel: 5, numHeads: 1, headDim: 1 })).toThrow(/even opts.dModel/);
    expect(() => relShift(zeros([2, 5]), 2)).toThrow(/x.shape\[-1\] = Tk \+ Tq \(=2 \+ 2\); got 5/);
  });
});

describe('DebertaRelativeAttention (He et al. 2021)', () => {
  it('log buckets: exact inside bucketSize/2, odd-symmetric, monotone in |d|, bounded by the span', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 64 }), fc.integer({ min: 2, max: 40 }), fc.integer({ min: -2000, max: 2000 }), (mid, extra, d) => {
        const bucket = 2 * mid;
        const maxPos = mid + extra + 1;
        const b = debertaLogBucketPosition(d, bucket, maxPos);
        expect(debertaLogBucketPosition(-d, bucket, maxPos)).toBe(-b);
        if (Math.abs(d) <= mid) expect(b).toBe(d);
        expect(Math.abs(debertaLogBucketPosition(d + Math.sign(d || 1), bucket, maxPos))).toBeGreaterThanOrEqual(Math.abs(b));
        if (Math.abs(d) <= maxPos - 1) expect(Math.abs(b)).toBeLessThanOrEqual(2 * mid - 1);
      }),
      { seed: 11, numRuns: 300 },
    );
  });

  it('the bucket edges: each log bucket starts where mid * ((maxPos - 1)/mid)^((b - mid)/(mid - 1)) first exceeds', () => {
    const [mid, maxPos] = [16, 128];
    for (let d = mid + 1; d < 400; d++) {
      const b = debertaLogBucketPosition(d, 2 * mid, maxPos);
      const real = Math.log(d / mid) / Math.log((maxPos - 1) / mid) * (mid - 1);
      // Away from the float32 rounding window the bucket is the float64 ceil; within it the float32 value decides.
      if (Math.abs(real - Math.round(real)) > 1e-4) expect(b).toBe(Math.ceil(real) + mid);
    }
  });

  it('equals the explicit sum of c2p and p2c terms over sqrt(3 Dh)', () => {
    const m = new DebertaRelativeAttention({ hiddenSize: 4, numHeads: 1, headDim: 2, positionBuckets: 4, maxRelativePositions: 6, dtype: 'float64', generator: new Generator(2) });
    const [q, k] = [f64([1, 1, 5, 2]), f64([1, 1, 5, 2])];
    const out = m.call(q, k).dataSync();
    const rel = m.relEmbeddings.weight;
    const Kr = m.posKeyProj!.call(rel).dataSync(); // (2 span, Dh)
    const Qr = m.posQueryProj!.call(rel).dataSync();
    const [qs, ks] = [q.dataSync(), k.dataSync()];
    const span = 4;
    const idx = (d: number) => Math.min(2 * span - 1, Math.max(0, debertaLogBucketPosition(d, 4, 6) + span));
    for (let i = 0; i < 5; i++) for (let j = 0; j < 5; j++) {
      let s = 0;
      for (let e = 0; e < 2; e++) s += qs[i * 2 + e] * ks[j * 2 + e] + qs[i * 2 + e] * Kr[idx(i - j) * 2 + e] + ks[j * 2 + e] * Qr[idx(j - i) * 2 + e];
      expect(out[i * 5 + j]).toBeCloseTo(s / Math.sqrt(3 * 2), 12);
    }
  });

  it('HF DebertaV2 names; only the requested terms; gradcheck (float64) w.r.t. q, k and every parameter', () => {
    const m = new DebertaRelativeAttention({ hiddenSize: 4, numHeads: 2, positionBuckets: 4, maxRelativePositions: 8, dtype: 'float64', generator: new Generator(3) });
    expect([...m.stateDict().keys()]).toEqual(['rel_embeddings.weight', 'pos_key_proj.weight', 'pos_key_proj.bias', 'pos_query_proj.weight', 'pos_query_proj.bias']);
    expect([...new DebertaRelativeAttention({ hiddenSize: 4, numHeads: 2, posAttType: ['c2p'] }).stateDict().keys()]).toEqual(['rel_embeddings.weight', 'pos_key_proj.weight', 'pos_key_proj.bias']);
    const ref = new DebertaRelativeAttention({ hiddenSize: 4, numHeads: 2, positionBuckets: 4, maxRelativePositions: 8, dtype: 'float64', backend: 'reference', generator: new Generator(3) });
    const [q, k] = [f64([1, 2, 3, 2]), f64([1, 2, 4, 2])];
    expect(gradcheck((a: Tensor, b: Tensor) => ref.call(a, b), [q, k]).failures).toEqual([]);
    for (const p of m.parameters()) expectParamGradcheck(m, p, () => weightedSum(m.call(q, k)));
  });

  it('rejects bad options and shapes with named messages', () => {
    expect(() => new DebertaRelativeAttention({ hiddenSize: 6, numHeads: 4 })).toThrow(/opts.hiddenSize \(6\) divisible by opts.numHeads \(4\)/);
    expect(() => new DebertaRelativeAttention({ hiddenSize: 4, numHeads: 2, posAttType: ['p2p'] as never })).toThrow(/'c2p' or 'p2c'; got "p2p"/);
    expect(() => new DebertaRelativeAttention({ hiddenSize: 4, numHeads: 2, positionBuckets: 2 })).toThrow(/positionBuckets 0 or >= 4; got 2/);
    const m = new DebertaRelativeAttention({ hiddenSize: 4, numHeads: 2, positionBuckets: 4 });
    expect(() => m.call(zeros([1, 2, 3, 3]), zeros([1, 2, 3, 3]))).toThrow(/expected q \(B, H = 2, Tq, Dh = 2\)/);
  });
});
