import { describe, expect, it } from 'vitest';
import { ones, randn, tensor, zeros } from '../src/creation.js';
import { assertGradcheck } from '../src/gradcheck.js';
import { Generator } from '../src/random.js';
import type { Tensor } from '../src/tensor.js';
import {
  Conv1d,
  Conv2d,
  Dropout,
  Embedding,
  functionalCall,
  GELU,
  Identity,
  LayerNorm,
  Linear,
  MLP,
  ReLU,
  RMSNorm,
  SiLU,
  Tanh,
  type Module,
} from '../src/nn/index.js';

const gen = (seed: number) => new Generator(seed);

/** Gradcheck a float64 module with respect to its input and every parameter, through functionalCall. */
function gradcheckModule(m: Module, x: Tensor): void {
  // gradcheck runs on the reference backend in float64; the module's own tensors are all swapped for its inputs.
  m.to('reference').to('float64');
  const names = m.namedParameters().map(([n]) => n);
  const params = m.namedParameters().map(([, p]) => p.detach());
  assertGradcheck(
    (xx, ...ps) => functionalCall(m, new Map(names.map((n, i) => [n, ps[i]])), xx as never) as Tensor,
    [x.to('float64'), ...params],
  );
}

describe('float64 gradient checks of every layer (input and parameters)', () => {
  const x2 = () => randn([3, 5], { generator: gen(1), dtype: 'float64' });
  it('Linear', () => gradcheckModule(new Linear(5, 4, { generator: gen(2) }), randn([2, 3, 5], { generator: gen(3) })));
  it('Linear without bias', () => gradcheckModule(new Linear(5, 2, { bias: false, generator: gen(2) }), x2()));
  it('LayerNorm (random affine)', () => {
    const m = new LayerNorm([5]);
    m.loadStateDict({ weight: randn([5], { generator: gen(4) }), bias: randn([5], { generator: gen(5) }) });
    gradcheckModule(m, x2());
  });
  it('LayerNorm without bias, over two dims', () => gradcheckModule(new LayerNorm([2, 3], { bias: false }), randn([4, 2, 3], { generator: gen(6) })));
  it('RMSNorm', () => {
    const m = new RMSNorm(5, { eps: 1e-6 });
    m.loadStateDict({ weight: randn([5], { generator: gen(7) }) });
    gradcheckModule(m, x2());
  });
  it('Conv1d (stride 2, padding 1, groups 2)', () =>
    gradcheckModule(new Conv1d(4, 2, 3, { stride: 2, padding: 1, groups: 2, generator: gen(8) }), randn([2, 4, 7], { generator: gen(9) })));
  it('Conv2d (dilation, same padding)', () =>
    gradcheckModule(new Conv2d(2, 3, [3, 2], { padding: 'same', dilation: [1, 2], generator: gen(10) }), randn([1, 2, 4, 5], { generator: gen(11) })));
  for (const mode of ['reflect', 'replicate', 'circular'] as const) {
    it(`Conv2d with paddingMode ${mode}`, () =>
      gradcheckModule(new Conv2d(2, 2, 3, { padding: 1, paddingMode: mode, generator: gen(12) }), randn([1, 2, 4, 4], { generator: gen(13) })));
  }
  it('Embedding (weight only; ids are not differentiable; no padding row, whose gradient is zero by design)', () => {
    const m = new Embedding(6, 3, { generator: gen(14) }).to('reference').to('float64');
    const ids = tensor([[0, 1, 5], [1, 3, 3]], { dtype: 'int32', backend: 'reference' }); // where gradcheck runs
    assertGradcheck((w) => functionalCall(m, { weight: w }, ids), [m.weight.detach()]);
  });
  it('MLP with tanh GELU and a LayerNorm', () =>
    gradcheckModule(
      new MLP({ inFeatures: 3, hiddenFeatures: 5, outFeatures: 2, actLayer: () => new GELU({ approximate: 'tanh' }), normLayer: (d) => new LayerNorm(d), generator: gen(15) }),
      randn([2, 3], { generator: gen(16) }),
    ));
  it('activations', () => {
    for (const m of [new GELU(), new SiLU(), new Tanh(), new Identity()]) gradcheckModule(m, x2());
    // ReLU away from its kink.
    gradcheckModule(new ReLU(), tensor([[-1.5, 0.3, 2], [0.7, -0.2, -3]], { dtype: 'float64' }));
  });
});

describe('default initialisation follows torch', () => {
  it('Linear: weight and bias in U(-1/sqrt(in), 1/sqrt(in)), spread over the whole range', () => {
    const m = new Linear(64, 32, { generator: gen(1) });
    const bound = 1 / Math.sqrt(64);
    for (const t of [m.weight, m.bias!]) {
      const d = Array.from(t.dataSync());
      expect(Math.max(...d.map(Math.abs))).toBeLessThanOrEqual(bound);
      expect(Math.max(...d)).toBeGreaterThan(0.8 * bound);
      expect(Math.min(...d)).toBeLessThan(-0.8 * bound);
    }
    // Uniform(-b, b) has variance b^2 / 3.
    const w = Array.from(m.weight.dataSync());
    const variance = w.reduce((s, v) => s + v * v, 0) / w.length;
    expect(variance).toBeGreaterThan(0.9 * (bound * bound) / 3);
    expect(variance).toBeLessThan(1.1 * (bound * bound) / 3);
  });

  it('Conv2d: fan_in counts in/groups * kernel area', () => {
    const m = new Conv2d(8, 4, [3, 3], { groups: 2, generator: gen(2) });
    expect(m.weight.shape).toEqual([4, 4, 3, 3]);
    const bound = 1 / Math.sqrt(4 * 9);
    const d = Array.from(m.weight.dataSync());
    expect(Math.max(...d.map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...d.map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Math.max(...Array.from(m.bias!.dataSync()).map(Math.abs))).toBeLessThanOrEqual(bound);
  });

  it('same generator seed gives the same parameters', () => {
    const a = new MLP({ inFeatures: 4, hiddenFeatures: 8, generator: gen(7) });
    const b = new MLP({ inFeatures: 4, hiddenFeatures: 8, generator: gen(7) });
    const c = new MLP({ inFeatures: 4, hiddenFeatures: 8, generator: gen(8) });
    expect(a.fc2.weight.dataSync()).toEqual(b.fc2.weight.dataSync());
    expect(a.fc2.weight.dataSync()).not.toEqual(c.fc2.weight.dataSync());
  });

  it('LayerNorm and RMSNorm start at weight 1, bias 0; RMSNorm eps defaults to the dtype epsilon', () => {
    const ln = new LayerNorm(3);
    expect(ln.weight!.tolist()).toEqual([1, 1, 1]);
    expect(ln.bias!.tolist()).toEqual([0, 0, 0]);
    expect(ln.eps).toBe(1e-5);
    expect(new LayerNorm(3, { elementwiseAffine: false }).parameters()).toEqual([]);
    const rms = new RMSNorm(2);
    expect(rms.eps).toBeNull();
    // x = [a, a]: mean(x^2) = a^2, so y = a / sqrt(a^2 + eps); with a = 1e-3 the float32 epsilon is visible.
    const a = 1e-3;
    const y = rms.call(tensor([[a, a]], { dtype: 'float64' })).dataSync()[0];
    expect(y).toBeCloseTo(a / Math.sqrt(a * a + 2.220446049250313e-16), 14);
    const y32 = rms.call(tensor([[a, a]])).dataSync()[0];
    expect(y32).toBeCloseTo(a / Math.sqrt(a * a + 1.1920928955078125e-7), 5);
    expect(y32).toBeLessThan(0.95);
  });
});

describe('Embedding', () => {
  it('zeroes the padding row and never gives it a gradient', () => {
    const m = new Embedding(5, 3, { paddingIdx: -1, generator: gen(3) });
    expect(m.paddingIdx).toBe(4);
    const w = m.weight.tolist() as number[][];
    expect(w[4]).toEqual([0, 0, 0]);
    expect(w[0].some((v) => v !== 0)).toBe(true);
    const ids = tensor([[4, 0], [4, 4]], { dtype: 'int32' });
    const y = m.call(ids);
    expect(y.shape).toEqual([2, 2, 3]);
    y.mul(randn([2, 2, 3], { generator: gen(4) })).sum().backward();
    const g = m.weight.grad!.tolist() as number[][];
    expect(g[4]).toEqual([0, 0, 0]);
    expect(g[0].some((v) => v !== 0)).toBe(true);
    expect(g[1]).toEqual([0, 0, 0]);
  });

  it('rejects out-of-range ids and paddingIdx', () => {
    const m = new Embedding(3, 2);
    expect(() => m.call(tensor([3], { dtype: 'int32' }))).toThrow(/index 3 is out of bounds/);
    expect(() => m.call(tensor([1]))).toThrow(/int32/);
    expect(() => new Embedding(3, 2, { paddingIdx: 3 })).toThrow(/expected opts.paddingIdx in \[-3, 2\]; got 3/);
  });
});

describe('Dropout', () => {
  it('drops with probability p in training, scales by 1/(1-p), and is the identity in eval', () => {
    const d = new Dropout(0.25, { generator: gen(5) });
    const x = ones([4000]);
    const y = Array.from(d.call(x).dataSync());
    const kept = y.filter((v) => v !== 0);
    kept.forEach((v) => expect(v).toBeCloseTo(1 / 0.75, 6));
    // 4000 Bernoulli(0.75): mean 3000, sd ~27.
    expect(kept.length).toBeGreaterThan(3000 - 150);
    expect(kept.length).toBeLessThan(3000 + 150);
    d.eval();
    expect(d.call(x)).toBe(x);
    expect(() => new Dropout(1.5)).toThrow(/expected p to be a probability in \[0, 1\]; got 1.5/);
  });
});

describe('MLP', () => {
  it("has timm's submodule names and computes fc2(act(fc1(x)))", () => {
    const m = new MLP({ inFeatures: 4, hiddenFeatures: 16, outFeatures: 2, generator: gen(6) });
    expect([...m.stateDict().keys()]).toEqual(['fc1.weight', 'fc1.bias', 'fc2.weight', 'fc2.bias']);
    expect(m.namedModules().map(([n]) => n)).toEqual(['', 'fc1', 'act', 'drop1', 'norm', 'fc2', 'drop2']);
    const x = randn([3, 4], { generator: gen(7) });
    const manual = m.fc2.call(m.fc1.call(x).gelu());
    expect(m.call(x).dataSync()).toEqual(manual.dataSync());
    const n = new MLP({ inFeatures: 4, normLayer: (d) => new LayerNorm(d), bias: [true, false], drop: [0.1, 0] });
    expect([...n.stateDict().keys()]).toEqual(['fc1.weight', 'fc1.bias', 'norm.weight', 'norm.bias', 'fc2.weight']);
    expect(n.drop1.p).toBe(0.1);
    expect(n.fc2.outFeatures).toBe(4);
  });
});

describe('layer argument errors name the argument', () => {
  it('Linear', () => {
    expect(() => new Linear(0, 3)).toThrow('Linear: expected inFeatures to be an integer >= 1; got 0');
    expect(() => new Linear(2, 2.5)).toThrow('Linear: expected outFeatures to be an integer >= 1; got 2.5');
    expect(() => new Linear(2, 2, { dtype: 'int32' })).toThrow(/expected opts.dtype 'float32' or 'float64'; got "int32"/);
    expect(() => new Linear(3, 2).call(zeros([2, 4]))).toThrow(/linear: expected input.shape\[-1\] to equal weight.shape\[1\] \(=3\); got input \[2,4\]/);
  });
  it('convolutions', () => {
    expect(() => new Conv2d(3, 4, 3, { groups: 2 })).toThrow('Conv2d: expected inChannels (3) to be divisible by groups (2)');
    expect(() => new Conv2d(2, 4, [3] as never)).toThrow(/expected kernelSize to be an integer >= 1 or 2 of them; got \[3\]/);
    expect(() => new Conv2d(2, 4, 3, { stride: 2, padding: 'same' })).toThrow(/padding='same' is not supported for strided convolutions/);
    expect(() => new Conv1d(2, 4, 3, { paddingMode: 'mirror' as never })).toThrow(/expected opts.paddingMode one of zeros, reflect, replicate, circular; got "mirror"/);
    expect(() => new Conv2d(2, 4, 3).call(zeros([1, 3, 5, 5]))).toThrow(/conv2d: expected weight.shape\[1\] \(=2\) to equal in_channels/);
  });
  it('norms, activations and MLP', () => {
    expect(() => new LayerNorm([])).toThrow(/expected normalizedShape to be a positive integer or a non-empty array of them; got \[\]/);
    expect(() => new LayerNorm(4, { eps: -1 })).toThrow(/expected eps to be a finite number >= 0; got -1/);
    expect(() => new LayerNorm(4).call(zeros([2, 3]))).toThrow(/layerNorm/);
    expect(() => new GELU({ approximate: 'erf' as never })).toThrow(/expected opts.approximate 'none' or 'tanh'; got "erf"/);
    expect(() => new MLP({} as never)).toThrow('MLP: expected opts.inFeatures to be an integer >= 1; got undefined');
  });
});
