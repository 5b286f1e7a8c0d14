/**
 * TransNormer's layer schedule (Qin et al. 2022, sec. 4): DiagAttention in the lower half of the layers (local
 * attention where dilution hurts most), NormAttention in the upper half. Layer i < floor(L / 2) is diag.
 */
import type { AttentionConfig, DiagAttentionConfig, NormAttentionConfig } from './attention-config.js';
import { checkInt } from './validate.js';

export interface TransNormerScheduleOptions {
  /** Options of the diag layers; default chunk 64. */
  readonly diag?: Omit<DiagAttentionConfig, 'type'>;
  /** Options of the norm layers; default rmsnorm, elu+1. */
  readonly norm?: Omit<NormAttentionConfig, 'type'>;
}

/** One attention config per layer: `createAttentionCore(schedule[i], dims)` builds layer i's core. */
export function transNormerSchedule(numLayers: number, opts: TransNormerScheduleOptions = {}): AttentionConfig[] {
  checkInt('transNormerSchedule', 'numLayers', numLayers);
  const half = Math.floor(numLayers / 2);
  return Array.from({ length: numLayers }, (_, i) =>
    i < half ? { type: 'diag' as const, chunkSize: 64, ...opts.diag } : { type: 'norm' as const, ...opts.norm },
  );
}
