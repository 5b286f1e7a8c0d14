import { describe, expect, it } from 'vitest';
import { ropeParameters } from '../src/index.js';
import { hfRopeOptions as toOptions, type HfRopeConfig as Cfg } from './hf-rope-config.js';
import { expectClose, golden, goldenConfig } from './helpers.js';

const CASES = ['default_64', 'default_10_base500k', 'linear_f4', 'dynamic_short', 'dynamic_long', 'yarn_f8', 'yarn_orig_mscale', 'yarn_no_truncate', 'llama3'];

describe('ropeParameters (HF modeling_rope_utils)', () => {
  for (const name of CASES) {
    it(`matches the reference inv_freq and attention scaling: ${name}`, () => {
      const o = toOptions(goldenConfig<Cfg>(`rope_${name}`));
      const p = ropeParameters(o.dim, { base: o.base, scaling: o.scaling, seqLen: o.seqLen });
      // Both sides are float64 evaluations of the same closed forms; only the operation order differs.
      expectClose(p.invFreq, golden(`rope_${name}.inv_freq`).data, { rtol: 1e-12, atol: 0 }, 'inv_freq');
      expect(p.attentionScaling).toBeCloseTo(golden(`rope_${name}.attention_factor`).data[0], 12);
    });
  }

  it('YaRN keeps high frequencies, interpolates low ones and scales attention by 0.1 ln s + 1', () => {
    const dflt = ropeParameters(64).invFreq;
    const y = ropeParameters(64, { scaling: { type: 'yarn', factor: 8, maxPositionEmbeddings: 4096 } });
    expect(y.invFreq[0]).toBe(dflt[0]);
    expect(y.invFreq[31]).toBeCloseTo(dflt[31] / 8, 15);
    expect(y.attentionScaling).toBeCloseTo(0.1 * Math.log(8) + 1, 15);
    for (let i = 0; i < 32; i++) {
      expect(y.invFreq[i]).toBeLessThanOrEqual(dflt[i]);
      expect(y.invFreq[i]).toBeGreaterThanOrEqual(dflt[i] / 8 - 1e-18);
    }
  });

  it('static NTK-aware scaling equals the default table at base * factor^(d/(d-2))', () => {
    const ntk = ropeParameters(32, { scaling: { type: 'ntk', factor: 4 } }).invFreq;
    expectClose(ntk, ropeParameters(32, { base: 10000 * 4 ** (32 / 30) }).invFreq, { rtol: 1e-14, atol: 0 });
  });

  it('rejects odd dims and unknown scaling types with named messages', () => {
    expect(() => ropeParameters(7)).toThrow(/rotary dim to be even .*got 7/);
    expect(() => ropeParameters(8, { scaling: { type: 'longrope' } as never })).toThrow(
      /opts.scaling.type to be one of 'default', 'linear', 'ntk', 'dynamic', 'yarn', 'llama3'; got "longrope"/,
    );
    expect(() => ropeParameters(8, { scaling: { type: 'linear' } as never })).toThrow(/opts.scaling.factor to be a finite number > 0; got undefined/);
    expect(() => ropeParameters(8, { scaling: { type: 'dynamic', factor: 2 } as never })).toThrow(/maxPositionEmbeddings to be an integer >= 1/);
  });
});
