import { describe, expect, it } from 'vitest';
import { attentionTour } from '../src/tours/attention-tour.js';
import { ropeTour } from '../src/tours/rope-tour.js';
import { ssmTour } from '../src/tours/ssm-tour.js';
import { vitTour } from '../src/tours/vit-tour.js';

describe('demo tours', () => {
  it('RoPE: scores at the same offset m - n agree, at every absolute position', () => {
    const rows = ropeTour({ offset: 3 });
    expect(rows.map((r) => r.m - r.n)).toEqual([3, 3, 3, 3]);
    for (const r of rows) expect(r.score).toBeCloseTo(rows[0].score, 4);
    // A different offset gives a different score: the table is not constant by construction.
    expect(Math.abs(ropeTour({ offset: 7 })[0].score - rows[0].score)).toBeGreaterThan(1e-3);
  });

  it('SSMs: LegS memory improves with N, and parallel and recurrent modes agree', () => {
    const r = ssmTour();
    const errs = r.legsError.map((e) => e.maxError);
    expect(errs[errs.length - 1]).toBeLessThan(errs[0] / 10);
    expect(errs[3]).toBeLessThan(errs[2]);
    expect(r.s4dModeGap).toBeLessThan(1e-4);
    expect(r.mambaModeGap).toBeLessThan(1e-4);
  });

  it('CPVT: a PEG + GAP ViT trains on generated shapes and runs at a resolution it never saw', () => {
    const r = vitTour({ steps: 40, batchSize: 16, evalCount: 24 });
    expect(r.lastLoss).toBeLessThan(r.firstLoss);
    expect(r.accuracy.map((a) => a.size)).toEqual([32, 48]);
  });
});

describe('demo attention tour', () => {
  it('chunked softmax is exact, Performer improves with features, causal linear attention modes agree', () => {
    const r = attentionTour();
    const err = Object.fromEntries(r.variants.map((v) => [v.name, v.relErrorVsSoftmax]));
    expect(err['softmax, chunked (online)']).toBeLessThan(1e-5);
    expect(err['Performer, 256 features']).toBeLessThan(err['Performer, 16 features']);
    expect(r.causalModeGap).toBeLessThan(1e-4);
  });
});
