/**
 * One training step of a small MLP through @formers/tensor-core: Linear -> GELU(tanh) -> Linear, MSE loss,
 * backward, SGD update. The same step is written for the peers (tfjs.ts, torch_bench.py).
 */
import type { Backend } from '@formers/gpu-kernels';
import * as tc from '@formers/tensor-core';
import type { Runner } from '../engine.js';
import { randomData, type Workload } from '../workloads.js';

export function prepareMlpStep(be: Backend, w: Extract<Workload, { kind: 'mlpStep' }>): Runner | string {
  if (!be.sync) return 'tensor-core training step needs a synchronous backend here';
  const generator = new tc.Generator(0);
  const fc1 = new tc.Linear(w.dIn, w.dHidden, { backend: be, generator });
  const fc2 = new tc.Linear(w.dHidden, w.dIn, { backend: be, generator });
  const params = [...fc1.parameters(), ...fc2.parameters()];
  const opt = new tc.SGD(params, { lr: 1e-3 });
  const x = tc.tensor(randomData(w.batch * w.dIn, 11), { shape: [w.batch, w.dIn], backend: be }); // (B, D)
  const y = tc.tensor(randomData(w.batch * w.dIn, 12), { shape: [w.batch, w.dIn], backend: be }); // (B, D)
  return {
    run: () => {
      opt.zeroGrad();
      const loss = tc.tidy(() => {
        const h = fc1.forward(x).gelu({ approximate: 'tanh' }); // (B, M)
        const l = tc.mseLoss(fc2.forward(h), y);
        l.backward();
        return l;
      });
      opt.step();
      loss.dataSync();
      loss.dispose();
    },
  };
}
