/**
 * RoPE frequencies and context-extension scalings, matching HuggingFace transformers' rope parameter functions
 * (`modeling_rope_utils`: default, linear, dynamic, yarn, llama3), reimplemented in float64 from the papers:
 *
 * - default (Su et al. 2021, RoFormer, eq. 15): inv_freq_i = base^(-2i/d), i = 0 .. d/2 - 1.
 * - linear, position interpolation (Chen et al. 2023, "Extending Context Window of Large Language Models via
 *   Positional Interpolation"): inv_freq / factor, i.e. positions squeezed by `factor`.
 * - ntk, static NTK-aware scaling (bloc97 2023, as summarised in the YaRN paper, section 3.1):
 *   base' = base * factor^(d/(d-2)).
 * - dynamic NTK (Emozilla 2023; YaRN paper section 3.3): the NTK base change with a factor that grows with the
 *   sequence length L: base' = base * (factor L / Lmax - (factor - 1))^(d/(d-2)) when L > Lmax, else unchanged.
 * - yarn (Peng et al. 2024, "YaRN: Efficient Context Window Extension of Large Language Models", ICLR 2024):
 *   "NTK-by-parts" interpolation (eq. 18-20): dimensions that rotate fewer than beta_slow times in the original
 *   context are interpolated (/factor), those that rotate more than beta_fast times keep their frequency, with a
 *   linear ramp between; plus the attention temperature sqrt(1/t) = 0.1 ln(s) + 1 (eq. 22), returned as
 *   `attentionScaling` and applied to cos and sin (so to q.k twice, as HF does).
 * - llama3 (Meta 2024, Llama 3.1): wavelengths longer than Lorig / lowFreqFactor are divided by factor, shorter
 *   than Lorig / highFreqFactor kept, with a smooth blend in between.
 *
 * HF computes these tables in float32; we compute them in float64 (relative differences ~1e-7).
 */
import { checkInt, checkOneOf, checkPositive } from './validate.js';

/** Context-extension options, a discriminated union on `type` (HF's `rope_type`). */
export type RopeScaling =
  | { readonly type: 'default' }
  | { readonly type: 'linear'; readonly factor: number }
  | { readonly type: 'ntk'; readonly factor: number }
  | {
      readonly type: 'dynamic';
      readonly factor: number;
      /** The trained context length Lmax (HF config.max_position_embeddings). */
      readonly maxPositionEmbeddings: number;
    }
  | {
      readonly type: 'yarn';
      readonly factor: number;
      /** HF config.max_position_embeddings. */
      readonly maxPositionEmbeddings: number;
      /**
       * When given (DeepSeek-V3 style), the context is extended from this length and the factor is recomputed as
       * maxPositionEmbeddings / originalMaxPositionEmbeddings, as HF does.
       */
      readonly originalMaxPositionEmbeddings?: number;
      /** Rotations above which a dimension keeps its frequency (default 32). */
      readonly betaFast?: number;
      /** Rotations below which a dimension is fully interpolated (default 1). */
      readonly betaSlow?: number;
      readonly mscale?: number;
      readonly mscaleAllDim?: number;
      /** Overrides the attention scaling computed from the factor. */
      readonly attentionFactor?: number;
      /** Round the ramp bounds to integers (default true). */
      readonly truncate?: boolean;
    }
  | {
      readonly type: 'llama3';
      readonly factor: number;
      readonly lowFreqFactor: number;
      readonly highFreqFactor: number;
      readonly originalMaxPositionEmbeddings: number;
    };

export type RopeScalingType = RopeScaling['type'];
const TYPES: readonly RopeScalingType[] = ['default', 'linear', 'ntk', 'dynamic', 'yarn', 'llama3'];

export interface RopeParameters {
  /** Inverse frequencies (rotaryDim / 2), float64. */
  readonly invFreq: Float64Array;
  /** Multiplier of cos and sin (1 except YaRN). */
  readonly attentionScaling: number;
}

function defaultInvFreq(dim: number, base: number): Float64Array {
  return Float64Array.from({ length: dim / 2 }, (_, i) => 1 / base ** ((2 * i) / dim));
}

function yarnMscale(scale: number, mscale = 1): number {
  return scale <= 1 ? 1 : 0.1 * mscale * Math.log(scale) + 1;
}

/**
 * Inverse frequencies and attention scaling for a rotary dimension `dim` (even) and `base`.
 * `seqLen` matters only for 'dynamic' (the current sequence length; default maxPositionEmbeddings).
 */
export function ropeParameters(dim: number, opts: { base?: number; scaling?: RopeScaling; seqLen?: number } = {}): RopeParameters {
  const op = 'ropeParameters';
  checkInt(op, 'dim', dim);
  if (dim % 2 !== 0) throw new Error(`${op}: expected the rotary dim to be even (rotations act on pairs); got ${dim}`);
  const base = checkPositive(op, 'opts.base', opts.base ?? 10000);
  const s: RopeScaling = opts.scaling ?? { type: 'default' };
  const type = checkOneOf(op, 'opts.scaling.type', (s as { type?: unknown })?.type, TYPES);
  const factor = (): number => checkPositive(op, 'opts.scaling.factor', (s as { factor?: number }).factor);
  switch (type) {
    case 'default':
      return { invFreq: defaultInvFreq(dim, base), attentionScaling: 1 };
    case 'linear': {
      const f = factor();
      return { invFreq: defaultInvFreq(dim, base).map((v) => v / f), attentionScaling: 1 };
    }
    case 'ntk':
      return { invFreq: defaultInvFreq(dim, base * factor() ** (dim / (dim - 2))), attentionScaling: 1 };
    case 'dynamic': {
      const f = factor();
      const maxPos = checkInt(op, 'opts.scaling.maxPositionEmbeddings', (s as { maxPositionEmbeddings?: number }).maxPositionEmbeddings);
      const seqLen = opts.seqLen !== undefined && opts.seqLen > maxPos ? opts.seqLen : maxPos;
      const newBase = base * ((f * seqLen) / maxPos - (f - 1)) ** (dim / (dim - 2));
      return { invFreq: defaultInvFreq(dim, newBase), attentionScaling: 1 };
    }
    case 'yarn':
      return yarn(op, dim, base, s as Extract<RopeScaling, { type: 'yarn' }>);
    case 'llama3':
      return llama3(op, dim, base, s as Extract<RopeScaling, { type: 'llama3' }>);
  }
}

function yarn(op: string, dim: number, base: number, s: Extract<RopeScaling, { type: 'yarn' }>): RopeParameters {
  let factor = checkPositive(op, 'opts.scaling.factor', s.factor);
  const maxPos = checkInt(op, 'opts.scaling.maxPositionEmbeddings', s.maxPositionEmbeddings);
  let originalMaxPos = maxPos;
  if (s.originalMaxPositionEmbeddings !== undefined) {
    originalMaxPos = checkInt(op, 'opts.scaling.originalMaxPositionEmbeddings', s.originalMaxPositionEmbeddings);
    factor = maxPos / originalMaxPos;
  }
  let attentionScaling = s.attentionFactor;
  if (attentionScaling === undefined) {
    attentionScaling =
      s.mscale && s.mscaleAllDim ? yarnMscale(factor, s.mscale) / yarnMscale(factor, s.mscaleAllDim) : yarnMscale(factor);
  }
  const betaFast = checkPositive(op, 'opts.scaling.betaFast', s.betaFast ?? 32);
  const betaSlow = checkPositive(op, 'opts.scaling.betaSlow', s.betaSlow ?? 1);
  // The dimension index whose wavelength 2 pi base^(2i/d) fits `rotations` times into the original context (eq. 17).
  const correctionDim = (rotations: number) => (dim * Math.log(originalMaxPos / (rotations * 2 * Math.PI))) / (2 * Math.log(base));
  let low = correctionDim(betaFast);
  let high = correctionDim(betaSlow);
  if (s.truncate ?? true) {
    low = Math.floor(low);
    high = Math.ceil(high);
  }
  low = Math.max(low, 0);
  high = Math.min(high, dim - 1);
  if (low === high) high += 0.001; // avoids a zero-width ramp, as the reference does
  const invFreq = new Float64Array(dim / 2);
  for (let i = 0; i < dim / 2; i++) {
    const posFreq = base ** ((2 * i) / dim);
    const ramp = Math.min(Math.max((i - low) / (high - low), 0), 1);
    const extrapolation = 1 - ramp; // 1: keep the trained frequency; 0: interpolate by the factor
    invFreq[i] = (1 / (factor * posFreq)) * (1 - extrapolation) + (1 / posFreq) * extrapolation;
  }
  return { invFreq, attentionScaling };
}

function llama3(op: string, dim: number, base: number, s: Extract<RopeScaling, { type: 'llama3' }>): RopeParameters {
  const factor = checkPositive(op, 'opts.scaling.factor', s.factor);
  const lowFreqFactor = checkPositive(op, 'opts.scaling.lowFreqFactor', s.lowFreqFactor);
  const highFreqFactor = checkPositive(op, 'opts.scaling.highFreqFactor', s.highFreqFactor);
  if (highFreqFactor <= lowFreqFactor) {
    throw new Error(`${op}: expected opts.scaling.highFreqFactor (=${highFreqFactor}) > lowFreqFactor (=${lowFreqFactor})`);
  }
  const oldLen = checkInt(op, 'opts.scaling.originalMaxPositionEmbeddings', s.originalMaxPositionEmbeddings);
  const lowWavelen = oldLen / lowFreqFactor;
  const highWavelen = oldLen / highFreqFactor;
  const invFreq = defaultInvFreq(dim, base).map((f) => {
    const wavelen = (2 * Math.PI) / f;
    if (wavelen > lowWavelen) return f / factor;
    if (wavelen < highWavelen) return f;
    const smooth = (oldLen / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
    return ((1 - smooth) * f) / factor + smooth * f;
  });
  return { invFreq, attentionScaling: 1 };
}
