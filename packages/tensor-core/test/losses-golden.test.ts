import { describe, it } from 'vitest';
import { binaryCrossEntropyWithLogits, crossEntropy, mseLoss, type Reduction } from '../src/losses/index.js';
import type { Tensor } from '../src/tensor.js';
import { expectClose, loadGolden } from './nn-helpers.js';

interface LossCase {
  name: string;
  fn: 'crossEntropy' | 'binaryCrossEntropyWithLogits' | 'mseLoss';
  options: { reduction?: Reduction; labelSmoothing?: number; ignoreIndex?: number };
  extra: string[];
}

const golden = loadGolden('losses.safetensors');
const cases = golden.json<LossCase[]>('cases');

describe('losses match torch 1.13 (values and input gradients, float32)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const x = golden.tensor(`${c.name}.input`, { requiresGrad: true });
      const t = golden.tensor(`${c.name}.target`);
      const extra = (k: string) => (c.extra.includes(k) ? golden.tensor(`${c.name}.${k}`) : undefined);
      let out: Tensor;
      if (c.fn === 'crossEntropy') out = crossEntropy(x, t, { ...c.options, weight: extra('weight') });
      else if (c.fn === 'binaryCrossEntropyWithLogits') {
        out = binaryCrossEntropyWithLogits(x, t, { ...c.options, weight: extra('weight'), posWeight: extra('pos_weight') });
      } else out = mseLoss(x, t, c.options);
      expectClose(out, golden.tensor(`${c.name}.output`), 1e-4, 1e-5, `${c.name} output`);
      out.mul(golden.tensor(`${c.name}.cotangent`)).sum().backward();
      expectClose(x.grad!, golden.tensor(`${c.name}.grad_input`), 1e-4, 1e-5, `${c.name} grad`);
    });
  }
});
