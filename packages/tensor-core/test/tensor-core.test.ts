import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Generator, arange, broadcastShapes, eye, full, linspace, manualSeed, ones, rand, randint, randn, randperm, tensor, zeros,
  zerosLike, onesLike, reshape, permute, transpose, slice, flip, expand, unsqueeze, squeeze, flatten, contiguous, view, add,
  narrow, select, movedim, tidy, keep, noGrad,
} from '../src/index.js';

const ref = { backend: 'reference' as const };

describe('creation', () => {
  it('builds from nested arrays, flat data with shape, typed arrays and numbers', () => {
    const a = tensor([[1, 2], [3, 4]], ref);
    expect(a.shape).toEqual([2, 2]);
    expect(a.dtype).toBe('float32');
    expect(a.tolist()).toEqual([[1, 2], [3, 4]]);
    expect(tensor([1, 2, 3, 4, 5, 6], { ...ref, shape: [2, 3] }).tolist()).toEqual([[1, 2, 3], [4, 5, 6]]);
    expect(tensor(new Int32Array([7, 8]), ref).dtype).toBe('int32');
    expect(tensor(new Float64Array([0.1]), ref).dtype).toBe('float64');
    expect(tensor(new Float64Array([0.1]), ref).item()).toBe(0.1);
    const s = tensor(3.5, ref);
    expect(s.shape).toEqual([]);
    expect(s.item()).toBe(3.5);
    expect(tensor([true, false], ref).tolist()).toEqual([1, 0]);
  });

  it('copies the caller data (never retains or mutates it)', () => {
    const src = new Float32Array([1, 2, 3]);
    const t = tensor(src, ref);
    src[0] = 99;
    expect(t.tolist()).toEqual([1, 2, 3]);
    const out = t.dataSync();
    out[1] = -5;
    expect(t.tolist()).toEqual([1, 2, 3]);
  });

  it('fills, ranges and identity', () => {
    expect(zeros([2, 1], ref).tolist()).toEqual([[0], [0]]);
    expect(ones([3], ref).tolist()).toEqual([1, 1, 1]);
    expect(full([2], 7, ref).tolist()).toEqual([7, 7]);
    expect(arange(5, undefined, 1, ref).tolist()).toEqual([0, 1, 2, 3, 4]);
    expect(arange(5, undefined, 1, ref).dtype).toBe('int32');
    expect(arange(1, 2, 0.25, ref).tolist()).toEqual([1, 1.25, 1.5, 1.75]);
    expect(arange(3, 0, -1, ref).tolist()).toEqual([3, 2, 1]);
    expect(linspace(0, 1, 5, ref).tolist()).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(eye(2, 3, ref).tolist()).toEqual([[1, 0, 0], [0, 1, 0]]);
    const z = tensor([[1.5, 2]], { ...ref, dtype: 'float64' });
    expect(zerosLike(z).dtype).toBe('float64');
    expect(onesLike(z).tolist()).toEqual([[1, 1]]);
  });

  it('rejects bad shapes, data and dtypes with clear messages', () => {
    expect(() => tensor([[1, 2], [3]], ref)).toThrow(/rectangular nested array: data\[1\] should have length 2; got length 1/);
    expect(() => tensor([1, 2, 3], { ...ref, shape: [2, 2] })).toThrow(/expected 4 values for shape \[2,2\]; got 3/);
    expect(() => zeros([2, -1], ref)).toThrow(/non-negative integers/);
    expect(() => arange(0, 1, 0, ref)).toThrow(/nonzero step/);
    expect(() => tensor([1], { ...ref, dtype: 'int32', requiresGrad: true })).toThrow(/only floating point tensors can require gradients/);
    expect(() => tensor([1, 2], ref).item()).toThrow(/item: expected a tensor with one element; got shape \[2\]/);
  });
});

describe('random numbers', () => {
  it('is reproducible per seed and differs across seeds', () => {
    const a = randn([5], { ...ref, generator: new Generator(1) }).tolist();
    const b = randn([5], { ...ref, generator: new Generator(1) }).tolist();
    const c = randn([5], { ...ref, generator: new Generator(2) }).tolist();
    expect(a).toEqual(b);
    expect(a).not.toEqual(c);
    manualSeed(11);
    const d = rand([4], ref).tolist();
    manualSeed(11);
    expect(rand([4], ref).tolist()).toEqual(d);
  });

  it('has the right moments and ranges', () => {
    const g = new Generator(123);
    const n = 20000;
    const u = rand([n], { ...ref, generator: g, dtype: 'float64' }).dataSync();
    const z = randn([n], { ...ref, generator: g, dtype: 'float64' }).dataSync();
    let mu = 0;
    let mz = 0;
    let vz = 0;
    let inRange = true;
    for (let i = 0; i < n; i++) {
      inRange &&= u[i] >= 0 && u[i] < 1;
      mu += u[i] / n;
      mz += z[i] / n;
    }
    for (let i = 0; i < n; i++) vz += (z[i] - mz) ** 2 / n;
    expect(inRange).toBe(true);
    // Standard errors: 0.29/sqrt(n) = 0.002 for the uniform mean, 0.007 for the normal mean, 0.01 for its variance.
    expect(Math.abs(mu - 0.5)).toBeLessThan(0.01);
    expect(Math.abs(mz)).toBeLessThan(0.03);
    expect(Math.abs(vz - 1)).toBeLessThan(0.04);
    const k = randint(-2, 3, [1000], { ...ref, generator: g }).dataSync();
    const seen = new Set(k);
    expect([...seen].sort((p, q) => p - q)).toEqual([-2, -1, 0, 1, 2]);
    expect([...randperm(6, { ...ref, generator: g }).dataSync()].sort((p, q) => p - q)).toEqual([0, 1, 2, 3, 4, 5]);
  });

  it('saves and restores generator state', () => {
    const g = new Generator(5);
    g.nextNormal();
    const state = g.getState();
    const a = [g.nextNormal(), g.nextUint32()];
    g.setState(state);
    expect([g.nextNormal(), g.nextUint32()]).toEqual(a);
  });
});

describe('broadcasting', () => {
  it('follows the PyTorch rules', () => {
    expect(broadcastShapes('t', [2, 1, 3], [4, 1])).toEqual([2, 4, 3]);
    expect(broadcastShapes('t', [], [3])).toEqual([3]);
    expect(broadcastShapes('t', [0, 1], [1, 5])).toEqual([0, 5]);
    expect(() => broadcastShapes('add', [2, 3], [4, 3])).toThrow('add: shapes [2,3] and [4,3] are not broadcastable: dim -2 has sizes 2 and 4');
    const a = tensor([[1], [2]], ref);
    const b = tensor([10, 20, 30], ref);
    expect(add(a, b).tolist()).toEqual([[11, 21, 31], [12, 22, 32]]);
    expect(() => add(tensor([1, 2], ref), tensor([1, 2, 3], ref))).toThrow(/not broadcastable/);
  });

  it('property: the broadcast shape equals an elementwise max with size-1 expansion, and add agrees with explicit expand', () => {
    const dim = fc.integer({ min: 1, max: 3 });
    fc.assert(
      fc.property(fc.array(dim, { minLength: 0, maxLength: 3 }), fc.array(fc.boolean(), { minLength: 3, maxLength: 3 }), fc.integer({ min: 0, max: 3 }), (shape, ones_, drop) => {
        const other = shape.map((d, i) => (ones_[i] ? 1 : d)).slice(Math.min(drop, shape.length));
        const out = broadcastShapes('p', shape, other);
        expect(out).toEqual(shape);
        const a = randn(shape, { ...ref, generator: new Generator(shape.length) });
        const b = randn(other, { ...ref, generator: new Generator(9) });
        const viaExpand = add(a, contiguous(expand(b, shape)));
        expect(add(a, b).tolist()).toEqual(viaExpand.tolist());
        expect(add(b, a).tolist()).toEqual(viaExpand.tolist());
      }),
      { seed: 42, numRuns: 60 },
    );
  });
});

describe('views', () => {
  const x = () => arange(24, undefined, 1, { ...ref, dtype: 'float32' }).reshape(2, 3, 4);

  it('share storage and have the expected values', () => {
    const t = x();
    const p = permute(t, [2, 0, 1]);
    expect(p.shape).toEqual([4, 2, 3]);
    expect(p.sharesStorageWith(t)).toBe(true);
    expect(p.tolist()[1][1][2]).toBe(t.tolist()[1][2][1]);
    expect(transpose(t, 0, 2).shape).toEqual([4, 3, 2]);
    expect(slice(t, 2, 1, null, 2).tolist()).toEqual([[[1, 3], [5, 7], [9, 11]], [[13, 15], [17, 19], [21, 23]]]);
    expect(slice(t, 1, -2).shape).toEqual([2, 2, 4]);
    expect(slice(t, 1, 5, 10).shape).toEqual([2, 0, 4]);
    expect(narrow(t, 2, 1, 2).tolist()[0][0]).toEqual([1, 2]);
    expect(select(t, 0, -1).tolist()[0]).toEqual([12, 13, 14, 15]);
    expect(flip(t, -1).tolist()[0][0]).toEqual([3, 2, 1, 0]);
    expect(flip(t, [0, 1]).tolist()[0][0]).toEqual([20, 21, 22, 23]);
    expect(expand(tensor([[1], [2]], ref), [3, 2, 2]).tolist()).toEqual([[[1, 1], [2, 2]], [[1, 1], [2, 2]], [[1, 1], [2, 2]]]);
    expect(expand(tensor([[1], [2]], ref), [-1, 3]).shape).toEqual([2, 3]);
    expect(unsqueeze(t, -1).shape).toEqual([2, 3, 4, 1]);
    expect(squeeze(unsqueeze(t, 1)).shape).toEqual([2, 3, 4]);
    expect(squeeze(t, 0).shape).toEqual([2, 3, 4]);
    expect(flatten(t, 1).shape).toEqual([2, 12]);
    expect(movedim(t, 2, 0).shape).toEqual([4, 2, 3]);
    expect(t.mT.shape).toEqual([2, 4, 3]);
    expect(view(t, [6, -1]).sharesStorageWith(t)).toBe(true);
  });

  it('view refuses layouts that need a copy, reshape copies then', () => {
    const tt = transpose(x(), 1, 2);
    expect(() => view(tt, [2, 12])).toThrow(/view: size \[2,12\] is not compatible with input \[2,4,3\].*use reshape/);
    const r = reshape(tt, [2, 12]);
    expect(r.sharesStorageWith(tt)).toBe(false);
    expect(r.tolist()[0].slice(0, 4)).toEqual([0, 4, 8, 1]);
    expect(view(tt, [2, 2, 2, 3]).sharesStorageWith(tt)).toBe(true); // splitting a dim never needs a copy
    expect(view(tt, [2, 2, 2, 3]).tolist()[0][1][0]).toEqual([2, 6, 10]);
  });

  it('property: permute then inverse permute and reshape round-trips are identities', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 1, max: 3 }), { minLength: 1, maxLength: 4 }), fc.integer({ min: 0, max: 1000 }), (shape, seed) => {
        const t = randn(shape, { ...ref, generator: new Generator(seed) });
        const g = new Generator(seed);
        const order = shape.map((_, i) => i);
        for (let i = order.length - 1; i > 0; i--) {
          const j = g.nextInt(0, i + 1);
          [order[i], order[j]] = [order[j], order[i]];
        }
        const inverse = new Array(order.length);
        order.forEach((v, i) => (inverse[v] = i));
        const back = permute(permute(t, order), inverse);
        expect(back.tolist()).toEqual(t.tolist());
        expect(reshape(reshape(permute(t, order), [-1]), permute(t, order).shape).tolist()).toEqual(permute(t, order).tolist());
        expect(flip(flip(t, 0), 0).tolist()).toEqual(t.tolist());
        expect(contiguous(permute(t, order)).dataSync()).toEqual(permute(t, order).dataSync());
      }),
      { seed: 42, numRuns: 50 },
    );
  });

  it('rejects bad dims', () => {
    const t = x();
    expect(() => permute(t, [0, 1])).toThrow(/permute: expected 3 dims/);
    expect(() => permute(t, [0, 0, 1])).toThrow(/each dim once/);
    expect(() => transpose(t, 0, 3)).toThrow(/transpose: expected dim1 in \[-3, 2\] for a 3-d tensor; got 3/);
    expect(() => expand(t, [3, 3, 4])).toThrow(/expand: the expanded size \(3\) must match the existing size \(2\)/);
    expect(() => reshape(t, [5, -1])).toThrow(/reshape: shape \[5,-1\] is invalid for input of size 24/);
    expect(() => reshape(t, [-1, -1])).toThrow(/only one dimension can be -1/);
    expect(() => slice(t, 0, 0, 1, 0)).toThrow(/step to be a positive integer/);
    expect(() => narrow(t, 1, 2, 2)).toThrow(/narrow: expected start \+ length <= 3/);
    expect(() => select(t, 1, 3)).toThrow(/select: expected index in \[-3, 2\]/);
  });
});

describe('memory', () => {
  it('tidy disposes intermediates but keeps results, parameters and kept tensors', () => {
    const p = tensor([1, 2], { ...ref, requiresGrad: true });
    let mid: ReturnType<typeof tensor> | null = null;
    let kept: ReturnType<typeof tensor> | null = null;
    const out = tidy(() => {
      mid = add(p, 1);
      kept = keep(add(p, 2));
      const leaf = tensor([0], { ...ref, requiresGrad: true });
      return { y: mid.mul(2), leaf };
    });
    expect(out.y.tolist()).toEqual([4, 6]);
    expect(out.leaf.isDisposed).toBe(false);
    expect(kept!.isDisposed).toBe(false);
    expect(p.isDisposed).toBe(false);
    // `mid` is needed by y's backward (mul saves its inputs), so tidy keeps it.
    expect(mid!.isDisposed).toBe(false);
    const scratch = tidy(() => {
      const a = noGrad(() => add(p, 1));
      const b = a.mul(3);
      return [a, b.sum()];
    });
    expect(scratch[0].isDisposed).toBe(false);
    let tmp: ReturnType<typeof tensor> | null = null;
    tidy(() => {
      tmp = noGrad(() => add(p, 5));
      return undefined;
    });
    expect(tmp!.isDisposed).toBe(true);
    expect(() => tmp!.dataSync()).toThrow(/it was disposed/);
    out.y.backward(ones([2], ref));
    expect(p.grad!.tolist()).toEqual([2, 2]);
  });

  it('dispose releases shared storage only when the last view goes', () => {
    const a = tensor([1, 2, 3], ref);
    const v = a.reshape(3, 1);
    expect(a.storageRefs).toBe(2);
    a.dispose();
    expect(v.tolist()).toEqual([[1], [2], [3]]);
    expect(v.storageRefs).toBe(1);
    a.dispose(); // idempotent
    expect(v.storageRefs).toBe(1);
  });
});

describe('withBuffer', () => {
  it('hands over the backend buffer of a contiguous tensor, and a temporary row-major copy of a view', () => {
    const t = tensor([[1, 2, 3], [4, 5, 6]], { dtype: 'float32' });
    const direct = t.withBuffer((b) => Array.from((b as Float32Array).subarray(0, 6)));
    expect(direct).toEqual([1, 2, 3, 4, 5, 6]);
    const viewed = t.transpose(0, 1).withBuffer((b) => Array.from((b as Float32Array).subarray(0, 6)));
    expect(viewed).toEqual([1, 4, 2, 5, 3, 6]);
    expect(Array.from(t.dataSync())).toEqual([1, 2, 3, 4, 5, 6]);
    const narrowed = t.narrow(1, 1, 2).withBuffer((b) => Array.from((b as Float32Array).subarray(0, 4)));
    expect(narrowed).toEqual([2, 3, 5, 6]);
  });

  it('keeps each temporary copy alive until its callback returns (nested views of the same size)', () => {
    // Large enough for the wasm backend's own memory, where a block given back early would be handed out again.
    const a = arange(0, 4096, 1, { dtype: 'float32' }).reshape([64, 64]);
    const b = arange(0, 4096, 1, { dtype: 'float32' }).mul(-1).reshape([64, 64]);
    const [ta, tb] = a.transpose(0, 1).withBuffer((x) =>
      b.transpose(0, 1).withBuffer((y) => [Array.from((x as Float32Array).subarray(0, 4096)), Array.from((y as Float32Array).subarray(0, 4096))]),
    );
    expect(ta).toEqual(Array.from(a.transpose(0, 1).contiguous().dataSync()));
    expect(tb).toEqual(Array.from(b.transpose(0, 1).contiguous().dataSync()));
  });

  it('returns what the callback returns, and rejects a disposed tensor', () => {
    const t = tensor([1, 2]);
    expect(t.withBuffer(() => 42)).toBe(42);
    t.dispose();
    expect(() => t.withBuffer(() => 0)).toThrow(/disposed|read/);
  });
});
