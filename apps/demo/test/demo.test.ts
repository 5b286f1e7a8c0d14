import { describe, expect, it } from 'vitest';
import { runDemo } from '../src/train-mlp.js';
import { twoMoons } from '../src/two-moons.js';

describe('demo', () => {
  it('trains, saves, reloads, and the reloaded model classifies held-out two-moons points', () => {
    const losses: number[] = [];
    const r = runDemo({ steps: 150, onStep: (_, l) => losses.push(l) });
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.5);
    expect(r.trainAccuracy).toBeGreaterThan(0.9);
    expect(r.reloadedAccuracy).toBeGreaterThan(0.9);
    expect(r.tensorNames.sort()).toEqual(['fc1.bias', 'fc1.weight', 'fc2.bias', 'fc2.weight']);
  });

  it('rejects a bad dataset size with a clear error', () => {
    expect(() => twoMoons({ n: 1 })).toThrow(/twoMoons: expected n to be an integer >= 2; got 1/);
  });
});
