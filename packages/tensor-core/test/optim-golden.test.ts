import { describe, expect, it } from 'vitest';
import type { DType } from '@formers/gpu-kernels';
import { zeros } from '../src/creation.js';
import { noGrad } from '../src/grad-mode.js';
import { Adam, AdamW, SGD, clipGradNorm_, CosineAnnealingLR, LambdaLR, type Optimizer } from '../src/optim/index.js';
import type { Tensor } from '../src/tensor.js';
import { expectClose, loadGolden } from './nn-helpers.js';

interface OptCase {
  name: string;
  optimizer: 'SGD' | 'Adam' | 'AdamW';
  options: Record<string, unknown>;
  groups?: { params: number[]; options: Record<string, unknown> }[];
  skip?: [number, number][];
  dtype?: DType;
}
interface Cases {
  steps: number;
  shapes: number[][];
  optimizers: OptCase[];
  clip: { name: string; maxNorm: number; normType: number | 'inf' }[];
  schedulers: { name: string; tMax?: number; etaMin?: number; baseLrs: number[]; steps: number }[];
}

const golden = loadGolden('optim.safetensors');
const cases = golden.json<Cases>('cases');

function build(c: OptCase, params: Tensor[]): Optimizer<{ lr: number }> {
  const Cls = { SGD, Adam, AdamW }[c.optimizer];
  const groups = c.groups?.map((g) => ({ params: g.params.map((i) => params[i]), ...g.options }));
  return new Cls((groups ?? params) as never, c.options as never) as unknown as Optimizer<{ lr: number }>;
}

describe('optimizers match torch 1.13 step by step', () => {
  for (const c of cases.optimizers) {
    const f64 = (c.dtype ?? 'float64') === 'float64';
    // float64 runs check the update rule itself: only rounding of the last bits can differ.
    const [rtol, atol] = f64 ? [1e-10, 1e-12] : [1e-4, 1e-5];
    it(`${c.name} (${c.dtype ?? 'float64'})`, () => {
      const params = cases.shapes.map((_, i) => golden.tensor(`${c.name}.param${i}.init`, { requiresGrad: true }));
      const grads = cases.shapes.map((_, i) => golden.tensor(`${c.name}.param${i}.grads`));
      const after = cases.shapes.map((_, i) => golden.tensor(`${c.name}.param${i}.after`));
      const skip = new Set((c.skip ?? []).map(([i, k]) => `${i}:${k}`));
      const opt = build(c, params);
      for (let k = 0; k < cases.steps; k++) {
        opt.zeroGrad();
        params.forEach((p, i) => {
          if (!skip.has(`${i}:${k}`)) p.grad = grads[i].select(0, k).clone();
        });
        opt.step();
        params.forEach((p, i) => expectClose(p, after[i].select(0, k), rtol, atol, `${c.name} param ${i} after step ${k + 1}`));
      }
      params.forEach((p) => {
        expect(p.requiresGrad).toBe(true);
        expect(p.isLeaf).toBe(true);
      });
    });
  }
});

describe('clipGradNorm_ matches torch', () => {
  for (const c of cases.clip) {
    it(c.name, () => {
      const params = cases.shapes.map((s) => zeros(s, { dtype: 'float64', requiresGrad: true }));
      params.forEach((p, i) => (p.grad = golden.tensor(`${c.name}.grad${i}.before`)));
      const total = clipGradNorm_(params, c.maxNorm, { normType: c.normType === 'inf' ? Infinity : c.normType });
      expectClose(total, golden.tensor(`${c.name}.total`), 1e-12, 1e-14, `${c.name} total norm`);
      params.forEach((p, i) => expectClose(p.grad!, golden.tensor(`${c.name}.grad${i}.after`), 1e-12, 1e-14, `${c.name} grad ${i}`));
    });
  }
});

describe('LR schedulers match torch', () => {
  it('CosineAnnealingLR (two groups, past tMax)', () => {
    const c = cases.schedulers.find((s) => s.name === 'cosine_annealing')!;
    const opt = new SGD(
      [
        { params: [zeros([1], { requiresGrad: true })], lr: c.baseLrs[0] },
        { params: [zeros([1], { requiresGrad: true })], lr: c.baseLrs[1] },
      ],
      { lr: 0.1 },
    );
    const sched = new CosineAnnealingLR(opt, { tMax: c.tMax!, etaMin: c.etaMin });
    const got: number[] = [];
    for (let s = 0; s < c.steps; s++) {
      got.push(...opt.paramGroups.map((g) => g.lr));
      opt.step();
      sched.step();
    }
    expectClose(got, golden.entry('cosine_annealing.lrs').data as Float64Array, 1e-12, 1e-15, 'lrs');
  });

  it('LambdaLR', () => {
    const c = cases.schedulers.find((s) => s.name === 'lambda_lr')!;
    const opt = new SGD([zeros([1], { requiresGrad: true })], { lr: c.baseLrs[0] });
    const sched = new LambdaLR(opt, (s) => 0.9 ** s + 0.01 * s);
    const got: number[] = [];
    for (let s = 0; s < c.steps; s++) {
      got.push(opt.paramGroups[0].lr);
      noGrad(() => opt.step());
      sched.step();
    }
    expectClose(got, golden.entry('lambda_lr.lrs').data as Float64Array, 1e-14, 1e-15, 'lrs');
    expect(sched.getLastLr()).toEqual([opt.paramGroups[0].lr]);
  });
});
