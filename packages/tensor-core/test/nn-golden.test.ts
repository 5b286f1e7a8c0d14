import { describe, expect, it } from 'vitest';
import { LayerNorm, Linear, Conv1d, Conv2d, Embedding, MLP, GELU, type Module } from '../src/nn/index.js';
import type { Tensor } from '../src/tensor.js';
import { expectClose, loadGolden } from './nn-helpers.js';

interface NnCase {
  name: string;
  layer: string;
  args: unknown[];
  keys: string[];
}

const golden = loadGolden('nn.safetensors');
const cases = golden.json<NnCase[]>('cases');

function build(c: NnCase): Module {
  const a = c.args as never[];
  switch (c.layer) {
    case 'Linear':
      return new Linear(a[0], a[1], a[2]);
    case 'LayerNorm':
      return new LayerNorm(a[0], a[1]);
    case 'Conv2d':
      return new Conv2d(a[0], a[1], a[2], a[3]);
    case 'Conv1d':
      return new Conv1d(a[0], a[1], a[2], a[3]);
    case 'Embedding':
      return new Embedding(a[0], a[1], a[2]);
    case 'MLP': {
      const o = c.args[0] as { inFeatures: number; hiddenFeatures: number; outFeatures?: number; act?: string; norm?: string };
      return new MLP({
        inFeatures: o.inFeatures,
        hiddenFeatures: o.hiddenFeatures,
        outFeatures: o.outFeatures,
        actLayer: o.act === 'gelu_tanh' ? () => new GELU({ approximate: 'tanh' }) : undefined,
        normLayer: o.norm === 'layernorm' ? (d) => new LayerNorm(d) : undefined,
      });
    }
    default:
      throw new Error(`unknown layer ${c.layer}`);
  }
}

describe('layers match torch 1.13 (forward and backward, float32)', () => {
  for (const c of cases) {
    it(c.name, () => {
      const m = build(c);
      // The module's own state-dict keys are PyTorch's, in PyTorch's order.
      expect([...m.stateDict().keys()]).toEqual(c.keys);
      const sd = new Map(c.keys.map((k) => [k, golden.tensor(`${c.name}.param.${k}`)]));
      expect(m.loadStateDict(sd)).toEqual({ missingKeys: [], unexpectedKeys: [] });
      const isFloat = golden.entry(`${c.name}.input.x`).dtype === 'F32';
      const x = golden.tensor(`${c.name}.input.x`, { requiresGrad: isFloat });
      const y = m.call(x as never) as Tensor;
      expectClose(y, golden.tensor(`${c.name}.output`), 1e-4, 1e-5, `${c.name} output`);
      y.mul(golden.tensor(`${c.name}.cotangent`)).sum().backward();
      if (isFloat) expectClose(x.grad!, golden.tensor(`${c.name}.grad.x`), 1e-4, 1e-5, `${c.name} grad x`);
      for (const [k, p] of m.namedParameters()) {
        expectClose(p.grad!, golden.tensor(`${c.name}.grad.${k}`), 1e-4, 1e-5, `${c.name} grad ${k}`);
      }
    });
  }
});
