import { describe, expect, it } from 'vitest';
import { tensor } from '../src/creation.js';
import { noGrad } from '../src/grad-mode.js';
import { Generator } from '../src/random.js';
import { tidy } from '../src/scope.js';
import type { Tensor } from '../src/tensor.js';
import { LayerNorm, MLP } from '../src/nn/index.js';
import { crossEntropy } from '../src/losses/index.js';
import { AdamW, clipGradNorm_, cosineWithWarmup } from '../src/optim/index.js';

/** Two interleaved spirals-ish rings: class 0 inside radius 1, class 1 on a ring of radius 2 (not linearly separable). */
function rings(n: number, g: Generator): { x: Tensor; y: Tensor } {
  const xs: number[][] = [];
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const cls = i % 2;
    const r = cls === 0 ? 0.9 * g.nextDouble() : 1.7 + 0.5 * g.nextDouble();
    const a = 2 * Math.PI * g.nextDouble();
    xs.push([r * Math.cos(a), r * Math.sin(a)]);
    ys.push(cls);
  }
  return { x: tensor(xs), y: tensor(ys, { dtype: 'int32' }) };
}

function accuracy(logits: Tensor, y: Tensor): number {
  const pred = logits.argmax(1).dataSync();
  const t = y.dataSync();
  let ok = 0;
  for (let i = 0; i < t.length; i++) ok += pred[i] === t[i] ? 1 : 0;
  return ok / t.length;
}

describe('training', () => {
  it('an MLP learns a 2-class ring dataset with AdamW, clipGradNorm_ and a cosine schedule', () => {
    const g = new Generator(2024);
    const train = rings(256, g);
    const test = rings(128, g);
    const model = new MLP({ inFeatures: 2, hiddenFeatures: 32, outFeatures: 2, normLayer: (d) => new LayerNorm(d), generator: new Generator(7) });
    const opt = new AdamW(model.parameters(), { lr: 0.03, weightDecay: 0.01 });
    const steps = 150;
    const sched = cosineWithWarmup(opt, { warmupSteps: 10, totalSteps: steps, minLr: 0.001 });
    const losses: number[] = [];
    const norms: number[] = [];
    for (let s = 0; s < steps; s++) {
      tidy(() => {
        opt.zeroGrad();
        const loss = crossEntropy(model.call(train.x), train.y);
        loss.backward();
        if (s === 0) {
          // Every parameter receives a gradient, and a nonzero one.
          for (const [name, p] of model.namedParameters()) {
            expect(p.grad, name).not.toBeNull();
            expect(Array.from(p.grad!.dataSync()).some((v) => v !== 0), name).toBe(true);
          }
        }
        norms.push(clipGradNorm_(model.parameters(), 1.0).item());
        opt.step();
        sched.step();
        losses.push(loss.item());
      });
    }
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(norms.every(Number.isFinite)).toBe(true);
    const early = losses.slice(0, 10).reduce((a, b) => a + b) / 10;
    const late = losses.slice(-10).reduce((a, b) => a + b) / 10;
    expect(late).toBeLessThan(0.25 * early);
    model.eval();
    const acc = noGrad(() => accuracy(model.call(test.x), test.y));
    expect(acc).toBeGreaterThan(0.95);
    expect(opt.paramGroups[0].lr).toBeCloseTo(0.001, 12);
  });
});
