import { describe, expect, it } from 'vitest';
import { randn, tensor, zeros } from '../src/creation.js';
import { Generator } from '../src/random.js';
import { tidy } from '../src/scope.js';
import type { Tensor } from '../src/tensor.js';
import { Linear } from '../src/nn/index.js';
import { mseLoss } from '../src/losses/index.js';
import { Adam, AdamW, clipGradNorm_, cosineWithWarmup, cosineWithWarmupLr, SGD } from '../src/optim/index.js';

function lossOf(m: Linear, seed: number) {
  const x = randn([8, 3], { generator: new Generator(seed) });
  return mseLoss(m.call(x), x.narrow(1, 0, 2).mul(2));
}

describe('optimizer state', () => {
  it('stateDict/loadStateDict: a restored optimizer continues exactly like the original', () => {
    const a = new Linear(3, 2, { generator: new Generator(1) });
    const optA = new AdamW(a.parameters(), { lr: 0.05, amsgrad: true });
    for (let s = 0; s < 3; s++) {
      optA.zeroGrad();
      lossOf(a, s).backward();
      optA.step();
    }
    const b = new Linear(3, 2, { generator: new Generator(2) });
    b.loadStateDict(a.stateDict());
    const optB = new AdamW(b.parameters(), { lr: 0.9 });
    const sd = optA.stateDict();
    expect(Object.keys(sd.state)).toEqual(['0', '1']);
    expect(sd.state[0].step).toBe(3);
    expect(Object.keys(sd.state[0])).toEqual(['step', 'expAvg', 'expAvgSq', 'maxExpAvgSq']);
    expect(sd.paramGroups[0]).toMatchObject({ lr: 0.05, weightDecay: 0.01, amsgrad: true, params: [0, 1] });
    optB.loadStateDict(sd);
    expect(optB.paramGroups[0].lr).toBe(0.05);
    for (let s = 3; s < 6; s++) {
      for (const [m, o] of [[a, optA], [b, optB]] as const) {
        o.zeroGrad();
        lossOf(m, s).backward();
        o.step();
      }
    }
    expect(b.weight.dataSync()).toEqual(a.weight.dataSync());
    expect(b.bias!.dataSync()).toEqual(a.bias!.dataSync());
    // The loaded state is a copy: the saved tensors did not change while B trained.
    expect(optA.stateDict().state[0].step).toBe(6);
    expect(sd.state[0].step).toBe(3);
  });

  it('loadStateDict checks the group layout', () => {
    const opt = new SGD([zeros([2], { requiresGrad: true })], { lr: 0.1, momentum: 0.9 });
    const other = new SGD([zeros([2], { requiresGrad: true }), zeros([1], { requiresGrad: true })], { lr: 0.1 });
    expect(() => opt.loadStateDict(other.stateDict())).toThrow('SGD.loadStateDict: loaded parameter group 0 has 2 parameters; the optimizer\'s has 1');
  });

  it('runs inside tidy without losing state, and leaves parameters as leaves', () => {
    const m = new Linear(3, 2, { generator: new Generator(3) });
    const opt = new SGD(m.parameters(), { lr: 0.1, momentum: 0.9 });
    const losses: number[] = [];
    for (let s = 0; s < 5; s++) {
      losses.push(
        tidy(() => {
          opt.zeroGrad();
          const loss = lossOf(m, 0);
          loss.backward();
          opt.step();
          return loss.item();
        }),
      );
    }
    expect(losses[4]).toBeLessThan(losses[0]);
    expect(m.weight.isLeaf && m.weight.requiresGrad).toBe(true);
    expect((opt.state.get(m.weight)!.momentumBuffer as Tensor).shape).toEqual([2, 3]);
  });

  it('step(closure) returns the closure loss', () => {
    const p = tensor([1, 2], { requiresGrad: true });
    const opt = new SGD([p], { lr: 0.5 });
    const loss = opt.step(() => {
      opt.zeroGrad();
      const l = p.square().sum();
      l.backward();
      return l;
    });
    expect(loss!.item()).toBe(5);
    expect(p.tolist()).toEqual([0, 0]);
  });
});

describe('optimizer argument errors', () => {
  const p = () => zeros([2], { requiresGrad: true });
  it('rejects bad parameters and options', () => {
    expect(() => new SGD([], { lr: 0.1 })).toThrow('SGD: optimizer got an empty parameter list');
    expect(() => new SGD([p()], { lr: -1 })).toThrow('SGD (options): expected lr to be a finite number >= 0; got -1');
    expect(() => new SGD([p()], { lr: 0.1, nesterov: true })).toThrow(/Nesterov momentum requires a momentum > 0 and zero dampening/);
    expect(() => new Adam([p()], { betas: [0.9, 1] })).toThrow('Adam (options): expected betas[1] to be a finite number in [0, 1); got 1');
    expect(() => new AdamW([p()], { eps: -1 })).toThrow('AdamW (options): expected eps to be a finite number >= 0; got -1');
    const q = p();
    expect(() => new Adam([q, q])).toThrow(/some parameters appear in more than one parameter group/);
    expect(() => new Adam([q.mul(2)])).toThrow(/can't optimize a non-leaf Tensor/);
    expect(() => new Adam([{ params: [q], lr: -0.1 }])).toThrow('Adam (parameter group 0): expected lr to be a finite number >= 0; got -0.1');
  });
  it('AdamW defaults to weightDecay 0.01, Adam to 0', () => {
    expect(new AdamW([p()]).defaults.weightDecay).toBe(0.01);
    expect(new Adam([p()]).defaults.weightDecay).toBe(0);
    expect(new Adam([p()]).defaults.lr).toBe(1e-3);
  });
});

describe('clipGradNorm_', () => {
  it('returns 0 without gradients and rejects non-finite norms on request', () => {
    expect(clipGradNorm_([zeros([2], { requiresGrad: true })], 1).item()).toBe(0);
    const q = zeros([2], { requiresGrad: true });
    q.grad = tensor([Infinity, 1]);
    expect(() => clipGradNorm_(q, 1, { errorIfNonfinite: true })).toThrow(/total norm of order 2 for gradients from `parameters` is non-finite \(Infinity\)/);
    expect(() => clipGradNorm_(q, -1)).toThrow('clipGradNorm_: expected maxNorm to be a number >= 0; got -1');
  });
});

describe('cosineWithWarmup', () => {
  it('warms up linearly from 0, decays by a half cosine to minLr, then stays there', () => {
    const opts = { warmupSteps: 10, totalSteps: 110, minLr: 0.01 };
    expect(cosineWithWarmupLr(0, 1, opts)).toBe(0);
    expect(cosineWithWarmupLr(5, 1, opts)).toBe(0.5);
    expect(cosineWithWarmupLr(10, 1, opts)).toBe(1);
    expect(cosineWithWarmupLr(60, 1, opts)).toBeCloseTo(0.01 + 0.99 * 0.5, 14);
    expect(cosineWithWarmupLr(110, 1, opts)).toBeCloseTo(0.01, 14);
    expect(cosineWithWarmupLr(500, 1, opts)).toBeCloseTo(0.01, 14);
    const p = zeros([1], { requiresGrad: true });
    const opt = new SGD([{ params: [p], lr: 0.2 }, { params: [zeros([1], { requiresGrad: true })], lr: 0.02 }], { lr: 0.1 });
    const sched = cosineWithWarmup(opt, opts);
    const seen: number[][] = [];
    for (let s = 0; s <= 110; s++) {
      seen.push(opt.paramGroups.map((g) => g.lr));
      sched.step();
    }
    expect(seen[0]).toEqual([0, 0]);
    expect(seen[5][0]).toBeCloseTo(0.1, 15);
    expect(seen[10]).toEqual([0.2, 0.02]);
    expect(seen[60][0]).toBeCloseTo(cosineWithWarmupLr(60, 0.2, opts), 15);
    expect(seen[110][1]).toBeCloseTo(0.01, 15);
    for (let s = 11; s <= 110; s++) expect(seen[s][0]).toBeLessThanOrEqual(seen[s - 1][0]);
    expect(() => cosineWithWarmup(opt, { warmupSteps: 5, totalSteps: 3 })).toThrow(/expected opts.totalSteps to be an integer >= warmupSteps \(5\); got 3/);
  });
});
