import { loadStateDictFromSafetensors, Generator, noGrad } from '@formers/tensor-core';
import { describe, expect, it } from 'vitest';
import { T5RelativePositionBias } from '../src/index.js';
import { expectClose, expectParamGradcheck, golden, goldenBytes, goldenConfig, goldenTensor, weightedSum } from './helpers.js';

interface BiasCase {
  num_heads: number;
  num_buckets: number;
  max_distance: number;
  bidirectional: boolean;
  query_length: number;
  key_length: number;
  offset: number;
}

function build(c: BiasCase, dtype: 'float32' | 'float64' = 'float32') {
  return new T5RelativePositionBias({
    numHeads: c.num_heads,
    numBuckets: c.num_buckets,
    maxDistance: c.max_distance,
    bidirectional: c.bidirectional,
    dtype,
    generator: new Generator(5),
  });
}

describe('T5RelativePositionBias (Raffel et al. 2020)', () => {
  for (const name of ['t5_bias_enc', 't5_bias_dec']) {
    it(`forward and weight gradient match HF compute_bias: ${name}`, () => {
      const c = goldenConfig<BiasCase>(name);
      const m = build(c);
      noGrad(() => m.relativeAttentionBias.weight.copy_(goldenTensor(`${name}.weight`)));
      const out = m.call(c.query_length, c.key_length, { queryOffset: c.offset });
      expect(out.shape).toEqual(golden(`${name}.output`).shape);
      expectClose(out.dataSync(), golden(`${name}.output`).data);
      out.mul(goldenTensor(`${name}.cotangent`)).sum().backward();
      expectClose(m.relativeAttentionBias.weight.grad!.dataSync(), golden(`${name}.grad_weight`).data, {}, 'grad weight');
    });
  }

  it('loads a PyTorch state_dict with its keys unchanged and reproduces the output', () => {
    const c = goldenConfig<BiasCase>('t5_bias_enc');
    const m = build(c);
    expect([...m.stateDict().keys()]).toEqual(['relative_attention_bias.weight']);
    const r = loadStateDictFromSafetensors(m, goldenBytes('t5-bias-state-dict.safetensors'));
    expect(r.missingKeys).toEqual([]);
    expect(r.unexpectedKeys).toEqual([]);
    const out = m.call(c.query_length, c.key_length, { queryOffset: c.offset });
    expectClose(out.dataSync(), golden('t5_bias_enc.output').data);
  });

  it('defaults the query offset to the decoding convention (queries are the last Tq keys)', () => {
    const m = build(goldenConfig<BiasCase>('t5_bias_dec'));
    expectClose(m.call(3, 11).dataSync(), m.call(3, 11, { queryOffset: 8 }).dataSync(), { rtol: 0, atol: 0 });
  });

  it('gradcheck (float64 central differences) of the bias table', () => {
    const c = goldenConfig<BiasCase>('t5_bias_dec');
    const m = build(c, 'float64');
    expectParamGradcheck(m, m.relativeAttentionBias.weight, () => weightedSum(m.call(4, 9, { queryOffset: 5 })));
  });

  it('rejects bad options with named messages', () => {
    expect(() => new T5RelativePositionBias({ numHeads: 0 })).toThrow(/opts.numHeads to be an integer >= 1; got 0/);
    expect(() => new T5RelativePositionBias({ numHeads: 2, numBuckets: 8, maxDistance: 2 })).toThrow(/maxDistance \(=2\) to exceed/);
  });
});
