/**
 * The 2-D (patch grid) forms of T5, Shaw, DeBERTa, Transformer-XL, FLOATER, multiplicative and complex order
 * embeddings: their defining properties on the grid, float64 gradient checks and the errors for bad grids. The
 * values themselves are checked against PyTorch by the golden cases (*_2d.safetensors in golden-cases.test.ts).
 */
import fc from 'fast-check';
import { Generator, gradcheck, noGrad, randn, tensor, type Tensor } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import {
  ComplexOrderEmbedding,
  DebertaRelativeAttention,
  DebertaRelativeAttention2d,
  FloaterPositionEncoding,
  gridOffsets2d,
  MultiplicativePositionalEmbedding,
  relativePositionIndex2d,
  ShawRelativePosition,
  ShawRelativePosition2d,
  T5RelativePositionBias,
  T5RelativePositionBias2d,
  TransformerXLRelativePosition,
} from '../src/index.js';
import { expectClose, expectParamGradcheck, weightedSum } from './helpers.js';

const g = new Generator(47);
const f64 = (shape: number[], backend?: 'reference') => randn(shape, { generator: g, dtype: 'float64', backend });

/** The same vector at every token: (1, H, N, Dh). */
const constantTokens = (heads: number, n: number, dh: number) => f64([1, heads, 1, dh]).expand([1, heads, n, dh]).contiguous();

/**
 * Property: entry (i, j) of every head of `values` (H, N, N) depends only on the 2-D offset of patches i and j,
 * i.e. moving both patches by the same (dy, dx) inside an h x w grid leaves it unchanged; prefix rows and columns
 * are `prefixValue` when given.
 */
function expectOffsetOnly(values: ArrayLike<number>, heads: number, [h, w]: [number, number], prefix: number, prefixValue?: number): void {
  const n = prefix + h * w;
  const at = (head: number, i: number, j: number) => values[(head * n + i) * n + j];
  const tok = (y: number, x: number) => prefix + y * w + x;
  const cell = fc.tuple(fc.integer({ min: 0, max: h - 1 }), fc.integer({ min: 0, max: w - 1 }));
  fc.assert(
    fc.property(cell, cell, fc.integer({ min: -(h - 1), max: h - 1 }), fc.integer({ min: -(w - 1), max: w - 1 }), ([y1, x1], [y2, x2], dy, dx) => {
      const inside = (y: number, x: number) => y >= 0 && y < h && x >= 0 && x < w;
      if (!inside(y1 + dy, x1 + dx) || !inside(y2 + dy, x2 + dx)) return;
      for (let head = 0; head < heads; head++) {
        expect(at(head, tok(y1 + dy, x1 + dx), tok(y2 + dy, x2 + dx))).toBeCloseTo(at(head, tok(y1, x1), tok(y2, x2)), 10);
      }
    }),
    { seed: 17, numRuns: 150 },
  );
  if (prefixValue === undefined) return;
  for (let head = 0; head < heads; head++) {
    for (let p = 0; p < prefix; p++) {
      for (let j = 0; j < n; j++) {
        expect(at(head, p, j)).toBe(prefixValue);
        expect(at(head, j, p)).toBe(prefixValue);
      }
    }
  }
}

describe('the grid (grid-2d.ts)', () => {
  it('offsets are query minus key, and the Swin index is built from them', () => {
    const { dy, dx } = gridOffsets2d(2, 3);
    expect(dy[1 * 6 + 3]).toBe(-1); // patch 1 (row 0) vs patch 3 (row 1)
    expect(dx[2 * 6 + 3]).toBe(2); // column 2 vs column 0
    const idx = relativePositionIndex2d([2, 3]);
    expect(idx[1 * 6 + 3]).toBe((-1 + 1) * 5 + (1 + 2));
  });
});

describe('T5RelativePositionBias2d (T5 buckets per axis, iRPE bias mode)', () => {
  it('depends only on (dy, dx); prefix pairs get no bias; equals B^y[bucket(dy)] + B^x[bucket(dx)]', () => {
    const m = new T5RelativePositionBias2d({ numHeads: 2, numBuckets: 8, maxDistance: 5, dtype: 'float64', generator: new Generator(3) });
    const bias = m.call({ gridSize: [4, 5], numPrefixTokens: 1 }); // (1, 2, 21, 21)
    expect(bias.shape).toEqual([1, 2, 21, 21]);
    expectOffsetOnly(bias.dataSync(), 2, [4, 5], 1, 0);
    // Patch (0, 0) as query, patch (3, 4) as key: key - query = (+3, +4) -> buckets of +3 and +4.
    const [wy, wx] = [m.relativeAttentionBiasY.weight.dataSync(), m.relativeAttentionBiasX.weight.dataSync()];
    const { y, x } = m.bucketIndex({ gridSize: [4, 5], numPrefixTokens: 1 });
    const at = 1 * 21 + 1 + 3 * 5 + 4;
    expect(bias.dataSync()[at]).toBeCloseTo(wy[y[at] * 2] + wx[x[at] * 2], 12);
    expect(y[at]).toBe(4 + 2 + 0); // bidirectional, 8 buckets: positive side starts at 4, maxExact 2, +3 in the first log bucket
  });

  it('a larger grid reuses the same table: shared offsets give the same bias (no resizing)', () => {
    const m = new T5RelativePositionBias2d({ numHeads: 1, numBuckets: 16, maxDistance: 20, dtype: 'float64', generator: new Generator(4) });
    const small = m.call({ gridSize: [2, 3] }).dataSync(); // (1, 1, 6, 6)
    const large = m.call({ gridSize: [5, 7] }).dataSync(); // (1, 1, 35, 35)
    for (const [a, b] of [[0, 5], [4, 1], [2, 3]]) {
      const [ya, xa, yb, xb] = [Math.floor(a / 3), a % 3, Math.floor(b / 3), b % 3];
      expect(large[(ya * 7 + xa) * 35 + yb * 7 + xb]).toBe(small[a * 6 + b]);
    }
  });

  it('HF-style names; gradcheck (float64) of both tables', () => {
    const m = new T5RelativePositionBias2d({ numHeads: 2, numBuckets: 8, maxDistance: 5, dtype: 'float64', generator: new Generator(5) });
    expect([...m.stateDict().keys()]).toEqual(['relative_attention_bias_y.weight', 'relative_attention_bias_x.weight']);
    for (const p of m.parameters()) expectParamGradcheck(m, p, () => weightedSum(m.call({ gridSize: [2, 3], numPrefixTokens: 1 })));
  });

  it('rejects bad grids and bucket options with named messages', () => {
    const m = new T5RelativePositionBias2d({ numHeads: 1 });
    expect(() => m.call({ gridSize: [0, 2] })).toThrow(/T5RelativePositionBias2d: expected opts.gridSize\[0\] to be an integer >= 1; got 0/);
    expect(() => m.call({ gridSize: [2, 2, 2] as never })).toThrow(/opts.gridSize to be a number or \[H, W\]; got \[2,2,2\]/);
    expect(() => m.call(undefined as never)).toThrow(/expected opts \{ gridSize: \[H, W\]/);
    expect(() => new T5RelativePositionBias2d({ numHeads: 1, numBuckets: 8, maxDistance: 2 })).toThrow(/maxDistance \(=2\) to exceed the exact range/);
  });
});

describe('ShawRelativePosition2d (Shaw et al. per axis, iRPE cross method)', () => {
  it('q . a^K depends only on (dy, dx) for a constant query; prefix pairs get no relative term', () => {
    const m = new ShawRelativePosition2d({ headDim: 4, maxRelativePosition: 2, dtype: 'float64', generator: new Generator(6) });
    const q = constantTokens(2, 1 + 12, 4);
    expectOffsetOnly(m.keyScores(q, { gridSize: [3, 4], numPrefixTokens: 1 }).dataSync(), 2, [3, 4], 1, 0);
  });

  it('offsets beyond k share a vector on each axis', () => {
    const m = new ShawRelativePosition2d({ headDim: 4, maxRelativePosition: 1, dtype: 'float64', generator: new Generator(7) });
    const s = m.keyScores(constantTokens(1, 8, 4), { gridSize: [1, 8] }).dataSync(); // (1, 1, 8, 8)
    expect(s[0 * 8 + 3]).toBeCloseTo(s[0 * 8 + 7], 12); // dx = -3 and -7 both clip to -1
    expect(s[0 * 8 + 1]).not.toBeCloseTo(s[0 * 8 + 0], 6);
  });

  it('gradcheck (float64) w.r.t. q, k, v and every table; names', () => {
    const m = new ShawRelativePosition2d({ headDim: 3, maxRelativePosition: 1, dtype: 'float64', generator: new Generator(8) });
    expect([...m.stateDict().keys()]).toEqual(['relative_keys_y', 'relative_keys_x', 'relative_values_y', 'relative_values_x']);
    const grid = { gridSize: [2, 2] as [number, number], numPrefixTokens: 1 };
    const [q, k, v] = [f64([1, 2, 5, 3]), f64([1, 2, 5, 3]), f64([1, 2, 5, 3])];
    const ref = new ShawRelativePosition2d({ headDim: 3, maxRelativePosition: 1, dtype: 'float64', backend: 'reference', generator: new Generator(8) });
    expect(gradcheck((a: Tensor, b: Tensor, c: Tensor) => ref.call(a, b, c, grid), [q, k, v]).failures).toEqual([]);
    for (const p of m.parameters()) expectParamGradcheck(m, p, () => weightedSum(m.call(q, k, v, grid)));
  });

  it('values: false keeps plain values; rejects token counts that are not P + H W', () => {
    const m = new ShawRelativePosition2d({ headDim: 4, values: false });
    expect([...m.stateDict().keys()]).toEqual(['relative_keys_y', 'relative_keys_x']);
    const x = randn([1, 1, 6, 4]);
    expect(() => m.call(x, x, x, { gridSize: [2, 2], numPrefixTokens: 1 })).toThrow(/q.shape\[2\] = numPrefixTokens \+ H\*W = 1 \+ 2\*2 = 5 tokens; got 6/);
    expect(() => m.call(x, x, x, { gridSize: [2, -3] })).toThrow(/opts.gridSize\[1\] to be an integer >= 1; got -3/);
    expect(() => m.call(x, x, x, { gridSize: [2, 3], numPrefixTokens: -1 })).toThrow(/opts.numPrefixTokens to be an integer >= 0; got -1/);
  });
});

describe('DebertaRelativeAttention2d (c2p + p2c per axis)', () => {
  const opts = { hiddenSize: 8, numHeads: 2, positionBuckets: 4, maxRelativePositions: 10, dtype: 'float64' as const };

  it('constant content: the logits depend only on (dy, dx); prefix pairs keep content only', () => {
    const m = new DebertaRelativeAttention2d({ ...opts, generator: new Generator(9) });
    const [q, k] = [constantTokens(2, 13, 4), constantTokens(2, 13, 4)];
    const s = m.call(q, k, { gridSize: [3, 4], numPrefixTokens: 1 });
    expectOffsetOnly(s.dataSync(), 2, [3, 4], 1);
    // Prefix pairs: exactly q . k / sqrt(3 Dh), per head.
    const qk = q.mul(k).sum(3).dataSync(); // (1, 2, 13)
    for (const head of [0, 1]) expect(s.dataSync()[(head * 13 + 0) * 13 + 5]).toBeCloseTo(qk[head * 13] / Math.sqrt(12), 12);
  });

  it('names; gradcheck (float64) w.r.t. q, k and every parameter; errors', () => {
    const m = new DebertaRelativeAttention2d({ ...opts, generator: new Generator(10) });
    expect([...m.stateDict().keys()]).toEqual([
      'rel_embeddings_y.weight', 'rel_embeddings_x.weight', 'pos_key_proj.weight', 'pos_key_proj.bias', 'pos_query_proj.weight', 'pos_query_proj.bias',
    ]);
    const grid = { gridSize: [2, 3] as [number, number], numPrefixTokens: 1 };
    const [q, k] = [f64([1, 2, 7, 4]), f64([1, 2, 7, 4])];
    const ref = new DebertaRelativeAttention2d({ ...opts, backend: 'reference', generator: new Generator(10) });
    expect(gradcheck((a: Tensor, b: Tensor) => ref.call(a, b, grid), [q, k]).failures).toEqual([]);
    for (const p of m.parameters()) expectParamGradcheck(m, p, () => weightedSum(m.call(q, k, grid)));
    expect(() => m.call(q, k, { gridSize: [3, 3] })).toThrow(/q.shape\[2\] = numPrefixTokens \+ H\*W = 0 \+ 3\*3 = 9 tokens; got 7/);
    expect(() => m.call(q, k, undefined as never)).toThrow(/expected opts \{ gridSize/);
  });
});

describe('TransformerXLRelativePosition on a grid', () => {
  it('constant content: the logits depend only on (dy, dx); the same parameters serve 1-D and 2-D', () => {
    const m = new TransformerXLRelativePosition({ dModel: 8, numHeads: 2, headDim: 4, dtype: 'float64', generator: new Generator(11) });
    const [q, k] = [constantTokens(2, 13, 4), constantTokens(2, 13, 4)];
    const s = m.call(q, k, { gridSize: [3, 4], numPrefixTokens: 1 });
    expect(s.shape).toEqual([1, 2, 13, 13]);
    expectOffsetOnly(s.dataSync(), 2, [3, 4], 1);
    expect(m.call(q, k).shape).toEqual([1, 2, 13, 13]); // 1-D on the same module
  });

  it('prefix pairs keep only (q + u) . k', () => {
    const m = new TransformerXLRelativePosition({ dModel: 8, numHeads: 1, headDim: 4, dtype: 'float64', generator: new Generator(12) });
    const [q, k] = [f64([1, 1, 5, 4]), f64([1, 1, 5, 4])];
    const s = m.call(q, k, { gridSize: [2, 2], numPrefixTokens: 1 }).dataSync();
    const qu = q.add(m.rWBias.reshape([1, 1, 1, 4]));
    const expected = qu.narrow(2, 0, 1).mul(k.narrow(2, 3, 1)).sum().item();
    expect(s[0 * 5 + 3]).toBeCloseTo(expected, 12);
  });

  it('gradcheck (float64) w.r.t. q, k and every parameter; dModel must split into 4', () => {
    const m = new TransformerXLRelativePosition({ dModel: 8, numHeads: 2, headDim: 3, dtype: 'float64', generator: new Generator(13) });
    const grid = { gridSize: [2, 2] as [number, number], numPrefixTokens: 1 };
    const [q, k] = [f64([1, 2, 5, 3]), f64([1, 2, 5, 3])];
    const ref = new TransformerXLRelativePosition({ dModel: 8, numHeads: 2, headDim: 3, dtype: 'float64', backend: 'reference', generator: new Generator(13) });
    expect(gradcheck((a: Tensor, b: Tensor) => ref.call(a, b, grid), [q, k]).failures).toEqual([]);
    for (const p of m.parameters()) expectParamGradcheck(m, p, () => weightedSum(m.call(q, k, grid)));
    const odd = new TransformerXLRelativePosition({ dModel: 6, numHeads: 2, headDim: 3 });
    const x = randn([1, 2, 4, 3]);
    expect(() => odd.call(x, x, { gridSize: [2, 2] })).toThrow(/opts.dModel divisible by 4 in 2-D .* got 6/);
    expect(() => m.call(q.to('float32'), q.to('float32'), { gridSize: [2, 3] })).toThrow(/= 0 \+ 2\*3 = 6 tokens; got 5/);
  });
});

describe('FLOATER on a grid', () => {
  it('columns fill the first D/2 channels and rows the last D/2, read off the 1-D trajectory; prefix + 0', () => {
    const m = new FloaterPositionEncoding({ dim: 4, hiddenDim: 6, interval: 0.2, dtype: 'float64', generator: new Generator(14) });
    const table = m.gridTable({ gridSize: [2, 3], numPrefixTokens: 1 }).dataSync(); // (7, 4)
    const traj = m.positions(3).dataSync(); // (3, 4)
    expect(Array.from(table.slice(0, 4))).toEqual([0, 0, 0, 0]);
    for (let a = 0; a < 6; a++) {
      const [r, c] = [Math.floor(a / 3), a % 3];
      const row = Array.from(table.slice((1 + a) * 4, (2 + a) * 4));
      expectClose(row, [traj[c * 4], traj[c * 4 + 1], traj[r * 4 + 2], traj[r * 4 + 3]], { rtol: 0, atol: 0 }, `patch ${a}`);
    }
    const x = f64([2, 7, 4]);
    expectClose(m.call(x, { gridSize: [2, 3], numPrefixTokens: 1 }).narrow(1, 0, 1).dataSync(), x.narrow(1, 0, 1).dataSync(), { rtol: 0, atol: 0 }, 'class token');
  });

  it('any grid works: a larger grid extends the smaller one (integrate further)', () => {
    const m = new FloaterPositionEncoding({ dim: 2, hiddenDim: 4, dtype: 'float64', generator: new Generator(15) });
    const small = m.gridTable({ gridSize: [2, 2] }).dataSync(); // (4, 2)
    const large = m.gridTable({ gridSize: [5, 6] }).dataSync(); // (30, 2)
    for (const [a, y, x] of [[0, 0, 0], [1, 0, 1], [3, 1, 1]]) {
      expectClose(large.slice((y * 6 + x) * 2, (y * 6 + x) * 2 + 2), small.slice(a * 2, a * 2 + 2), { rtol: 1e-12, atol: 1e-14 }, `patch ${a}`);
    }
  });

  it('gradcheck (float64) w.r.t. x and every parameter; errors for bad grids', () => {
    const m = new FloaterPositionEncoding({ dim: 4, hiddenDim: 3, dtype: 'float64', generator: new Generator(16) });
    const grid = { gridSize: [2, 2] as [number, number], numPrefixTokens: 1 };
    const x = f64([1, 5, 4]); // gradcheck moves it to the reference backend, where `ref` lives
    const ref = new FloaterPositionEncoding({ dim: 4, hiddenDim: 3, dtype: 'float64', backend: 'reference', generator: new Generator(16) });
    expect(gradcheck((a: Tensor) => ref.call(a, grid), [x]).failures).toEqual([]);
    for (const p of m.parameters()) expectParamGradcheck(m, p, () => weightedSum(m.call(x, grid)));
    expect(() => m.call(x, { gridSize: [2, 3], numPrefixTokens: 1 })).toThrow(/x.shape\[-2\] = numPrefixTokens \+ H\*W = 1 \+ 2\*3 = 7 tokens; got 5/);
    expect(() => m.call(x, { ...grid, offset: 2 })).toThrow(/opts.offset or opts.gridSize, not both/);
    expect(() => m.call(x, { numPrefixTokens: 1 })).toThrow(/expected opts.gridSize with opts.numPrefixTokens; got numPrefixTokens 1 alone/);
    const odd = new FloaterPositionEncoding({ dim: 3 });
    expect(() => odd.gridTable({ gridSize: 2 })).toThrow(/expected dim to be even in 2-D .* got 3/);
  });
});

describe('MultiplicativePositionalEmbedding on a grid', () => {
  it('same column -> same first-half factors, same row -> same second-half factors; prefix tokens unchanged', () => {
    const m = new MultiplicativePositionalEmbedding({ numPositions: 4, dim: 4, initStd: 0.3, dtype: 'float64', generator: new Generator(17) });
    const t = m.gridTable({ gridSize: [3, 4], numPrefixTokens: 2 }).dataSync(); // (14, 4)
    const w = m.weight.dataSync();
    expect(Array.from(t.slice(0, 8))).toEqual([1, 1, 1, 1, 1, 1, 1, 1]);
    for (let a = 0; a < 12; a++) {
      const [r, c] = [Math.floor(a / 4), a % 4];
      expect(Array.from(t.slice((2 + a) * 4, (3 + a) * 4))).toEqual([w[c * 4], w[c * 4 + 1], w[r * 4 + 2], w[r * 4 + 3]]);
    }
    const x = f64([1, 14, 4]);
    expect(Array.from(m.call(x, { gridSize: [3, 4], numPrefixTokens: 2 }).narrow(1, 0, 2).dataSync())).toEqual(Array.from(x.narrow(1, 0, 2).dataSync()));
  });

  it('gradcheck (float64) w.r.t. x and the table; a grid side past the table is an error', () => {
    const m = new MultiplicativePositionalEmbedding({ numPositions: 3, dim: 2, dtype: 'float64', generator: new Generator(18) });
    const grid = { gridSize: [2, 3] as [number, number], numPrefixTokens: 1 };
    const x = f64([2, 7, 2]);
    const ref = new MultiplicativePositionalEmbedding({ numPositions: 3, dim: 2, dtype: 'float64', backend: 'reference', generator: new Generator(18) });
    expect(gradcheck((a: Tensor) => ref.call(a, grid), [x]).failures).toEqual([]);
    expectParamGradcheck(m, m.weight, () => weightedSum(m.call(x, grid)));
    expect(() => m.call(f64([1, 17, 2]), { gridSize: [4, 4], numPrefixTokens: 1 })).toThrow(/opts.gridSize sides <= numPositions \(=3\); got \[4, 4\]/);
    expect(() => m.call(x, { gridSize: [2, 2], numPrefixTokens: 1 })).toThrow(/= 1 \+ 2\*2 = 5 tokens; got 7/);
  });
});

describe('ComplexOrderEmbedding on a grid', () => {
  it('one column to the right multiplies the first D/2 dims by exp(i omega) and leaves the row half; |f| = |r|', () => {
    const m = new ComplexOrderEmbedding({ numEmbeddings: 3, dim: 4, dtype: 'float64', generator: new Generator(19) });
    noGrad(() => m.frequency.weight.copy_(f64([3, 4])));
    const ids = tensor(Int32Array.from([2, 1, 1, 1, 1, 1, 1]), { shape: [1, 7], dtype: 'int32' }); // class token + 2 x 3 patches of word 1
    const z = m.call(ids, { gridSize: [2, 3], numPrefixTokens: 1 });
    const [re, im] = [z.re.dataSync(), z.im.dataSync()];
    const omega = m.frequency.weight.dataSync().slice(4, 8);
    const r = m.amplitude.weight.dataSync().slice(4, 8);
    const tok = (a: number, j: number) => (1 + a) * 4 + j;
    for (const [a, b] of [[0, 1], [4, 5]]) {
      for (let j = 0; j < 4; j++) {
        const rot = j < 2 ? omega[j] : 0; // the column half turns by omega, the row half not at all
        const [c, s] = [Math.cos(rot), Math.sin(rot)];
        expect(re[tok(b, j)]).toBeCloseTo(c * re[tok(a, j)] - s * im[tok(a, j)], 12);
        expect(im[tok(b, j)]).toBeCloseTo(s * re[tok(a, j)] + c * im[tok(a, j)], 12);
        expect(Math.hypot(re[tok(b, j)], im[tok(b, j)])).toBeCloseTo(Math.abs(r[j]), 12);
      }
    }
    // The class token has pos 0 everywhere: r e^{i theta}, theta = 0 at init.
    const amp0 = m.amplitude.weight.dataSync().slice(8, 12);
    expectClose(re.slice(0, 4), amp0, { rtol: 0, atol: 1e-15 }, 'class token re');
  });

  it('gradcheck (float64) of every table on a grid; errors', () => {
    const m = new ComplexOrderEmbedding({ numEmbeddings: 3, dim: 2, dtype: 'float64', generator: new Generator(20) });
    const ids = tensor(Int32Array.from([0, 2, 1, 2, 0]), { shape: [1, 5], dtype: 'int32' });
    const grid = { gridSize: [2, 2] as [number, number], numPrefixTokens: 1 };
    for (const p of m.parameters()) expectParamGradcheck(m, p, () => { const z = m.call(ids, grid); return weightedSum(z.re).add(weightedSum(z.im, 5)); });
    expect(() => m.call(ids, { gridSize: [2, 3] })).toThrow(/ids.shape\[-1\] = numPrefixTokens \+ H\*W = 0 \+ 2\*3 = 6 tokens; got 5/);
    const odd = new ComplexOrderEmbedding({ numEmbeddings: 3, dim: 3 });
    expect(() => odd.call(tensor(Int32Array.from([0, 1, 2, 0]), { shape: [1, 4], dtype: 'int32' }), { gridSize: 2 })).toThrow(/dim to be even in 2-D/);
  });
});

describe('on a 1 x T grid with the row table zeroed, the 2-D forms reduce to their 1-D modules', () => {
  const copy = (dst: Tensor, src: Tensor) => noGrad(() => dst.copy_(src));

  it('T5', () => {
    const m2 = new T5RelativePositionBias2d({ numHeads: 2, numBuckets: 8, maxDistance: 5, dtype: 'float64', generator: new Generator(21) });
    const m1 = new T5RelativePositionBias({ numHeads: 2, numBuckets: 8, maxDistance: 5, dtype: 'float64', generator: new Generator(22) });
    noGrad(() => m2.relativeAttentionBiasY.weight.zero_());
    copy(m1.relativeAttentionBias.weight, m2.relativeAttentionBiasX.weight);
    expectClose(m2.call({ gridSize: [1, 9] }).dataSync(), m1.call(9, 9).dataSync(), { rtol: 0, atol: 0 }, 'bias');
  });

  it('Shaw', () => {
    const m2 = new ShawRelativePosition2d({ headDim: 4, maxRelativePosition: 2, dtype: 'float64', generator: new Generator(23) });
    const m1 = new ShawRelativePosition({ headDim: 4, maxRelativePosition: 2, dtype: 'float64', generator: new Generator(24) });
    noGrad(() => {
      m2.relativeKeysY.zero_();
      m2.relativeValuesY!.zero_();
    });
    copy(m1.relativeKeys, m2.relativeKeysX);
    copy(m1.relativeValues!, m2.relativeValuesX!);
    const [q, k, v] = [f64([2, 2, 6, 4]), f64([2, 2, 6, 4]), f64([2, 2, 6, 4])];
    expectClose(m2.call(q, k, v, { gridSize: [1, 6] }).dataSync(), m1.call(q, k, v).dataSync(), { rtol: 1e-12, atol: 1e-12 }, 'attention');
  });

  it('DeBERTa (the projection bias is counted once)', () => {
    const opts = { hiddenSize: 8, numHeads: 2, positionBuckets: 4, maxRelativePositions: 10, dtype: 'float64' as const };
    const m2 = new DebertaRelativeAttention2d({ ...opts, generator: new Generator(25) });
    const m1 = new DebertaRelativeAttention({ ...opts, generator: new Generator(26) });
    noGrad(() => m2.relEmbeddingsY.weight.zero_());
    copy(m1.relEmbeddings.weight, m2.relEmbeddingsX.weight);
    for (const name of ['posKeyProj', 'posQueryProj'] as const) {
      copy(m1[name]!.weight, m2[name]!.weight);
      copy(m1[name]!.bias!, m2[name]!.bias!);
    }
    const [q, k] = [f64([1, 2, 7, 4]), f64([1, 2, 7, 4])];
    expectClose(m2.call(q, k, { gridSize: [1, 7] }).dataSync(), m1.call(q, k).dataSync(), { rtol: 1e-12, atol: 1e-12 }, 'logits');
  });
});
